"""Risk profiles: dated rules written as YAML by risk analysts, evaluated on columns.

A profile file holds `watch_lists` (named lists of party names or identifiers) and `profiles`:

```yaml
profiles:
  - id: DG-LITHIUM
    owner: dangerous-goods unit
    reason: Lithium batteries need a dangerous-goods declaration
    from: 2024-01-01          # active from this legal date…
    until: 2030-01-01         # …until this one (exclusive, optional)
    weight: 30                # risk points added on a hit
    lane: yellow              # optional: a lane the hit forces at least
    referral: request_for_screening   # optional: a pre-loading referral it forces at least
    data_sets: [pre_loading, reduced, full]   # optional, default all
    when:                     # all must hold for one item (consignment fields apply to all items)
      - {field: item.description, regex: "lithium|li-ion"}
      - any:
          - {field: mode, in: [air_cargo, express]}
          - {field: item.hs_code, hs_prefix: ["8507"]}
```

Conditions: `equals`, `not_equals`, `in`, `not_in`, `hs_prefix`, `not_hs_prefix`, `regex`
(case-insensitive search), `min`/`max` (numeric range, min inclusive, max exclusive), `empty`,
`below_reference` (ratio of a unit value to the HS6 reference price from history),
`watch_list` (normalised name in a named list), `sanctioned` (fuzzy match against the sanctions
list, with a minimum score), `new_party` (an entity kind never seen before or unnamed),
`same_day` (a consignee's parcels from one seller on one day, in the batch and in history, add
up above a threshold per destination currency), `unusual_hs` (the item's HS chapter is rarely
declared in history for the same description), `hs_fit` (the HS classifier gives the declared
code's chapter less than a calibrated probability for the description, `hs_fit.py`), and the
combinators `any` and `not`. A bad file
fails at load time with the file and profile named.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import yaml

from clearway.domain.decision import LANE_ORDER, REFERRAL_ORDER
from clearway.risk import hs_fit
from clearway.risk.columns import Columns, normalise_name
from clearway.risk.history import (
    KEY_SEPARATOR,
    HistoryProvider,
    SameDayKey,
)
from clearway.risk.hs_fit import FitSource
from clearway.risk.overrides import BatchOverrides
from clearway.risk.sanctions import SanctionsHit, SanctionsList

BoolArray = npt.NDArray[np.bool_]
DATA_SETS = ("pre_loading", "reduced", "full")
_FAR_FUTURE = date(9999, 12, 31)


class ProfileError(ValueError):
    """A profile file is malformed; the message names the file and the profile."""


@dataclass
class Context:
    """What conditions may consult besides the columns. Built once per batch."""

    columns: Columns
    history: HistoryProvider | None
    sanctions: SanctionsList | None
    watch_lists: Mapping[str, frozenset[str]]
    # item row -> sanctions hit, filled by `sanctioned` conditions for reason texts
    sanction_hits: dict[int, SanctionsHit] = field(default_factory=dict)
    # per-batch answers shared by the profiles that ask the same question
    cache: dict[str, Any] = field(default_factory=dict)
    # the HS classifier for `hs_fit` conditions (built on first use), and the reason details
    # those conditions leave per profile: {where: {item row: text}}
    fit: FitSource | None = None
    details: dict[str, dict[int, str]] = field(default_factory=dict)


Condition = Callable[[Context], BoolArray]  # one bool per item row


@dataclass(frozen=True)
class Profile:
    id: str
    owner: str
    reason: str
    valid_from: date
    valid_until: date
    weight: float
    condition: Condition
    lane: str | None = None
    referral: str | None = None
    data_sets: frozenset[str] = frozenset(DATA_SETS)
    source: str = ""


@dataclass(frozen=True)
class ProfileSet:
    profiles: tuple[Profile, ...]
    watch_lists: Mapping[str, frozenset[str]]
    # the entity kinds the conditions look up in history (`HistoryProvider.entity_stats`)
    history_kinds: frozenset[str] = frozenset()

    def evaluate(
        self,
        columns: Columns,
        *,
        history: HistoryProvider | None,
        sanctions: SanctionsList | None,
        overrides: BatchOverrides | None = None,
        fit: FitSource | None = None,
    ) -> tuple[list[tuple[Profile, BoolArray]], Context]:
        """Hit masks (one bool per consignment) for every profile with at least one hit.

        A profile applies to a consignment when its legal date is within the profile's dates,
        or, where `overrides` has an edited version in force that day, when that version is
        active."""
        ctx = Context(columns, history, sanctions, self.watch_lists, fit=fit)
        if columns.n == 0:
            return [], ctx
        legal = np.asarray([r.legal_date.toordinal() for r in columns.inputs], dtype=np.int64)
        data_set = columns.consignment("data_set")
        hits: list[tuple[Profile, BoolArray]] = []
        for profile in self.profiles:
            active = (legal >= profile.valid_from.toordinal()) & (
                legal < profile.valid_until.toordinal()
            )
            if overrides is not None:
                active = overrides.active(profile.id, active)
            if len(profile.data_sets) < len(DATA_SETS):
                active &= np.isin(data_set, list(profile.data_sets))
            if not active.any():
                continue
            mask = columns.any_per_consignment(profile.condition(ctx)) & active
            if mask.any():
                hits.append((profile, mask))
        return hits, ctx


# --- conditions --------------------------------------------------------------------------------


def _strings(ctx: Context, name: str) -> npt.NDArray[np.object_]:
    return ctx.columns.item(name).astype(object)


def _numbers(ctx: Context, name: str) -> npt.NDArray[np.float64]:
    return ctx.columns.item(name).astype(np.float64)


def _cond_in(name: str, values: Iterable[Any], negate: bool) -> Condition:
    wanted = frozenset(str(v) for v in values)

    def cond(ctx: Context) -> BoolArray:
        values, inverse = _distinct(ctx, name)
        hits = np.fromiter((v in wanted for v in values), dtype=bool, count=len(values))
        mask = hits[inverse]
        return ~mask if negate else mask

    return cond


def _cond_hs_prefix(name: str, prefixes: Iterable[Any], negate: bool) -> Condition:
    wanted = tuple(str(p).replace(".", "") for p in prefixes)

    def cond(ctx: Context) -> BoolArray:
        values, inverse = _distinct(ctx, name)
        hits = np.fromiter(
            (str(v).startswith(wanted) for v in values), dtype=bool, count=len(values)
        )
        if negate:  # "not in these headings" needs a code to be meaningful
            present = np.fromiter((bool(v) for v in values), dtype=bool, count=len(values))
            hits = ~hits & present
        return hits[inverse]

    return cond


def _distinct(ctx: Context, name: str) -> tuple[list[Any], npt.NDArray[np.int64]]:
    """A column's distinct values and, per row, the index of its value: worked out once per
    batch and field, shared by every profile that searches the field."""
    key = f"distinct:{name}"
    found = ctx.cache.get(key)
    if found is None:
        col = _strings(ctx, name)
        if ctx.columns.item(name).dtype == object and not pd.isna(col).any():
            # text: hashed in one pass, values in order of first appearance
            codes, uniques = pd.factorize(col)
            found = ctx.cache[key] = (list(uniques), codes.astype(np.int64))
            return found
        index: dict[Any, int] = {}
        inverse = np.fromiter(
            (index.setdefault(v, len(index)) for v in col), dtype=np.int64, count=len(col)
        )
        found = ctx.cache[key] = (list(index), inverse)
    return found


def _cond_regex(name: str, pattern: str) -> Condition:
    rx = re.compile(pattern, re.IGNORECASE)
    search = rx.search

    def cond(ctx: Context) -> BoolArray:
        # a batch repeats descriptions: each distinct text is searched once
        values, inverse = _distinct(ctx, name)
        hits = np.fromiter((search(v) is not None for v in values), dtype=bool, count=len(values))
        return hits[inverse]

    return cond


def _cond_range(name: str, low: float | None, high: float | None) -> Condition:
    def cond(ctx: Context) -> BoolArray:
        col = _numbers(ctx, name)
        mask = ~np.isnan(col)
        if low is not None:
            mask &= col >= low
        if high is not None:
            mask &= col < high
        return mask

    return cond


def _cond_empty(name: str, want: bool) -> Condition:
    def cond(ctx: Context) -> BoolArray:
        col = ctx.columns.item(name)
        if col.dtype == np.float64:
            mask = np.isnan(col.astype(np.float64))
        else:
            values, inverse = _distinct(ctx, name)
            mask = np.fromiter((not v for v in values), dtype=bool, count=len(values))[inverse]
        return mask if want else ~mask

    return cond


def _cond_below_reference(name: str, ratio: float) -> Condition:
    """Declared unit value below `ratio` x the reference unit price of the item's HS6."""
    currency_field = "dest_currency" if name.endswith("_dest") else "currency"

    def cond(ctx: Context) -> BoolArray:
        values = _numbers(ctx, name)
        mask = np.zeros(len(values), dtype=bool)
        if ctx.history is None:
            return mask
        hs6 = _strings(ctx, "item.hs6")
        currencies = ctx.columns.item(currency_field)
        reference = np.full(len(values), np.nan)
        for cur in set(currencies.tolist()):
            rows = np.flatnonzero(currencies == cur)
            prices = ctx.history.reference_unit_prices({str(hs6[i]) for i in rows}, str(cur))
            if prices:
                reference[rows] = [prices.get(str(hs6[i]), np.nan) for i in rows]
        with np.errstate(invalid="ignore"):
            below: BoolArray = (values < ratio * reference) & (reference > 0)
        return below

    return cond


