"""pyrodis.diagnostics."""
