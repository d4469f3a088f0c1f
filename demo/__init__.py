"""`postprod demo`: builds a small production and runs the whole pipeline on it."""
