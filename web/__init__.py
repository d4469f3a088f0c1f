"""`postprod serve`: the coordinator's, technicians' and producers' web page over the same store and data."""
