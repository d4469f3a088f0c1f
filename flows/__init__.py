"""Prefect flows over the plain functions of the domain packages."""
