"""Money: rates as data, the quote, costs from the session reports, overruns, invoice lines and pay exports."""
