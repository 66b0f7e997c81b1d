"""`clearway accounts …`: registrations, accounts, declarations, returns, quotas and reports from
the command line (the same services as the HTTP API), and the accounts part of the demo."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, NoReturn

import msgspec
import typer

from clearway.accounts.model import NUMBER_PATTERNS
from clearway.accounts.quotas import parse_person, quota_limits
from clearway.accounts.service import month_of
from clearway.api.routes_returns import report_rows, to_csv
from clearway.kernel.errors import ClearwayError, InvalidInput
from clearway.returns.model import ReturnedItem
from clearway.storage.accounts_wiring import AccountsWiring, release_within_guarantee
from clearway.wiring.services import Services, build
from clearway.wiring.settings import Settings

app = typer.Typer(help="Accounts, collection and returns.", no_args_is_help=True)
_ENC = msgspec.json.Encoder(decimal_format="string")
EXIT_BAD_INPUT = 2
CLI_ACTOR = "officer:cli"

DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: CLEARWAY_DATABASE_URL or SQLite)"),
]


def register(main: typer.Typer) -> None:
    main.add_typer(app, name="accounts")


def _services(database: str | None) -> Services:
    return build(Settings(database_url=database) if database else Settings())


def _wiring(svc: Services) -> AccountsWiring:
    assert svc.accounts is not None
    return svc.accounts


def _fail(exc: ClearwayError) -> NoReturn:
    typer.echo(f"error: {exc.detail}", err=True)
    if isinstance(exc, InvalidInput):
        for p in exc.problems:
            typer.echo(f"  {p.path}: {p.message}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def _print(obj: Any) -> None:
    typer.echo(_ENC.encode(msgspec.to_builtins(obj, builtin_types=(Decimal, date, datetime))))


@app.command("register-number")
def register_number(
    operator: Annotated[str, typer.Option(help="Operator name")],
    number: Annotated[str, typer.Option(help="Registration number, e.g. IM2760000001")],
    scheme: Annotated[str, typer.Option(help="ioss, intermediary, voec, uk_vat, au_gst, cbec…")],
    jurisdiction: Annotated[str, typer.Option(help="EU, GB, CN…")],
    valid_from: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    valid_until: Annotated[str | None, typer.Option(help="YYYY-MM-DD")] = None,
    aeo: Annotated[bool, typer.Option(help="Authorised economic operator")] = False,
    account: Annotated[str | None, typer.Option(help="Account the liabilities go to")] = None,
    database: DatabaseOpt = None,
) -> None:
    """Register a collection number for an operator."""
    svc = _services(database)
    try:
        reg = _wiring(svc).accounts.register(
            operator=operator,
            number=number,
            scheme=scheme,
            jurisdiction=jurisdiction,
            valid_from=_date(valid_from),
            valid_until=_date(valid_until) if valid_until else None,
            aeo=aeo,
            account_id=account,
        )
    except ClearwayError as exc:
        _fail(exc)
    _print(reg)


@app.command("set-status")
def set_status(
    number: str,
    status: Annotated[str | None, typer.Option(help="active, suspended or revoked")] = None,
    reason: Annotated[str | None, typer.Option(help="Why")] = None,
    aeo: Annotated[bool | None, typer.Option("--aeo/--no-aeo", help="AEO standing")] = None,
    database: DatabaseOpt = None,
) -> None:
    """Suspend, revoke or reactivate a number, or change its AEO standing."""
    svc = _services(database)
    try:
        reg = _wiring(svc).accounts.set_registration(number, status=status, reason=reason, aeo=aeo)
    except ClearwayError as exc:
        _fail(exc)
    _print(reg)


@app.command("open")
def open_account(
    operator: Annotated[str, typer.Option(help="Operator name")],
    currency: Annotated[str, typer.Option(help="ISO currency")],
    guarantee: Annotated[str, typer.Option(help="Guarantee amount")],
    database: DatabaseOpt = None,
) -> None:
    """Open a collecting operator's account."""
    svc = _services(database)
    try:
        acc = _wiring(svc).accounts.open_account(
            operator=operator, currency=currency, guarantee=_amount(guarantee)
        )
    except ClearwayError as exc:
        _fail(exc)
    _print(acc)


@app.command("guarantee")
def guarantee(account: str, amount: str, database: DatabaseOpt = None) -> None:
    """Set an account's guarantee; parcels held over the old one go when they now fit."""
    svc = _services(database)
    w = _wiring(svc)
    try:
        acc = w.accounts.set_guarantee(account, _amount(amount))
        released = release_within_guarantee(
            w, svc.clearance, account, CLI_ACTOR, f"guarantee raised to {acc.guarantee}"
        )
    except ClearwayError as exc:
        _fail(exc)
    _print({"account": acc, "released": released})


