"""Synthetic traffic: realistic filings with planted violations and their ground truth."""
