"""pyrodis.metrics."""
