"""WCO Immediate Release Guidelines categories (UN/EDIFACT 7085) from the pack's threshold.

1 documents; 2 low value, nothing to collect at import; 3 low value, duty or tax to collect;
4 high value (full declaration).
"""

from __future__ import annotations

from decimal import Decimal

DOCUMENTS, LOW_VALUE_NON_DUTIABLE, LOW_VALUE_DUTIABLE, HIGH_VALUE = 1, 2, 3, 4


def irg_category(is_documents: bool, low_value: bool, collected_at_import: Decimal) -> int:
    """`low_value`: at or below the pack's `irg.low_value_threshold` (False when it has none)."""
    if is_documents:
        return DOCUMENTS
    if not low_value:
        return HIGH_VALUE
    return LOW_VALUE_DUTIABLE if collected_at_import > 0 else LOW_VALUE_NON_DUTIABLE
