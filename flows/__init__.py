"""Prefect flows and the `postprod` command line, over the plain functions of the other packages."""

__version__ = "0.1.0"
