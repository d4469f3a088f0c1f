"""The `postprod` command line: one module per command under cli.commands, apart from the flows."""
