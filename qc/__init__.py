"""qc package."""
