"""HTTP API for filers, agencies and officers (FastAPI, OpenAPI 3.1, problem+json errors)."""
