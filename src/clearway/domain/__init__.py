"""The domain: consignments, items, parties, filings, decisions, assessments, events. No I/O."""