def _cond_watch_list(name: str, list_name: str) -> Condition:
    def cond(ctx: Context) -> BoolArray:
        listed = ctx.watch_lists.get(list_name, frozenset())
        values, inverse = _distinct(ctx, name)
        hits = np.fromiter(
            (bool(v) and normalise_name(str(v)) in listed for v in values),
            dtype=bool,
            count=len(values),
        )
        return hits[inverse]

    return cond


def _cond_sanctioned(name: str, min_score: float) -> Condition:
    def cond(ctx: Context) -> BoolArray:
        col = _strings(ctx, name)
        mask = np.zeros(len(col), dtype=bool)
        if ctx.sanctions is None:
            return mask
        for row, value in enumerate(col):
            if not value:
                continue
            hit = ctx.sanctions.match(str(value))
            if hit is not None and hit.score >= min_score:
                mask[row] = True
                ctx.sanction_hits.setdefault(row, hit)
        return mask

    return cond


_PARTY_KEYS = {
    "seller": "seller.key",
    "consignee": "consignee.key",
    "consignor": "consignor.key",
    "filer": "filer",
    "route": "route",
}


def _cond_new_party(kind: str) -> Condition:
    if kind not in _PARTY_KEYS:
        raise ProfileError(f"new_party: unknown kind {kind!r} (one of {sorted(_PARTY_KEYS)})")
    column = _PARTY_KEYS[kind]

    def cond(ctx: Context) -> BoolArray:
        keys = ctx.columns.consignment(column).astype(object)
        if ctx.history is None:
            known: Mapping[str, Any] = {}
        else:
            known = ctx.history.entity_stats(kind, {str(k) for k in keys if k})
        new = np.fromiter(
            (not k or (k not in known or known[k].seen == 0) for k in keys),
            dtype=bool,
            count=len(keys),
        )
        return new[ctx.columns.item_owner]

    return cond


