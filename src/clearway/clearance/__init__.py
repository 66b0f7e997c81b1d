"""clearance."""
