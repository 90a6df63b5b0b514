"""pyrodis.models."""