def _same_day_totals(ctx: Context) -> npt.NDArray[np.float64]:
    """Consignments of the batch grouped by consignee+seller+day, with their stored totals
    folded in: per consignment the group's total value (destination currency) and count (NaN
    outside any group). Asked once per batch, whatever the number of profiles."""
    if "same_day" in ctx.cache:
        cached: npt.NDArray[np.float64] = ctx.cache["same_day"]
        return cached
    cols = ctx.columns
    consignee = cols.consignment("consignee.identity")
    seller = cols.consignment("seller.identity")
    data_set = cols.consignment("data_set")
    value = cols.consignment("value_dest").astype(np.float64)
    same_currency = cols.consignment("currency") == cols.consignment("dest_currency")
    fallback = cols.consignment("value").astype(np.float64)
    value = np.where(np.isnan(value) & same_currency, fallback, value)
    ctx.cache["same_day_value"] = value
    totals = np.full((cols.n, 2), np.nan)  # total value, consignments
    ctx.cache["same_day"] = totals
    rows = np.flatnonzero(
        consignee.astype(bool) & seller.astype(bool) & (data_set != "pre_loading")
    )
    if not len(rows):
        return totals
    # one group number per consignee+seller+day, numbered in order of first appearance
    day = np.fromiter(
        (cols.inputs[int(i)].legal_date.toordinal() for i in rows), np.int64, len(rows)
    )
    who, _ = pd.factorize(consignee[rows])
    whom, _ = pd.factorize(seller[rows])
    when, _ = pd.factorize(day)
    combined = (who.astype(np.int64) * (whom.max() + 1) + whom) * (when.max() + 1) + when
    group, _ = pd.factorize(combined)
    first_row = rows[np.unique(group, return_index=True)[1]]
    keys = [
        SameDayKey(str(consignee[i]), str(seller[i]), cols.inputs[int(i)].legal_date)
        for i in first_row
    ]
    size = np.bincount(group, minlength=len(keys))
    # each group's value in row order, missing values as 0 (as np.nansum adds them); groups of
    # three or more are summed by np.nansum itself, whose order of additions differs
    total = np.bincount(group, weights=np.nan_to_num(value[rows], nan=0.0), minlength=len(keys))
    for big in np.flatnonzero(size >= 3):
        total[big] = float(np.nansum(value[rows[group == big]]))
    before_value = np.zeros(len(keys))
    before_count = np.zeros(len(keys))
    if ctx.history is not None:
        ids = [r.consignment_id for r in cols.inputs]
        stored = ctx.history.same_day_totals(keys, exclude=ids)
        if stored:
            for g, key in enumerate(keys):
                earlier = stored.get(key)
                if earlier is not None:
                    before_value[g] = earlier.value
                    before_count[g] = earlier.consignments
    totals[rows, 0] = (before_value + total)[group]
    totals[rows, 1] = (before_count + size)[group]
    return totals


