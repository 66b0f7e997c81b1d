"""Accounts and collection: registrations, accounts and guarantees, liabilities per released
parcel, monthly consolidated declarations, operator reports, payment, and quota usage."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from clearway.accounts.declarations import grand_total, lines_of, parse_report, reconcile, totals_of
from clearway.accounts.model import (
    REGISTRATION_STATUSES,
    Account,
    AccountPayment,
    Declaration,
    Liability,
    QuotaEntry,
    Registration,
    Released,
    ReportUpload,
    number_problem,
)
from clearway.accounts.ports import AccountsStore
from clearway.accounts.quotas import QuotaLedger, quota_person
from clearway.accounts.registry import Registry
from clearway.domain.consignment import Consignment
from clearway.kernel.clock import Clock
from clearway.kernel.codes import is_currency
from clearway.kernel.errors import Conflict, DomainError, InvalidInput, NotFound, Problem
from clearway.kernel.ids import new_id
from clearway.kernel.money import round_amount

ZERO = Decimal(0)
COLLECTING = ("vendor", "intermediary")
GUARANTEE_HOLD = "account guarantee exceeded"
OPEN_TTL = 2.0  # seconds an account's open liability is trusted from memory
# Assessment flags of parcels that count toward a person's yearly quota (a single item above the
# per-transaction limit pays full tax and still counts; general trade beyond the year does not).
QUOTA_FLAGS = frozenset({"cbec_within_limits", "cbec_single_item_above_transaction_limit"})


def counts_toward_quota(flags: list[str]) -> bool:
    return any(f in QUOTA_FLAGS for f in flags)


def month_of(when: datetime | date) -> str:
    return f"{when.year:04d}-{when.month:02d}"


# Declaration periods: YYYY-MM, in years where the month before and after exist too.
_PERIOD = re.compile(r"(19[7-9]\d|2\d{3})-(0[1-9]|1[0-2])")


def month_bounds(period: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of `YYYY-MM`, in UTC."""
    try:
        if not _PERIOD.fullmatch(period):
            raise ValueError(period)
        year, month = (int(x) for x in period.split("-"))
        start = datetime(year, month, 1, tzinfo=UTC)
    except ValueError as exc:
        raise InvalidInput(
            [Problem("/period", "format", "a period is YYYY-MM, from 1970-01 to 2999-12")]
        ) from exc
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    return start, end


