"""conform package."""
