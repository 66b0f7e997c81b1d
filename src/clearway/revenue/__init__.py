"""revenue."""
