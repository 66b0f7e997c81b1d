"""The accounts and returns services wired over one database, and the release of parcels a
payment or a higher guarantee makes fit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine

from clearway.accounts.gate import AccountsGate
from clearway.accounts.legislation import Legislation, default_legislation
from clearway.accounts.service import GUARANTEE_HOLD, AccountsService
from clearway.clearance.handlers import Clearance
from clearway.kernel.clock import Clock
from clearway.returns.model import ReturnWindow
from clearway.returns.service import ReturnsService
from clearway.storage.accounts_repository import SqlAccounts


def return_law(legislation: Legislation) -> Any:
    """The returns workflow's view of the accounts legislation."""

    def law(country: str, on: date) -> ReturnWindow | None:
        window = legislation.read(country, "returns.window_days", on)
        if window is None:
            return None
        back = legislation.read(country, "returns.goods_back_days", on)
        restores = legislation.read(country, "returns.restores_quota", on)
        return ReturnWindow(
            int(window.value),
            int(back.value) if back else None,
            bool(restores.value) if restores else False,
            window.reference,
        )

    return law


@dataclass
class AccountsWiring:
    store: SqlAccounts
    accounts: AccountsService
    returns: ReturnsService
    gate: AccountsGate
    legislation: Legislation


def wire_accounts(engine: Engine, clock: Clock) -> AccountsWiring:
    """Accounts, returns and the border gate over one database."""
    store = SqlAccounts(engine)
    legislation = default_legislation()
    accounts = AccountsService(store, clock)
    return AccountsWiring(
        store,
        accounts,
        ReturnsService(store, clock, return_law(legislation)),
        AccountsGate(accounts),
        legislation,
    )


def release_within_guarantee(
    wiring: AccountsWiring, clearance: Clearance, account_id: str, actor: str, reason: str
) -> list[str]:
    """After a payment or a higher guarantee: release the account's held parcels that now fit
    under its guarantee (oldest first); the others stay held with their reason."""
    marker = f"{GUARANTEE_HOLD}: account {account_id}"
    ids = wiring.store.held_by(marker)
    if not ids:
        return []
    parcels = sorted(
        clearance.store.load_many(ids).values(), key=lambda c: (c.arrived_at or c.updated_at, c.id)
    )
    still = wiring.accounts.guarantee_holds(parcels)
    fits = [c.id for c in parcels if c.id not in still]
    return clearance.lift_holds_with(fits, marker, actor, reason)
