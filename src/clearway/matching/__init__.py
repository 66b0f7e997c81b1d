"""Multi-source matching: several parties' filings about one parcel merged into one record."""
