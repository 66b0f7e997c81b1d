"""`clearway demo`: a day of synthetic traffic through the whole pipeline into a fresh SQLite
file, then a summary of what happened."""

from __future__ import annotations

import random
import secrets
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clearway.clearance import dms
from clearway.clearance.handlers import ActionRequest, missing_legs
from clearway.clearance.intake import read_content
from clearway.clearance.pipeline import FilingResult, Submission
from clearway.clearance.ports import Filer
from clearway.cli.accounts import summarise as summarise_accounts
from clearway.cli.demo_returns import china_returns
from clearway.cli.risk_demo import prepare
from clearway.domain.consignment import Consignment
from clearway.ingestion.detect import parse
from clearway.ingestion.records import ParsedRecord
from clearway.kernel.clock import FixedClock
from clearway.kernel.errors import ClearwayError
from clearway.simulation.channels import messages
from clearway.simulation.cn import CnReturn
from clearway.simulation.generator import VIOLATIONS, GeneratedParcel, TrafficGenerator
from clearway.statistics.report import write_report
from clearway.storage.dms_register import SqlDeclarationRegister
from clearway.storage.export import export
from clearway.storage.web_repository import WebStore
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
    gen = TrafficGenerator(seed)
    # The demo runs on simulated time: filings through the day, arrivals the next morning,
    # officers and consignees acting hours later — so the time-release figures mean something.
    clock = FixedClock(datetime.combine(gen.day - timedelta(days=1), time(6), UTC))
    services = build(Settings(database_url=f"sqlite:///{database}"), clock=clock)
    if history:
        # a day of earlier traffic, so risk has reference prices and histories to compare with
        console.print("filing a history day first (risk compares parcels with past traffic)")
        prepare(services, parcels=parcels, seed=seed)
    _register_platforms(services, gen)
    day = list(gen.parcels(parcels))
    clock.set(datetime.combine(gen.day, time(6), UTC))
    returns: list[CnReturn] = []
    results, formats = _file_day(services, day, seed, clock, returns)
    clock.set(datetime.combine(gen.day + timedelta(days=1), time(7), UTC))
    arrivals = _present(services, results, clock)
    work = _border_work(services, day, results, clock)
    back = china_returns(services, returns, clock)  # CEB625, then CEB711 with the goods back
    summary = _summary(services, day, results, arrivals)
    summary["border_work"] = work
    summary["china_returns"] = back
    summary["accounts"] = summarise_accounts(services)
    summary["filings_by_format"] = dict(formats)
    snapshot, report = _report(services, database)
    summary["snapshot"], summary["report"] = str(snapshot), str(report)
    summary["logins"] = _demo_logins(services)
    services.close()
    if as_json:
        print(msgspec.json.encode(summary).decode())
    else:
        _print(summary)
        url = f"sqlite:///{database}"
        console.print(
            f"\nHTML report: {summary['report']}\nDatabase: {database}\n"
            f"\nNext, start the server on the demo data:\n"
            f"  [bold]CLEARWAY_SNAPSHOT_DIR={summary['snapshot']} "
            f"CLEARWAY_REPORT_DIR={Path(summary['report']).parent} "
            f".venv/bin/clearway serve --database {url}[/bold]\n"
            "then open http://127.0.0.1:8000/ (public estimator and restricted goods), "
            "/officer/ (work queues), /analyst/statistics (dashboards) and /docs (API).\n"
            "Demo logins (this database only): "
            + ", ".join(f"{u} / {pw}" for u, pw in summary["logins"].items())
        )


def _demo_logins(services: Services) -> dict[str, str]:
    """People to log in as on the demo database: an officer, an analyst and an agency."""
    store = WebStore(services.engine)
    logins: dict[str, str] = {}
    for username, role, agency in (
        ("officer", "officer", None),
        ("analyst", "analyst", None),
        ("food-safety", "agency", "food_safety"),
    ):
        password = secrets.token_urlsafe(9)
        try:
            store.create_user(username, password, role, agency)
        except ClearwayError:
            continue  # e.g. an agency code the routing data does not know
        logins[username] = password
    return logins


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
    services: Services,
    day: list[GeneratedParcel],
    seed: int,
    clock: FixedClock,
    returns: list[CnReturn] | None = None,
) -> tuple[dict[str, FilingResult], Counter[str]]:
    """Send the day's messages as the parties would; returns the result per filer reference
    and the number of filings per format (China parcels that will come back: `returns`)."""
    results: dict[str, FilingResult] = {}
    formats: Counter[str] = Counter()
    msgs = list(messages(day, seed, returns))
    filers: dict[tuple[str, str], Filer] = {}
    step = timedelta(hours=14) / max(1, len(msgs))  # filings spread over 06:00-20:00
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
            dms_records: list[ParsedRecord] = []
            for m in msgs[i:j]:
                if m.format == "h7":  # DMS declarations get their MRN and DMS answer
                    found_records = parse(m.content, "h7").records
                    formats[m.format] += len(found_records)
                    dms_records.extend(found_records)
                    continue
                found = read_content(m.content, m.format)[1]
                formats[m.format] += len(found)
                subs.extend(found)
            done = services.pipeline.process(filers[key], subs) if subs else []
            if dms_records:
                register = SqlDeclarationRegister(services.engine)
                done += [
                    x.result
                    for x in dms.lodge(services.pipeline, register, filers[key], dms_records)
                ]
            for r in done:
                if r.filer_reference:
                    results.setdefault(r.filer_reference, r)
            bar.advance(task, j - i)
            clock.advance(step * (j - i))
            i = j
    return results, formats


