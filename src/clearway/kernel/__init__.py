"""Money, codes, clock, identifiers and errors shared by every capability. No framework imports."""
