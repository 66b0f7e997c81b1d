"""Pre-loading security referrals (ICS2 style), answered within the filing call.

A `pre_loading` filing carries the security minimum (7+1 data): consignor and consignee name and
address, goods description, HS code (6 digits for express), and the transport ids. The referral
is the most severe of:
- a profile's forced referral (`do_not_load` for explosives and firearms, `request_for_screening`
  for sanctioned parties, embargoed routes, dangerous goods…);
- `request_for_screening` when the risk points reach the policy's screening threshold;
- `request_for_information` when security data is missing or too vague, or points reach the
  information threshold;
- otherwise `assessment_complete`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from clearway.domain.decision import REFERRAL_ORDER
from clearway.domain.text import too_short
from clearway.risk.columns import Columns
from clearway.risk.selection import SelectionPolicy

BoolArray = npt.NDArray[np.bool_]
_REFERRALS_BY_ORDER = {v: k for k, v in REFERRAL_ORDER.items()}


@dataclass(frozen=True, slots=True)
class MissingData:
    code: str
    path: str
    text: str


# (field, path, text) of the security minimum; HS is asked for only from express/air carriers.
_REQUIRED: tuple[tuple[str, str, str], ...] = (
    ("consignor.name", "consignor/name", "consignor name missing"),
    ("consignor.address", "consignor/address", "consignor address missing"),
    ("consignee.name", "consignee/name", "consignee name missing"),
    ("consignee.address", "consignee/address", "consignee address missing"),
)


def missing_security_data(columns: Columns) -> list[tuple[MissingData, BoolArray]]:
    """Masks (per consignment) of missing security-minimum data elements."""
    out: list[tuple[MissingData, BoolArray]] = []
    for name, path, text in _REQUIRED:
        col = columns.consignment(name)
        mask = np.fromiter((not v for v in col), dtype=bool, count=len(col))
        if mask.any():
            out.append((MissingData("security_data_missing", path, text), mask))
    mode = columns.item("mode")
    hs = columns.item("item.hs_code")
    desc = columns.item("item.description")
    no_hs = np.fromiter(
        (m in ("express", "air_cargo") and len(str(h)) < 6 for m, h in zip(mode, hs, strict=True)),
        dtype=bool,
        count=len(hs),
    )
    if no_hs.any():
        out.append(
            (
                MissingData("security_data_missing", "items/hs_code", "6-digit HS code missing"),
                columns.any_per_consignment(no_hs),
            )
        )
    # the same script-aware minimum as filing validation: 面膜 is a description, "ab" is not
    no_desc = np.fromiter((too_short(str(d)) for d in desc), dtype=bool, count=len(desc))
    if no_desc.any():
        out.append(
            (
                MissingData("security_data_missing", "items/description", "description missing"),
                columns.any_per_consignment(no_desc),
            )
        )
    return out


def referral_from_points(
    points: npt.NDArray[np.float64], policy: SelectionPolicy
) -> npt.NDArray[np.int64]:
    """Referral order (see REFERRAL_ORDER) from risk points alone."""
    out = np.full(len(points), REFERRAL_ORDER["assessment_complete"], dtype=np.int64)
    out[points >= policy.information_points] = REFERRAL_ORDER["request_for_information"]
    out[points >= policy.screening_points] = REFERRAL_ORDER["request_for_screening"]
    return out


def referral_name(order: int) -> str:
    return _REFERRALS_BY_ORDER[int(order)]