def _cond_same_day(spec: Any, where: str) -> Condition:
    """Split shipments: parcels each at or under the threshold, together above it."""
    if not isinstance(spec, dict) or not isinstance(spec.get("above"), dict):
        raise ProfileError(f"{where}: same_day needs `above: {{currency: threshold}}`")
    above = {str(k): float(v) for k, v in spec["above"].items()}
    min_count = int(spec.get("min_consignments", 2))

    def cond(ctx: Context) -> BoolArray:
        totals = _same_day_totals(ctx)
        value: npt.NDArray[np.float64] = ctx.cache["same_day_value"]
        currency = ctx.columns.consignment("dest_currency")
        limit = np.fromiter(
            (above.get(str(c), np.nan) for c in currency), np.float64, len(currency)
        )
        with np.errstate(invalid="ignore"):
            hit = (totals[:, 1] >= min_count) & (totals[:, 0] > limit) & (value <= limit)
        return hit[ctx.columns.item_owner]

    return cond


def _cond_unusual_hs(spec: Any, where: str) -> Condition:
    """The item's HS chapter is declared for under `below` of the history's items with the
    same description (given at least `min_seen` of them)."""
    if not isinstance(spec, dict) or "below" not in spec:
        raise ProfileError(f"{where}: unusual_hs needs `below` (a share) and `min_seen`")
    below = float(spec["below"])
    min_seen = int(spec.get("min_seen", 20))

    def cond(ctx: Context) -> BoolArray:
        desc = ctx.columns.item("item.description_key").astype(object)
        mask = np.zeros(len(desc), dtype=bool)
        if ctx.history is None:
            return mask
        hs6 = ctx.columns.item("item.hs6").astype(object)
        pairs = [
            f"{d}{KEY_SEPARATOR}{str(h)[:2]}" if d and h else ""
            for d, h in zip(desc, hs6, strict=True)
        ]
        seen = ctx.history.entity_stats("description", {str(d) for d in desc if d})
        paired = ctx.history.entity_stats("description+hs2", {p for p in pairs if p})
        for row, (d, p) in enumerate(zip(desc, pairs, strict=True)):
            if not p or d not in seen or seen[d].seen < min_seen:
                continue
            with_chapter = paired[p].seen if p in paired else 0
            mask[row] = with_chapter < below * seen[d].seen
        return mask

    return cond


