"""pyrodis.inference."""
