"""De minimis what-if: re-assess a period's stored parcels under alternative legislation.

A study file (YAML, see docs/statistics.md) lists scenarios; each overlays the shipped packs
(thresholds, valuation bases, collection rules — any pack parameter) and may make every parcel
declare one collection model. Every scenario, and the baseline (the packs as shipped), re-assesses
the same parcels read from the snapshot's `documents` table, so differences come from the
legislation alone. Per scenario: revenue per currency, parcels that become dutiable / taxable,
workload (declarations, border payments, collections on delivery, periodic returns) and the
collection cost per parcel from the study's unit costs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

import msgspec
import yaml

from clearway.domain.assessment import MANUAL_ASSESSMENT, Assessment
from clearway.domain.filing import Collection, FilingDocument
from clearway.kernel.codes import is_currency
from clearway.kernel.errors import DomainError
from clearway.revenue.assessor import PackAssessor
from clearway.revenue.overrides import assessor_for, overlay_packs
from clearway.revenue.packs import PackError
from clearway.statistics.snapshot import Snapshot

BASELINE: Final = "baseline"
MODELS: Final = ("vendor", "intermediary", "consumer")
COST_KEYS: Final = (
    "per_declaration",
    "per_border_payment",
    "per_delivery_collection",
    "per_periodic_return",
)
WORKLOAD: Final = ("declarations", "border_payments", "delivery_collections", "periodic_returns")
_DOC = msgspec.json.Decoder(FilingDocument)
_TAX_KINDS: Final = ("vat", "consumption_tax", "excise")


class StudyError(DomainError):
    """The study file is not valid; the message names the file and the line."""

    problem_type = "invalid-study"

    def __init__(self, file: Path, line: int, detail: str) -> None:
        super().__init__(f"{file}:{line}: {detail}")


@dataclass(frozen=True, slots=True)
class Costs:
    """Unit costs of collection work, in one currency (the study's assumptions, with a source)."""

    currency: str = "EUR"
    per_declaration: Decimal = Decimal(0)
    per_border_payment: Decimal = Decimal(0)
    per_delivery_collection: Decimal = Decimal(0)
    per_periodic_return: Decimal = Decimal(0)
    reference: str | None = None


@dataclass(slots=True)
class Scenario:
    name: str
    description: str = ""
    packs: yaml.Node | None = None
    declared_collection: str | None = None


@dataclass(slots=True)
class Study:
    file: Path
    title: str
    costs: Costs
    scenarios: list[Scenario]


@dataclass(slots=True)
class ScenarioResult:
    name: str
    description: str
    parcels: int = 0
    revenue: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # currency → amounts
    dutiable: int = 0
    taxable: int = 0
    owing: int = 0
    unassessed: int = 0  # the calculator could not compute them (counted as owing nothing)
    became_dutiable: int = 0
    became_taxable: int = 0
    no_longer_dutiable: int = 0
    no_longer_taxable: int = 0
    workload: dict[str, int] = field(default_factory=dict)
    cost_currency: str = "EUR"
    collection_cost: Decimal = Decimal(0)
    cost_per_parcel: Decimal = Decimal(0)
    cost_per_owing_parcel: Decimal = Decimal(0)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = msgspec.to_builtins(
            {k: getattr(self, k) for k in self.__dataclass_fields__}
        )
        return out


# ---------------------------------------------------------------- the study file
def _plain(node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return {str(k.value): _plain(v) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [_plain(v) for v in node.value]
    return None if node.tag.endswith(":null") else node.value


def _map(node: yaml.Node, file: Path, what: str) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        raise StudyError(file, node.start_mark.line + 1, f"{what} must be a mapping")
    return {str(k.value): v for k, v in node.value}


def load_study(path: Path) -> Study:
    """Read and validate a study file (scenarios are checked against the packs when run)."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except OSError as exc:
        raise StudyError(path, 0, f"cannot read: {exc.strerror}") from None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise StudyError(path, line, f"not valid YAML: {exc.problem}") from None
    if root is None:
        raise StudyError(path, 1, "empty study file")
    top = _map(root, path, "a study")
    unknown = set(top) - {"study", "costs", "scenarios"}
    if unknown:
        raise StudyError(path, 1, f"unknown keys {sorted(unknown)}; keys: study, costs, scenarios")
    costs = _costs(top["costs"], path) if "costs" in top else Costs()
    scenarios_node = top.get("scenarios")
    if not isinstance(scenarios_node, yaml.SequenceNode) or not scenarios_node.value:
        raise StudyError(path, 1, "`scenarios` must be a non-empty list")
    scenarios: list[Scenario] = []
    for node in scenarios_node.value:
        line = node.start_mark.line + 1
        spec = _map(node, path, "a scenario")
        unknown = set(spec) - {"name", "description", "packs", "declared_collection"}
        if unknown:
            raise StudyError(path, line, f"unknown scenario keys {sorted(unknown)}")
        name = str(_plain(spec["name"])) if "name" in spec else ""
        if not name or name == BASELINE or name in {s.name for s in scenarios}:
            raise StudyError(path, line, f"each scenario needs a unique name (not {BASELINE!r})")
        model = _plain(spec["declared_collection"]) if "declared_collection" in spec else None
        if model is not None and model not in MODELS:
            raise StudyError(path, line, f"declared_collection is one of {', '.join(MODELS)}")
        scenarios.append(
            Scenario(
                name,
                str(_plain(spec["description"]) or "") if "description" in spec else "",
                spec.get("packs"),
                model,
            )
        )
    title = str(_plain(top["study"])) if "study" in top else path.stem
    return Study(path, title, costs, scenarios)


def _costs(node: yaml.Node, file: Path) -> Costs:
    spec = _plain(node)
    line = node.start_mark.line + 1
    if not isinstance(spec, dict):
        raise StudyError(file, line, "costs must be a mapping")
    unknown = set(spec) - {"currency", "reference", *COST_KEYS}
    if unknown:
        raise StudyError(file, line, f"unknown cost keys {sorted(unknown)}")
    currency = str(spec.get("currency", "EUR"))
    if not is_currency(currency):
        raise StudyError(file, line, f"unknown currency {currency!r}")
    values: dict[str, Decimal] = {}
    for key in COST_KEYS:
        raw = spec.get(key, "0")
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise StudyError(file, line, f"{key} must be a decimal string, not {raw!r}") from None
        if not value.is_finite() or value < 0:
            raise StudyError(file, line, f"{key} must be a non-negative amount")
        values[key] = value
    return Costs(currency, reference=spec.get("reference"), **values)


# ---------------------------------------------------------------- running a study
@dataclass(slots=True)
class _Parcel:
    consignment_id: str
    legal_date: date
    filer: str
    doc: FilingDocument


def _parcels(snap: Snapshot, batch: int) -> Iterator[list[_Parcel]]:
    cur = snap.con.execute(
        """SELECT d.consignment_id, d.legal_date, d.filer, d.document
        FROM documents d JOIN consignments c USING (consignment_id)
        WHERE c.data_set <> 'pre_loading' ORDER BY d.consignment_id"""
    )
    while rows := cur.fetchmany(batch):
        yield [_Parcel(r[0], r[1], r[2], _DOC.decode(r[3])) for r in rows]


def _with_model(doc: FilingDocument, model: str | None) -> FilingDocument:
    if model is None:
        return doc
    number = doc.collection.registration_number if doc.collection else None
    return msgspec.structs.replace(doc, collection=Collection(model, number))  # type: ignore[arg-type]


@dataclass(slots=True)
class _Tally:
    result: ScenarioResult
    returns: set[tuple[str, str, str]] = field(default_factory=set)
    dutiable: set[str] = field(default_factory=set)
    taxable: set[str] = field(default_factory=set)


def run_study(
    snap: Snapshot, study: Study, base: PackAssessor | None = None, batch: int = 5000
) -> list[ScenarioResult]:
    """The baseline first, then each scenario, over the snapshot's period."""
    base = base or PackAssessor.load_default()
    assessors: list[tuple[Scenario, PackAssessor]] = [
        (Scenario(BASELINE, "packs as shipped"), base)
    ]
    for sc in study.scenarios:
        try:
            packs = overlay_packs(base.packs, sc.packs, study.file) if sc.packs else base.packs
        except PackError as exc:
            detail = exc.detail.removeprefix(f"{exc.file}:{exc.line}: ")
            raise StudyError(study.file, exc.line, f"scenario {sc.name!r}: {detail}") from None
        assessors.append((sc, assessor_for(base, packs)))
    tallies = [_Tally(ScenarioResult(sc.name, sc.description)) for sc, _ in assessors]
    for parcels in _parcels(snap, batch):
        for (sc, assessor), tally in zip(assessors, tallies, strict=True):
            for p in parcels:
                a = assessor.assess(_with_model(p.doc, sc.declared_collection), p.legal_date)
                _count(tally, p, a)
    baseline = tallies[0]
    for tally in tallies[1:]:
        extra = tally.result.unassessed - baseline.result.unassessed
        if extra > 0:
            # its revenue would silently count those parcels as owing nothing
            raise StudyError(
                study.file,
                1,
                f"scenario {tally.result.name!r} leaves {extra} more parcels unassessable than "
                "the shipped law (a threshold or fee in a currency without an exchange rate, or "
                "an amount out of range?); fix the scenario",
            )
    out = []
    for tally in tallies:
        _finish(tally, baseline, study.costs)
        out.append(tally.result)
    return out


def _count(tally: _Tally, p: _Parcel, a: Assessment) -> None:
    r = tally.result
    r.parcels += 1
    if MANUAL_ASSESSMENT in a.flags:
        r.unassessed += 1
    amounts = r.revenue.setdefault(
        a.currency, dict.fromkeys(("duty", "tax", "fees", "total", "at_border"), Decimal(0))
    )
    duty = a.total_of("duty")
    tax = sum((a.total_of(k) for k in _TAX_KINDS), Decimal(0))
    amounts["duty"] += duty
    amounts["tax"] += tax
    amounts["fees"] += a.total_of("fee")
    amounts["total"] += a.total
    amounts["at_border"] += a.due_at_border
    if duty > 0:
        tally.dutiable.add(p.consignment_id)
    if tax > 0:
        tally.taxable.add(p.consignment_id)
    if a.total > 0:
        r.owing += 1
    w = r.workload or dict.fromkeys(WORKLOAD, 0)
    r.workload = w
    if a.irg_category in (3, 4):
        w["declarations"] += 1
    if a.payable_by == "consumer":
        w["border_payments"] += 1
    month = p.legal_date.strftime("%Y-%m")
    if a.payable_by == "intermediary":
        w["delivery_collections"] += 1
        tally.returns.add(("intermediary", p.filer, month))
    elif a.payable_by == "vendor":
        number = p.doc.collection.registration_number if p.doc.collection else None
        tally.returns.add(("vendor", number or f"unregistered:{p.filer}", month))


def _finish(tally: _Tally, baseline: _Tally, costs: Costs) -> None:
    r = tally.result
    r.workload = r.workload or dict.fromkeys(WORKLOAD, 0)
    r.workload["periodic_returns"] = len(tally.returns)
    r.dutiable = len(tally.dutiable)
    r.taxable = len(tally.taxable)
    r.became_dutiable = len(tally.dutiable - baseline.dutiable)
    r.became_taxable = len(tally.taxable - baseline.taxable)
    r.no_longer_dutiable = len(baseline.dutiable - tally.dutiable)
    r.no_longer_taxable = len(baseline.taxable - tally.taxable)
    w = r.workload
    r.cost_currency = costs.currency
    r.collection_cost = (
        w["declarations"] * costs.per_declaration
        + w["border_payments"] * costs.per_border_payment
        + w["delivery_collections"] * costs.per_delivery_collection
        + w["periodic_returns"] * costs.per_periodic_return
    )
    cent = Decimal("0.0001")
    if r.parcels:
        r.cost_per_parcel = (r.collection_cost / r.parcels).quantize(cent, ROUND_HALF_EVEN)
    if r.owing:
        r.cost_per_owing_parcel = (r.collection_cost / r.owing).quantize(cent, ROUND_HALF_EVEN)
    r.revenue = dict(sorted(r.revenue.items()))


def revenue_delta(result: ScenarioResult, baseline: ScenarioResult) -> dict[str, Decimal]:
    """Scenario total minus baseline total, per currency."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    for cur, amounts in result.revenue.items():
        out[cur] += amounts["total"]
    for cur, amounts in baseline.revenue.items():
        out[cur] -= amounts["total"]
    return dict(sorted(out.items()))