def _cond_hs_fit(spec: Any, where: str) -> Condition:
    """The declared HS code's chapter gets under `below` of the classifier's probability for
    the item's description (`risk.hs_fit`); descriptions with fewer than `min_words` words the
    classifier knows are left alone (the vague-description profile covers them)."""
    if not isinstance(spec, dict) or "below" not in spec:
        raise ProfileError(f"{where}: hs_fit needs `below` (a probability) and `min_words`")
    below = float(spec["below"])
    min_words = int(spec.get("min_words", 2))
    if not 0 < below < 1:
        raise ProfileError(f"{where}: hs_fit `below` is a probability between 0 and 1")

    def cond(ctx: Context) -> BoolArray:
        desc = ctx.columns.item("item.description")
        if ctx.fit is None:
            return np.zeros(len(desc), dtype=bool)
        codes = ctx.columns.item("item.hs_code")
        mask, details = hs_fit.check(ctx.fit(), list(desc), list(codes), below, min_words)
        ctx.details.setdefault(where, {}).update(details)
        return mask

    return cond


def compile_condition(spec: Any, where: str) -> Condition:
    """Turn one YAML condition (or a list, meaning all of them) into a column function."""
    if isinstance(spec, list):
        parts = [compile_condition(s, where) for s in spec]
        if not parts:
            raise ProfileError(f"{where}: empty condition list")

        def all_of(ctx: Context) -> BoolArray:
            mask = parts[0](ctx)
            for p in parts[1:]:
                if not mask.any():
                    break
                mask = mask & p(ctx)
            return mask

        return all_of
    if not isinstance(spec, dict):
        raise ProfileError(f"{where}: a condition is a mapping, got {spec!r}")
    if "any" in spec:
        options = [compile_condition(s, where) for s in spec["any"]]

        def any_of(ctx: Context) -> BoolArray:
            mask = options[0](ctx)
            for o in options[1:]:
                mask = mask | o(ctx)
            return mask

        return any_of
    if "not" in spec:
        inner = compile_condition(spec["not"], where)
        return lambda ctx: ~inner(ctx)
    if "new_party" in spec:
        return _cond_new_party(str(spec["new_party"]))
    if "same_day" in spec:
        return _cond_same_day(spec["same_day"], where)
    if "unusual_hs" in spec:
        return _cond_unusual_hs(spec["unusual_hs"], where)
    if "hs_fit" in spec:
        return _cond_hs_fit(spec["hs_fit"], where)
    name = spec.get("field")
    if not isinstance(name, str):
        raise ProfileError(f"{where}: condition needs a field: {spec!r}")
    probe = Columns([])
    if not probe.has_field(name):
        raise ProfileError(f"{where}: unknown field {name!r}")
    ops = set(spec) - {"field"}
    if "min" in ops or "max" in ops:
        return _cond_range(name, _num(spec.get("min")), _num(spec.get("max")))
    if len(ops) != 1:
        raise ProfileError(f"{where}: one operator per condition, got {sorted(ops)}")
    op = ops.pop()
    arg = spec[op]
    builders: dict[str, Callable[[], Condition]] = {
        "equals": lambda: _cond_in(name, [arg], False),
        "not_equals": lambda: _cond_in(name, [arg], True),
        "in": lambda: _cond_in(name, arg, False),
        "not_in": lambda: _cond_in(name, arg, True),
        "hs_prefix": lambda: _cond_hs_prefix(name, _listify(arg), False),
        "not_hs_prefix": lambda: _cond_hs_prefix(name, _listify(arg), True),
        "regex": lambda: _cond_regex(name, str(arg)),
        "empty": lambda: _cond_empty(name, bool(arg)),
        "below_reference": lambda: _cond_below_reference(name, float(arg)),
        "watch_list": lambda: _cond_watch_list(name, str(arg)),
        "sanctioned": lambda: _cond_sanctioned(name, float(arg)),
    }
    if op not in builders:
        raise ProfileError(f"{where}: unknown operator {op!r}")
    try:
        return builders[op]()
    except re.error as exc:
        raise ProfileError(f"{where}: bad regex: {exc}") from exc