@app.command("list")
def list_accounts(database: DatabaseOpt = None) -> None:
    """Accounts with guarantee, open liability and headroom."""
    svc = _services(database)
    for row in report_rows(_wiring(svc), "liabilities", None):
        _print(row)


@app.command("declare")
def declare(account: str, period: str, database: DatabaseOpt = None) -> None:
    """Build (or show) an account's consolidated declaration of a month (YYYY-MM)."""
    svc = _services(database)
    try:
        d = _wiring(svc).accounts.declare(account, period)
    except ClearwayError as exc:
        _fail(exc)
    _print(d)


@app.command("reconcile")
def reconcile(account: str, period: str, report: Path, database: DatabaseOpt = None) -> None:
    """Reconcile the operator's report (CSV `transport_document,kind,amount`, or a JSON list)."""
    svc = _services(database)
    try:
        text = report.read_text("utf-8-sig")
    except OSError as exc:
        typer.echo(f"error: cannot read {report}: {exc.strerror or exc}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from exc
    try:
        if report.suffix.lower() == ".json":
            try:
                lines = json.loads(text)
            except ValueError as exc:
                raise InvalidInput(detail=f"not JSON: {exc}") from exc
            upload = _wiring(svc).accounts.upload_report(account, period, "json", lines, CLI_ACTOR)
        else:
            upload = _wiring(svc).accounts.upload_report(account, period, "csv", text, CLI_ACTOR)
    except ClearwayError as exc:
        _fail(exc)
    _print(upload)


@app.command("pay")
def pay(
    account: str,
    period: str,
    amount: str,
    currency: str,
    reference: str,
    database: DatabaseOpt = None,
) -> None:
    """Record the payment of a declaration; the period closes."""
    svc = _services(database)
    w = _wiring(svc)
    try:
        d = w.accounts.pay(account, period, _amount(amount), currency, reference, CLI_ACTOR)
        released = release_within_guarantee(
            w, svc.clearance, account, CLI_ACTOR, f"period {period} paid, {reference}"
        )
    except ClearwayError as exc:
        _fail(exc)
    _print({"period": d.period, "status": d.status, "total": d.total, "released": released})


@app.command("return")
def file_return(
    inbound: Annotated[str, typer.Argument(help="Consignment id or transport document")],
    return_document: str,
    items: Annotated[list[str], typer.Argument(help="ITEM:QUANTITY, e.g. 0:1")],
    reason: Annotated[str | None, typer.Option(help="Why the goods go back")] = None,
    database: DatabaseOpt = None,
) -> None:
    """File the return of some items of a released parcel."""
    svc = _services(database)
    try:
        parsed = [_item(x) for x in items]
        ret = _wiring(svc).returns.file_return(
            inbound=inbound,
            return_document=return_document,
            items=parsed,
            who=CLI_ACTOR,
            reason=reason,
        )
    except ClearwayError as exc:
        _fail(exc)
    _print(ret)


@app.command("refund")
def refund(return_id: str, database: DatabaseOpt = None) -> None:
    """Claim the refund of a return (approved or refused, with reasons)."""
    svc = _services(database)
    try:
        r = _wiring(svc).returns.claim_refund(return_id=return_id, claimant=CLI_ACTOR)
    except ClearwayError as exc:
        _fail(exc)
    _print(r)


@app.command("quota")
def quota(
    person: str,
    year: Annotated[int | None, typer.Option(help="Year (default: this year)")] = None,
    country: Annotated[str, typer.Option(help="Destination with a quota regime")] = "CN",
    database: DatabaseOpt = None,
) -> None:
    """A person's yearly quota: limit, used, remaining."""
    svc = _services(database)
    today = svc.clock.now().date()
    year = year or today.year
    limits = quota_limits(country, min(today, date(year, 12, 31)))
    if limits is None:
        typer.echo(f"error: no per-person quota in force for {country} in {year}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    key = parse_person(person)
    used, entries = _wiring(svc).accounts.quota(key, year)
    _print(
        {
            "person": key,
            "year": year,
            "currency": limits[2],
            "annual_limit": limits[0],
            "transaction_limit": limits[1],
            "used": used,
            "remaining": limits[0] - used,
            "entries": entries,
        }
    )


@app.command("report")
def report(
    name: Annotated[str, typer.Argument(help="registrations, liabilities or refunds")],
    period: Annotated[str | None, typer.Option(help="YYYY-MM (registrations)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="json, csv or parquet")] = "json",
    out: Annotated[Path | None, typer.Option(help="Write to this file")] = None,
    database: DatabaseOpt = None,
) -> None:
    """Reports: monthly totals per registration number, open liabilities, refunds."""
    svc = _services(database)
    try:
        rows = report_rows(_wiring(svc), name, period)
    except ClearwayError as exc:
        _fail(exc)
    if fmt == "parquet":
        if out is None:
            typer.echo("error: --out is needed for parquet", err=True)
            raise typer.Exit(EXIT_BAD_INPUT)
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), out)
        typer.echo(f"{len(rows)} rows → {out}")
        return
    text = to_csv(rows) if fmt == "csv" else "\n".join(_ENC.encode(r).decode() for r in rows)
    if out is not None:
        out.write_text(text + ("" if text.endswith("\n") else "\n"), "utf-8")
        typer.echo(f"{len(rows)} rows → {out}")
    else:
        typer.echo(text)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(detail=f"not a date (YYYY-MM-DD): {text!r}") from exc


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except ArithmeticError as exc:
        raise InvalidInput(detail=f"not an amount: {text!r}") from exc
    if not value.is_finite():
        raise InvalidInput(detail=f"not an amount: {text!r}")
    return value


def _item(text: str) -> ReturnedItem:
    item, _, qty = text.partition(":")
    try:
        return ReturnedItem(int(item), int(qty or "1"))
    except ValueError as exc:
        raise InvalidInput(detail=f"an item is ITEM:QUANTITY, got {text!r}") from exc


# ---------------------------------------------------------------------------- demo
def summarise(services: Services) -> dict[str, Any]:
    """The accounts part of `clearway demo`, run on the demo's database after its day.

    Registers every well-formed collection number seen on released parcels for the operator
    that filed them, opens an account per operator and currency, accrues the liabilities of the
    released parcels, builds each account's declaration of the month, reconciles a report per
    account (the first with one deliberate difference), records the payments and closes the
    periods. Returns what happened, with every total checked against the parcel assessments.
    """
    w = _wiring(services)
    names = w.store.operator_names()
    since = datetime(1970, 1, 1).astimezone()
    until = services.clock.now().replace(year=services.clock.now().year + 1)
    pending = w.store.released_without_liability(since, until)
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for r in pending:
        if r.payable_by in ("vendor", "intermediary") and r.total > 0:
            numbers = seen.setdefault((r.owner_id, r.currency), {})
            if r.registration_number:
                numbers[r.registration_number.strip().upper()] = r.jurisdiction.split("-")[0]
    accounts: dict[tuple[str, str], str] = {}
    registered = 0
    for (owner, currency), numbers in sorted(seen.items()):
        acc = w.accounts.registry.account_of(owner, currency) or w.accounts.open_account(
            operator=names[owner], currency=currency, guarantee=Decimal("1000000")
        )
        accounts[(owner, currency)] = acc.id
        for number, jurisdiction in sorted(numbers.items()):
            scheme = next(
                (s for s, p in NUMBER_PATTERNS.items() if s != "national" and p.fullmatch(number)),
                None,
            )
            if scheme is None or w.accounts.registry.registration(number) is not None:
                continue
            w.accounts.register(
                operator=names[owner],
                number=number,
                scheme=scheme,
                jurisdiction=jurisdiction,
                valid_from=date(2000, 1, 1),
                account_id=acc.id,
            )
            registered += 1
    accrued = w.accounts.accrue(pending)
    expected: dict[str, Decimal] = {}
    for li_acc, amount in w.store.open_liabilities().items():
        expected[li_acc] = amount
    period = month_of(services.clock.now())
    declarations = []
    differences = 0
    for i, acc_id in enumerate(sorted(set(accounts.values()))):
        d = w.accounts.declare(acc_id, period)
        lines: list[dict[str, object]] = [
            {"transport_document": ln.transport_document, "kind": ln.kind, "amount": str(ln.amount)}
            for ln in d.lines
        ]
        if i == 0 and lines:
            lines[0]["amount"] = str(d.lines[0].amount + Decimal("0.01"))
        upload = w.accounts.upload_report(acc_id, period, "json", lines, "demo")
        differences += len(upload.differences)
        reconciles = (
            d.total
            == expected.get(acc_id, Decimal(0))
            == sum((ln.amount for ln in d.lines), Decimal(0))
        )
        w.accounts.pay(acc_id, period, d.total, d.currency, f"DEMO-{i + 1}", "demo")
        declarations.append(
            {
                "account": acc_id,
                "operator": names.get(w.accounts.account(acc_id).operator_id),
                "period": period,
                "currency": d.currency,
                "lines": len(d.lines),
                "total": str(d.total),
                "totals": {f"{t.kind} {t.rate or ''}".strip(): str(t.amount) for t in d.totals},
                "reconciles": reconciles,
                "report_differences": len(upload.differences),
                "status": "closed",
            }
        )
    return {
        "registrations": registered,
        "accounts": len(set(accounts.values())),
        "liabilities_accrued": accrued,
        "declarations": declarations,
        "report_differences_found": differences,
        "all_reconcile": all(d["reconciles"] for d in declarations),
        "open_liability_after_payment": {
            k: str(v) for k, v in w.store.open_liabilities().items() if v
        },
    }
