"""`clearway demo`: a day of synthetic traffic through the whole pipeline into a fresh SQLite
file, then a summary of what happened."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clearway.clearance.handlers import missing_legs
from clearway.clearance.intake import read_content
from clearway.clearance.pipeline import FilingResult, Submission
from clearway.clearance.ports import Filer
from clearway.cli.accounts import summarise as summarise_accounts
from clearway.cli.risk_demo import prepare
from clearway.domain.consignment import Consignment
from clearway.simulation.channels import messages
from clearway.simulation.generator import VIOLATIONS, GeneratedParcel, TrafficGenerator
from clearway.wiring.services import Services, build
from clearway.wiring.settings import Settings

console = Console()
BATCH = 1000


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    parcels: Annotated[int, typer.Option(min=10, help="Parcels in the day")] = 5000,
    seed: Annotated[int, typer.Option(help="Traffic seed")] = 7,
    database: Annotated[Path, typer.Option(help="SQLite file (recreated)")] = Path(
        "var/demo.sqlite"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
    history: Annotated[
        bool, typer.Option(help="File a generated day of earlier traffic first")
    ] = True,
) -> None:
    """Generate a day of traffic, file, decide and present it, and summarise what happened."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    services = build(Settings(database_url=f"sqlite:///{database}"))
    if history:
        # a day of earlier traffic, so risk has reference prices and histories to compare with
        console.print("filing a history day first (risk compares parcels with past traffic)")
        prepare(services, parcels=parcels, seed=seed)
    gen = TrafficGenerator(seed)
    _register_platforms(services, gen)
    day = list(gen.parcels(parcels))
    results, formats = _file_day(services, day, seed)
    arrivals = _present(services, results)
    summary = _summary(services, day, results, arrivals)
    summary["accounts"] = summarise_accounts(services)
    summary["filings_by_format"] = dict(formats)
    services.close()
    if as_json:
        print(msgspec.json.encode(summary).decode())
    else:
        _print(summary)
        console.print(
            f"\nDatabase: {database}\nNext: start the API with "
            f"[bold]CLEARWAY_DATABASE_URL=sqlite:///{database} .venv/bin/clearway serve[/bold] "
            "and open http://127.0.0.1:8000/docs — create a key first with "
            "[bold].venv/bin/clearway keys create --operator me --role officer "
            f"--database sqlite:///{database}[/bold]"
        )


def _register_platforms(services: Services, gen: TrafficGenerator) -> None:
    """The registry a deployment would have: each platform's genuine collection numbers, so
    that unknown or malformed numbers on parcels fall back to consumer collection."""
    if services.accounts is None:
        return
    for platform, number, scheme, jurisdiction in gen.registrations():
        if services.accounts.accounts.registry.registration(number) is None:
            services.operators.ensure(platform, "platform")
            services.accounts.accounts.register(
                operator=platform,
                number=number,
                scheme=scheme,
                jurisdiction=jurisdiction,
                valid_from=date(2021, 7, 1),
            )