def history_kinds(spec: Any) -> set[str]:
    """The entity kinds a YAML condition asks the history provider for."""
    if isinstance(spec, list):
        return {k for s in spec for k in history_kinds(s)}
    if not isinstance(spec, dict):
        return set()
    if "any" in spec:
        return history_kinds(spec["any"])
    if "not" in spec:
        return history_kinds(spec["not"])
    if "new_party" in spec:
        return {str(spec["new_party"])}
    if "unusual_hs" in spec:
        return {"description", "description+hs2"}
    return set()


def _num(v: Any) -> float | None:
    return None if v is None else float(v)


def _listify(v: Any) -> list[Any]:
    return list(v) if isinstance(v, list | tuple) else [v]


# --- loading -----------------------------------------------------------------------------------


def _date(v: Any, where: str, default: date) -> date:
    if v is None:
        return default
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v))
    except ValueError as exc:
        raise ProfileError(f"{where}: bad date {v!r}") from exc


def parse_profiles(data: Mapping[str, Any], source: str) -> ProfileSet:
    """Profiles from one parsed YAML document."""
    watch_lists = {
        str(name): frozenset(normalise_name(str(v)) for v in values)
        for name, values in (data.get("watch_lists") or {}).items()
    }
    profiles: list[Profile] = []
    kinds: set[str] = set()
    for raw in data.get("profiles") or []:
        pid = raw.get("id") if isinstance(raw, dict) else None
        where = f"{source}: profile {pid or '?'}"
        if not pid:
            raise ProfileError(f"{where}: missing id")
        for key in ("owner", "reason", "when"):
            if key not in raw:
                raise ProfileError(f"{where}: missing {key}")
        lane, referral = raw.get("lane"), raw.get("referral")
        if lane is not None and lane not in LANE_ORDER:
            raise ProfileError(f"{where}: unknown lane {lane!r}")
        if referral is not None and referral not in REFERRAL_ORDER:
            raise ProfileError(f"{where}: unknown referral {referral!r}")
        data_sets = frozenset(raw.get("data_sets") or DATA_SETS)
        if not data_sets <= set(DATA_SETS):
            raise ProfileError(f"{where}: unknown data set in {sorted(data_sets)}")
        valid_from = _date(raw.get("from"), where, date.min)
        valid_until = _date(raw.get("until"), where, _FAR_FUTURE)
        if valid_until <= valid_from:
            raise ProfileError(f"{where}: until must be after from")
        kinds |= history_kinds(raw["when"])
        profiles.append(
            Profile(
                id=str(pid),
                owner=str(raw["owner"]),
                reason=str(raw["reason"]).strip(),
                valid_from=valid_from,
                valid_until=valid_until,
                weight=float(raw.get("weight", 0.0)),
                condition=compile_condition(raw["when"], where),
                lane=lane,
                referral=referral,
                data_sets=data_sets,
                source=source,
            )
        )
    return ProfileSet(tuple(profiles), watch_lists, frozenset(kinds))


def merge(sets: Sequence[ProfileSet]) -> ProfileSet:
    ids: set[str] = set()
    profiles: list[Profile] = []
    watch: dict[str, frozenset[str]] = {}
    kinds: frozenset[str] = frozenset()
    for s in sets:
        kinds |= s.history_kinds
        for p in s.profiles:
            if p.id in ids:
                raise ProfileError(f"{p.source}: profile {p.id} defined twice")
            ids.add(p.id)
            profiles.append(p)
        for name, values in s.watch_lists.items():
            watch[name] = watch.get(name, frozenset()) | values
    return ProfileSet(tuple(profiles), watch, kinds)


def load_profiles(paths: Iterable[Path]) -> ProfileSet:
    sets = []
    for path in sorted(paths):
        with path.open(encoding="utf-8") as f:
            sets.append(parse_profiles(yaml.safe_load(f) or {}, path.name))
    return merge(sets)


def default_profiles() -> ProfileSet:
    """The profiles shipped in `clearway/risk/profiles/*.yaml`."""
    folder = resources.files("clearway.risk").joinpath("profiles")
    sets = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            sets.append(parse_profiles(yaml.safe_load(entry.read_text("utf-8")) or {}, entry.name))
    return merge(sets)
