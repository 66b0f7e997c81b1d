"""Command line (Typer + Rich): serve, file, generate, demo, quote, risk, keys, db."""