def _file_day(
    services: Services, day: list[GeneratedParcel], seed: int
) -> tuple[dict[str, FilingResult], Counter[str]]:
    """Send the day's messages as the parties would; returns the result per filer reference
    and the number of filings per format."""
    results: dict[str, FilingResult] = {}
    formats: Counter[str] = Counter()
    msgs = list(messages(day, seed))
    filers: dict[tuple[str, str], Filer] = {}
    with Progress(
        TextColumn("filing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("filing", total=len(msgs))
        i = 0
        while i < len(msgs):
            first = msgs[i]
            j = i
            while (
                j < len(msgs)
                and j - i < BATCH
                and msgs[j].operator == first.operator
                and msgs[j].role == first.role
            ):
                j += 1
            key = (first.operator, first.role)
            if key not in filers:
                filers[key] = Filer(services.operators.ensure(*key), *key)
            subs: list[Submission] = []
            for m in msgs[i:j]:
                found = read_content(m.content, m.format)[1]
                formats[m.format] += len(found)
                subs.extend(found)
            for r in services.pipeline.process(filers[key], subs):
                if r.filer_reference:
                    results.setdefault(r.filer_reference, r)
            bar.advance(task, j - i)
            i = j
    return results, formats


def _present(services: Services, results: dict[str, FilingResult]) -> Counter[str]:
    """Every accepted parcel arrives at the border: the border office presents them all."""
    officer = "officer:Demo Border Office"
    tds = sorted(
        {
            c.transport_document
            for c in services.store.load_many(
                sorted({r.consignment_id for r in results.values() if r.consignment_id})
            ).values()
        }
    )
    answers: Counter[str] = Counter()
    for i in range(0, len(tds), BATCH):
        for a in services.clearance.arrive(tds[i : i + BATCH], officer):
            answers[a.answer] += 1
    return answers


def _caught(result: FilingResult | None, c: Consignment | None) -> str | None:
    """How a planted violation was caught, judged on the consignment's final decision."""
    if result is None:
        return None
    if result.outcome == "rejected":
        return "rejected at filing"
    d = c.decision if c is not None else result.decision
    assessment_flags = c.assessment.flags if c is not None and c.assessment else []
    if d is not None and (
        d.lane in ("yellow", "red") or d.referral not in (None, "assessment_complete")
    ):
        return "targeted"
    if any(f.startswith("registration_number") for f in assessment_flags):
        return "collection fallback"
    return None


def _summary(
    services: Services,
    day: list[GeneratedParcel],
    results: dict[str, FilingResult],
    arrivals: Counter[str],
) -> dict[str, Any]:
    store = services.store
    ids = sorted({r.consignment_id for r in results.values() if r.consignment_id})
    cons = store.load_many(ids)
    day_cons = list(cons.values())
    revenue: dict[str, Decimal] = defaultdict(Decimal)
    for c in cons.values():
        if c.assessment is not None:
            revenue[c.assessment.currency] += c.assessment.total
    planted: dict[str, Counter[str]] = {v: Counter() for v in VIOLATIONS}
    clean_targeted = clean = 0
    for p in day:
        ref = p.filings[-1]["filer_reference"]
        r = results.get(ref)
        found = cons.get(r.consignment_id) if r and r.consignment_id else None
        how = _caught(r, found)
        for v in p.violations:
            planted[v]["planted"] += 1
            planted[v][how or "missed"] += 1
        if not p.violations:
            clean += 1
            clean_targeted += how == "targeted"
    outcomes = Counter(r.outcome for r in results.values())
    cn = [c for c in cons.values() if c.document.destination_country == "CN"]
    mismatched = [
        c
        for c in cn
        if c.decision
        and any(r.source == "match" and r.code != "match_leg_missing" for r in c.decision.reasons)
    ]
    return {
        "parcels": len(day),
        "filings": sum(len(p.filings) for p in day),
        "filing_outcomes": dict(outcomes),
        "status": _count(c.status for c in day_cons),
        "lane": _count(c.decision.lane if c.decision else None for c in day_cons),
        "referral": _count(c.decision.referral if c.decision else None for c in day_cons),
        "irg_category": _count(
            c.assessment.irg_category if c.assessment else None for c in day_cons
        ),
        "collection_model": _count(
            c.assessment.collection_model if c.assessment else None for c in day_cons
        ),
        "arrivals": dict(arrivals),
        "revenue": {k: str(v) for k, v in sorted(revenue.items())},
        "planted_violations": {k: dict(v) for k, v in planted.items() if v},
        "record_match": {
            "consignments_requiring_a_match": len(cn),
            "complete": sum(1 for c in cn if not missing_legs(c)),
            "mismatches_found": len(mismatched),
        },
        "clean_parcels": clean,
        "clean_parcels_targeted": clean_targeted,
    }


def _count(values: Iterable[object]) -> dict[str, int]:
    return {str(k): v for k, v in sorted(Counter(values).items(), key=lambda kv: str(kv[0]))}


def _print(s: dict[str, Any]) -> None:
    console.print(f"[bold]Demo day[/bold]: {s['parcels']} parcels, {s['filings']} filings")
    for title in (
        "filing_outcomes",
        "status",
        "lane",
        "referral",
        "irg_category",
        "collection_model",
        "arrivals",
        "revenue",
    ):
        t = Table(title=title.replace("_", " "), show_header=False, min_width=30)
        for k, v in sorted(s[title].items(), key=lambda kv: str(kv[0])):
            t.add_row(str(k), str(v))
        console.print(t)
    t = Table(title="planted violations caught")
    for col in (
        "violation",
        "planted",
        "rejected at filing",
        "targeted",
        "collection fallback",
        "missed",
    ):
        t.add_column(col)
    for v, c in s["planted_violations"].items():
        t.add_row(
            v,
            *(
                str(c.get(k, 0))
                for k in (
                    "planted",
                    "rejected at filing",
                    "targeted",
                    "collection fallback",
                    "missed",
                )
            ),
        )
    console.print(t)
    acc = s["accounts"]
    t = Table(title="accounts: monthly consolidated declarations")
    for col in (
        "operator",
        "period",
        "currency",
        "lines",
        "total",
        "reconciles",
        "report differences",
        "status",
    ):
        t.add_column(col)
    for d in acc["declarations"]:
        t.add_row(
            str(d["operator"]),
            str(d["period"]),
            str(d["currency"]),
            str(d["lines"]),
            str(d["total"]),
            "yes" if d["reconciles"] else "NO",
            str(d["report_differences"]),
            str(d["status"]),
        )
    console.print(t)
    console.print(
        f"registrations {acc['registrations']}, accounts {acc['accounts']}, liabilities "
        f"accrued {acc['liabilities_accrued']}, every declaration reconciles: "
        f"{'yes' if acc['all_reconcile'] else 'NO'}"
    )
    share = s["clean_parcels_targeted"] / max(1, s["clean_parcels"])
    console.print(
        f"clean parcels targeted: {s['clean_parcels_targeted']} of {s['clean_parcels']} "
        f"({share:.1%}) — the price of the inspection budget and random control sampling"
    )