def _present(
    services: Services, results: dict[str, FilingResult], clock: FixedClock
) -> Counter[str]:
    """Every accepted parcel arrives at the border the next morning, in batches."""
    officer = "officer:Demo Border Office"
    tds = sorted(
        {
            c.transport_document
            for c in services.store.load_many(
                sorted({r.consignment_id for r in results.values() if r.consignment_id})
            ).values()
            if c.status not in ("invalidated",)
        }
    )
    answers: Counter[str] = Counter()
    for i in range(0, len(tds), BATCH):
        for a in services.clearance.arrive(tds[i : i + BATCH], officer):
            answers[a.answer] += 1
        clock.advance(timedelta(minutes=20))
    return answers


def _border_work(
    services: Services,
    day: list[GeneratedParcel],
    results: dict[str, FilingResult],
    clock: FixedClock,
) -> dict[str, int]:
    """What happens to held parcels: officers inspect the ones the risk engine stopped (finding
    what is really in the box), consignees pay what is due, and cleared parcels are released."""
    officer = "officer:Demo Border Office"
    truth = {p.filings[-1]["filer_reference"]: p.violations for p in day}
    by_id = {r.consignment_id: truth.get(ref, []) for ref, r in results.items() if r.consignment_id}
    held = [c for c in services.store.load_many(sorted(by_id)).values() if c.status == "held"]
    rng = random.Random(len(held))
    done: Counter[str] = Counter()
    for c in sorted(held, key=lambda x: x.id):
        clock.advance(timedelta(minutes=3))
        lane = c.decision.lane if c.decision else None
        found = bool(by_id.get(c.id))
        if lane in ("yellow", "red") or c.decision is None:
            services.clearance.act(
                c.id,
                ActionRequest(
                    "record_inspection",
                    officer,
                    found=found,
                    notes="irregularity found" if found else "goods as declared",
                ),
            )
            done["inspected"] += 1
            done["found"] += found
            if found and "prohibited_goods" in by_id[c.id]:
                services.clearance.act(
                    c.id, ActionRequest("seize", officer, reason="prohibited goods")
                )
                done["seized"] += 1
                continue
        current = services.store.load(c.id)
        if current is None:
            continue
        pays = rng.random() < 0.85  # most consignees pay within hours
        if current.payment_status == "due" and current.assessment is not None and pays:
            current = services.clearance.record_payment(
                c.id,
                current.assessment.due_at_border,
                current.assessment.currency,
                f"PAY-{c.id[-8:]}",
                "payment_provider:Demo Pay",
            )
            done["paid"] += 1
        if current.status in ("held", "inspected") and current.payment_status != "due":
            holds = services.store.open_holds([c.id]).get(c.id, [])
            if all(h.authority == "customs" for h in holds):
                services.clearance.act(
                    c.id, ActionRequest("release", officer, reason="cleared after checks")
                )
                done["released_by_officer"] += 1
    return dict(done)


def _report(services: Services, database: Path) -> tuple[Path, Path]:
    """Export a Parquet snapshot of the database and write the HTML report from it."""
    snapshot = database.parent / f"{database.stem}-snapshot"
    out = database.parent / f"{database.stem}-report"
    for folder in (snapshot, out):
        if folder.exists():
            shutil.rmtree(folder)
    export(services.engine, snapshot)
    return snapshot, write_report(snapshot, out)


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
        "filings_by_format",
        "record_match",
        "filing_outcomes",
        "border_work",
        "china_returns",
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
    t = Table(
        title="planted violations caught (rejected at filing / targeted by risk / "
        "collection fallback)"
    )
    t.add_column("violation", no_wrap=True)
    for col in ("planted", "rejected", "targeted", "fallback", "missed"):
        t.add_column(col, justify="right")
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
    per_currency: dict[str, list[Decimal]] = defaultdict(list)
    for d in acc["declarations"]:
        per_currency[str(d["currency"])].append(Decimal(str(d["total"])))
    t = Table(title="accounts: monthly consolidated declarations")
    for col in ("currency", "declarations", "total declared"):
        t.add_column(col)
    for currency, totals in sorted(per_currency.items()):
        t.add_row(currency, str(len(totals)), str(sum(totals, Decimal(0))))
    console.print(t)
    console.print(
        f"registrations {acc['registrations']}, accounts {acc['accounts']}, liabilities "
        f"accrued {acc['liabilities_accrued']}, operator report differences found "
        f"{acc['report_differences_found']}, every declaration reconciles with the parcel "
        f"assessments: {'yes' if acc['all_reconcile'] else 'NO'}"
    )
    share = s["clean_parcels_targeted"] / max(1, s["clean_parcels"])
    console.print(
        f"clean parcels targeted: {s['clean_parcels_targeted']} of {s['clean_parcels']} "
        f"({share:.1%}) — the price of the inspection budget and random control sampling"
    )
