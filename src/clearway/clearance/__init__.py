"""Clearance: the filing pipeline, the lifecycle handlers (arrivals, officer actions, holds)."""