class AccountsService:
    def __init__(
        self,
        store: AccountsStore,
        clock: Clock,
        registry: Registry | None = None,
        quotas: QuotaLedger | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.registry = registry or Registry(store)
        self.quotas = quotas or QuotaLedger(store)
        # account -> (open liability, when loaded): kept up to date by this process's accruals
        # and payments, reloaded after OPEN_TTL seconds for what other processes did
        self._open: dict[str, tuple[Decimal, float]] = {}

    # ------------------------------------------------------------------ registrations
    def register(
        self,
        *,
        operator: str,
        number: str,
        scheme: str,
        jurisdiction: str,
        valid_from: date,
        valid_until: date | None = None,
        aeo: bool = False,
        account_id: str | None = None,
    ) -> Registration:
        number = number.strip().upper()
        problems = [p for p in [number_problem(scheme, number)] if p]
        if valid_until is not None and valid_until < valid_from:
            problems.append(Problem("/valid_until", "range", "valid_until is before valid_from"))
        operator_id = self.store.operator_id(operator)
        if operator_id is None:
            problems.append(Problem("/operator", "unknown", f"no operator named {operator!r}"))
        if account_id is not None and self.registry.account(account_id) is None:
            self.registry.invalidate()
            if self.registry.account(account_id) is None:
                problems.append(Problem("/account_id", "unknown", f"no account {account_id}"))
        if problems:
            raise InvalidInput(problems)
        assert operator_id is not None
        if self.registry.registration(number) is not None:
            raise Conflict(f"registration number {number} is already registered")
        now = self.clock.now()
        reg = Registration(
            new_id("reg"),
            number,
            operator_id,
            scheme,
            jurisdiction.strip().upper(),
            valid_from,
            valid_until,
            "active",
            aeo,
            account_id,
            now,
            now,
        )
        self.store.add_registration(reg)
        self.registry.invalidate()
        return reg

    def registration(self, number: str) -> Registration:
        reg = self.registry.registration(number)
        if reg is None:
            self.registry.invalidate()
            reg = self.registry.registration(number)
        if reg is None:
            raise NotFound(f"no registration {number}")
        return reg

    def set_registration(
        self,
        number: str,
        *,
        status: str | None = None,
        reason: str | None = None,
        aeo: bool | None = None,
        valid_until: date | None = None,
    ) -> Registration:
        reg = self.registration(number)
        if status is not None and status not in REGISTRATION_STATUSES:
            raise InvalidInput([Problem("/status", "enum", f"one of {REGISTRATION_STATUSES}")])
        if reg.status == "revoked" and status not in (None, "revoked"):
            raise Conflict(f"registration {reg.number} is revoked; register a new number")
        if status is not None and status != "active" and not reason:
            raise InvalidInput([Problem("/reason", "required", "say why (suspension, revocation)")])
        if valid_until is not None and valid_until < reg.valid_from:
            raise InvalidInput([Problem("/valid_until", "range", "before valid_from")])
        new = replace(
            reg,
            status=status or reg.status,
            status_reason=reason if reason is not None else reg.status_reason,
            aeo=reg.aeo if aeo is None else aeo,
            valid_until=valid_until if valid_until is not None else reg.valid_until,
            updated_at=self.clock.now(),
        )
        self.store.update_registration(new)
        self.registry.invalidate()
        return new

    # ------------------------------------------------------------------ accounts
    def open_account(self, *, operator: str, currency: str, guarantee: Decimal) -> Account:
        currency = currency.strip().upper()
        problems = []
        operator_id = self.store.operator_id(operator)
        if operator_id is None:
            problems.append(Problem("/operator", "unknown", f"no operator named {operator!r}"))
        if not is_currency(currency):
            problems.append(Problem("/currency", "currency", f"unknown currency {currency!r}"))
        if not guarantee.is_finite() or guarantee < 0:
            problems.append(Problem("/guarantee", "range", "a guarantee is a positive amount"))
        if problems:
            raise InvalidInput(problems)
        assert operator_id is not None
        self.registry.invalidate()
        if self.registry.account_of(operator_id, currency) is not None:
            raise Conflict(f"{operator} already has an account in {currency}")
        now = self.clock.now()
        acc = Account(
            new_id("acc"), operator_id, currency, round_amount(guarantee, currency), now, now
        )
        self.store.add_account(acc)
        self.registry.invalidate()
        return acc

    def account(self, account_id: str) -> Account:
        acc = self.registry.account(account_id)
        if acc is None:
            self.registry.invalidate()
            acc = self.registry.account(account_id)
        if acc is None:
            raise NotFound(f"no account {account_id}")
        return acc

    def set_guarantee(self, account_id: str, amount: Decimal) -> Account:
        acc = self.account(account_id)
        if not amount.is_finite() or amount < 0:
            raise InvalidInput([Problem("/guarantee", "range", "a guarantee is a positive amount")])
        new = replace(
            acc, guarantee=round_amount(amount, acc.currency), updated_at=self.clock.now()
        )
        self.store.update_account(new)
        self.registry.invalidate()
        return new

    def open_liability(self, account_id: str, *, fresh: bool = False) -> Decimal:
        cached = self._open.get(account_id)
        if fresh or cached is None or time.monotonic() - cached[1] > OPEN_TTL:
            cached = (self.store.open_liability(account_id), time.monotonic())
            self._open[account_id] = cached
        return cached[0]

    def account_for(
        self, registration_number: str | None, owner_id: str, model: str, currency: str
    ) -> tuple[Account | None, str | None]:
        """The account a parcel's liability goes to, and the registration it was found by."""
        if registration_number:
            reg = self.registry.registration(registration_number)
            if reg is not None:
                acc = (self.registry.account(reg.account_id) if reg.account_id else None) or (
                    self.registry.account_of(reg.operator_id, currency)
                )
                if acc is not None and acc.currency == currency:
                    return acc, reg.number
        if model == "intermediary":
            return self.registry.account_of(owner_id, currency), None
        return None, None

    # ------------------------------------------------------------------ the guarantee gate
    def guarantee_holds(self, parcels: Sequence[Consignment]) -> dict[str, str]:
        """Per parcel about to be presented: why its account stops it, if it does."""
        out: dict[str, str] = {}
        running: dict[str, Decimal] = {}
        for c in parcels:
            a = c.assessment
            if a is None or a.payable_by not in COLLECTING or a.total <= 0:
                continue
            number = c.document.collection.registration_number if c.document.collection else None
            acc, _ = self.account_for(number, c.owner, a.payable_by, a.currency)
            if acc is None:
                continue
            if acc.id not in running:
                running[acc.id] = self.open_liability(acc.id)
            after = running[acc.id] + a.total
            if after > acc.guarantee:
                out[c.id] = (
                    f"{GUARANTEE_HOLD}: account {acc.id} has {running[acc.id]} {acc.currency} "
                    f"open; this parcel's {a.total} would exceed the guarantee of "
                    f"{acc.guarantee} {acc.currency} — held until payment or a higher guarantee"
                )
            else:
                running[acc.id] = after
        return out

    # ------------------------------------------------------------------ accrual
    def released_parcel(self, c: Consignment, at: datetime) -> Released | None:
        a = c.assessment
        if a is None:
            return None
        doc = c.document
        return Released(
            c.id,
            c.transport_document,
            c.owner,
            at,
            a.collection_model,
            a.payable_by,
            doc.collection.registration_number if doc.collection else None,
            a.currency,
            a.total,
            a.jurisdiction,
            a.customs_value,
            quota_person(doc),
            counts_toward_quota(a.flags),
        )

    def accrue(self, released: Sequence[Released]) -> int:
        """Liabilities on collecting accounts and quota usage for parcels just released."""
        liabilities: list[Liability] = []
        quota: list[QuotaEntry] = []
        for r in released:
            if r.payable_by in COLLECTING and r.total > 0:
                acc, number = self.account_for(
                    r.registration_number, r.owner_id, r.payable_by, r.currency
                )
                if acc is not None:
                    liabilities.append(
                        Liability(
                            new_id("lia"),
                            r.consignment_id,
                            acc.id,
                            number,
                            month_of(r.released_at),
                            r.currency,
                            r.total,
                            r.released_at,
                        )
                    )
            if r.cbec and r.person:
                quota.append(
                    QuotaEntry(
                        r.person,
                        r.jurisdiction,
                        r.released_at.year,
                        r.consignment_id,
                        "release",
                        r.customs_value,
                        r.currency,
                        r.released_at,
                    )
                )
        added = self.store.add_liabilities(liabilities) if liabilities else 0
        if quota:
            self.store.add_quota_entries(quota)
            self.quotas.invalidate()
        if added == len(liabilities):
            for li in liabilities:
                cached = self._open.get(li.account_id)
                if cached is not None:
                    self._open[li.account_id] = (cached[0] + li.amount, cached[1])
        else:  # some were accrued already (a concurrent sweep): reload from the database
            for acc_id in {li.account_id for li in liabilities}:
                self._open.pop(acc_id, None)
        return added

    def catch_up(self, since: datetime, until: datetime) -> int:
        """Accrue any release the live path missed (idempotent)."""
        return self.accrue(self.store.released_without_liability(since, until))

    # ------------------------------------------------------------------ declarations
    def declare(self, account_id: str, period: str) -> Declaration:
        """The consolidated declaration of a period: everything released up to its end and not
        yet declared, plus approved refunds as negative lines. Declaring again returns it."""
        acc = self.account(account_id)
        start, end = month_bounds(period)
        if start > self.clock.now():
            raise DomainError(f"period {period} has not started")
        existing = self.store.declaration(account_id, period, lines=True)
        if existing is not None:
            return existing
        self.catch_up(datetime(start.year - 1, 1, 1, tzinfo=UTC), end)
        liabilities = self.store.undeclared_liabilities(account_id, period)
        found = self.store.assessments([li.consignment_id for li in liabilities])
        lines = []
        for li in liabilities:
            td, assessment = found[li.consignment_id]
            lines.extend(lines_of(li.consignment_id, td, li.registration_number, assessment))
        lines.extend(self.store.undeclared_refund_lines(account_id, end))
        totals = totals_of(lines)
        d = Declaration(
            new_id("per"),
            account_id,
            period,
            "declared",
            acc.currency,
            grand_total(totals),
            totals,
            self.clock.now(),
            lines=lines,
        )
        self.store.save_declaration(d, [li.id for li in liabilities])
        return d

    def declaration(self, account_id: str, period: str) -> Declaration:
        self.account(account_id)
        month_bounds(period)
        d = self.store.declaration(account_id, period, lines=True)
        if d is None:
            raise NotFound(f"no declaration of {period} for account {account_id}")
        return d

    def upload_report(
        self,
        account_id: str,
        period: str,
        fmt: str,
        content: str | list[dict[str, object]],
        who: str,
    ) -> ReportUpload:
        d = self.declaration(account_id, period)
        reported = parse_report(fmt, content)
        diffs = reconcile(d.lines, reported)
        upload = ReportUpload(
            new_id("rpt"),
            d.id,
            fmt,
            len(reported),
            sum((r.amount for r in reported), ZERO),
            diffs,
            who,
            self.clock.now(),
        )
        self.store.save_upload(upload)
        return upload

    def pay(
        self, account_id: str, period: str, amount: Decimal, currency: str, reference: str, who: str
    ) -> Declaration:
        """Record the operator's payment of a declaration; it closes the period and its
        liabilities no longer count against the guarantee."""
        d = self.declaration(account_id, period)
        if d.status == "closed":
            raise Conflict(f"period {period} is closed (paid {d.paid_at})")
        if currency.upper() != d.currency or amount != d.total:
            raise DomainError(f"the declared total is {d.total} {d.currency}")
        if not reference.strip():
            raise InvalidInput([Problem("/reference", "required", "a payment reference")])
        now = self.clock.now()
        self.store.save_payment(
            AccountPayment(
                new_id("pay"), d.id, account_id, amount, d.currency, reference.strip(), who, now
            ),
            now,
        )
        self._open.pop(account_id, None)
        d.status, d.paid_at, d.closed_at = "closed", now, now
        return d

    # ------------------------------------------------------------------ quotas
    def quota(self, person: str, year: int) -> tuple[Decimal, list[QuotaEntry]]:
        entries = self.store.quota_entries(person, year)
        return sum((e.amount for e in entries), ZERO), entries
