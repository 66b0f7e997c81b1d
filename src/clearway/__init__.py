"""Clearway: a customs clearance engine for cross-border e-commerce."""

__version__ = "0.1.0"
