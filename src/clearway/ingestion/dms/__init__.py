"""EU customs declarations in the WCO DMS XML of the Union's national systems (H7, H1).

`clearway.ingestion.h7` reads and writes the messages; this package holds what surrounds them:
where a problem sits in the declaration (`pointers`), who may use H7 (`eligibility`), the
movement reference number (`mrn`) and the answer a declarant's software reads (`answer`).
"""
