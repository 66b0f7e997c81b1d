"""Build the running system from settings: one object holding every service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

from sqlalchemy import Engine

from clearway.accounts.holders import HolderCheck, HolderCheckedAssessor
from clearway.accounts.standing import TrustedTraderSelector
from clearway.classification.shared import LazyClassifier
from clearway.clearance.handlers import Clearance
from clearway.clearance.joining import JoinPolicy
from clearway.clearance.pipeline import Eligibility, Pipeline
from clearway.domain.assessment import Assessment
from clearway.domain.filing import FilingDocument
from clearway.domain.ports import AssessmentRequest, Assessor, Selector
from clearway.kernel.clock import Clock, SystemClock
from clearway.revenue.assessor import PackAssessor
from clearway.revenue.packs import Pack
from clearway.revenue.tariff_text import national_texts
from clearway.risk.overrides import CachedOverrides
from clearway.risk.selector import RiskSelector
from clearway.storage.accounts_wiring import AccountsWiring, wire_accounts
from clearway.storage.engine import make_engine
from clearway.storage.history import SqlHistory
from clearway.storage.migrate import upgrade
from clearway.storage.parties import operator_by_name, party_lookup
from clearway.storage.profile_overrides import StoredProfileOverrides
from clearway.storage.repository import Operators, SqlStore
from clearway.storage.single_window import AgencyGate
from clearway.wiring.rates import with_stored_rates
from clearway.wiring.settings import Settings


def check_runtime(settings: Settings) -> None:
    """The queued runtime needs PostgreSQL: several processes, advisory locks, COPY."""
    if settings.queue.queued and not settings.database_url.startswith("postgresql"):
        raise ValueError(
            "CLEARWAY_RUNTIME=queued needs PostgreSQL: set CLEARWAY_DATABASE_URL=postgresql://… "
            "(or use CLEARWAY_RUNTIME=inline, the single-process shape on SQLite)"
        )


@dataclass
class Services:
    settings: Settings
    engine: Engine
    store: SqlStore
    operators: Operators
    assessor: Assessor
    selector: Selector
    pipeline: Pipeline
    clearance: Clearance
    clock: Clock = field(default_factory=SystemClock)
    accounts: AccountsWiring | None = None  # registrations, accounts, declarations, returns
    # edited risk-profile versions as the built selector reads them; `invalidate()` after an edit
    profile_overrides: CachedOverrides | None = None
    # HS classification assistant, built on first use (model and index load once per process)
    classifier: LazyClassifier = field(default_factory=lambda: classifier_for(None))

    def close(self) -> None:
        self.engine.dispose()


def classifier_for(assessor: Assessor | None) -> LazyClassifier:
    """The classifier over the national tariff texts of the assessor's packs; one per process
    for the shipped packs (it holds the model and the index)."""
    if not isinstance(assessor, PackAssessor) or assessor.packs is _shipped_packs():
        return _shipped_classifier()
    packs = assessor.packs
    return LazyClassifier(lambda: national_texts(packs))


def _shipped_packs() -> dict[str, Pack]:
    return PackAssessor.load_default().packs


@cache
def _shipped_classifier() -> LazyClassifier:
    return LazyClassifier(lambda: national_texts(_shipped_packs()))


def build(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    migrate: bool = True,
    assessor: Assessor | None = None,
    selector: Selector | None = None,
) -> Services:
    """Wire the real adapters; the schema is brought up to date unless `migrate` is False."""
    settings = settings or Settings()
    clock = clock or SystemClock()
    check_runtime(settings)
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    store = SqlStore(engine)
    accounts = wire_accounts(engine, clock)
    holders = HolderCheck(accounts.accounts.registry)  # numbers count for their holders only
    assessor = assessor or with_stored_rates(
        PackAssessor.load_default(
            registration_status=holders.status,
            annual_usage=accounts.accounts.quotas.annual_usage,
        ),
        engine,
        settings,
    )
    history = SqlHistory(engine)  # risk history (entities, reference prices, same-day totals)
    edits = CachedOverrides(StoredProfileOverrides(engine))  # profile versions, read per day
    classifier = classifier_for(assessor)
    selector = selector or RiskSelector.load_default(
        fit=classifier.get,
        overrides=edits,
        seed=settings.seed,
        sample_rate=settings.sample_rate,
        budget=settings.budget,
        history=history,
        model_dir=Path(settings.risk_model) if settings.risk_model else None,
    )
    return Services(
        settings=settings,
        engine=engine,
        store=store,
        operators=Operators(engine, clock),
        assessor=assessor,
        selector=selector,
        pipeline=Pipeline(
            store,
            HolderCheckedAssessor(assessor, holders),
            TrustedTraderSelector(selector, accounts.accounts.registry),
            clock,
            JoinPolicy(party_lookup(engine, accounts.accounts.registry), operator_by_name(engine)),
            defer=settings.queue.queued,
            eligibility=_eligibility(assessor),
        ),
        clearance=Clearance(
            store,
            clock,
            accounts.gate,
            reassess=_reassessor(assessor),
            single_window=AgencyGate(engine),
        ),
        clock=clock,
        accounts=accounts,
        profile_overrides=edits,
        classifier=classifier,
    )


def _eligibility(assessor: Assessor) -> Eligibility | None:
    """The packs' data-set eligibility, when the assessor is the pack assessor."""
    return assessor.data_set_problems if isinstance(assessor, PackAssessor) else None


def _reassessor(assessor: Assessor) -> Callable[[FilingDocument, date], Assessment]:
    """One corrected document assessed again (an officer's correction, clearance/correction)."""

    def reassess(doc: FilingDocument, legal_date: date) -> Assessment:
        return assessor.assess_batch([AssessmentRequest("correction", doc, legal_date)])[0]

    return reassess
