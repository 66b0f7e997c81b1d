"""HS classification assistant: suggest HS 2022 codes for product descriptions and check that a
declared code fits its description, offline on the CPU.

`Classifier` scores every subheading with a packaged sentence-embedding model (all-MiniLM-L6-v2
run in NumPy, `encoder.py`) against the nomenclature's hierarchy and with BM25 over the
nomenclature and the packs' national tariff texts (`lexical.py`); the embedding index is built
once and cached (`index_cache.py`). `evaluation.py` measures it on labelled sets.

Layering: below `risk` and `revenue` (both use it), above `domain`; it reads national tariff
texts as plain mappings handed in by the wiring, so it imports neither.
"""
