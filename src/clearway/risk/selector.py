"""RiskSelector: the pipeline's decision step (implements `clearway.domain.ports.Selector`).

For each batch: columns are built once; profiles, validation findings and (when one is loaded)
the targeting model give risk points; `pre_loading` filings get a referral, others a lane within
the office's inspection budget, with random control samples on top. Every decision lists its
reasons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from clearway.domain.decision import (
    LANE_ORDER,
    REFERRAL_ORDER,
    Contribution,
    Decision,
    Reason,
)
from clearway.domain.ports import RiskInput
from clearway.risk.columns import Columns
from clearway.risk.history import HistoryProvider
from clearway.risk.hs_fit import FitSource
from clearway.risk.overrides import BatchOverrides, CachedOverrides, ProfileOverrides
from clearway.risk.profiles import ProfileSet, default_profiles
from clearway.risk.referral import missing_security_data, referral_from_points, referral_name
from clearway.risk.sampling import sampled
from clearway.risk.sanctions import SanctionsList, default_list
from clearway.risk.selection import InspectionBudget, SelectionPolicy, lane_name, proposed_lanes

FloatArray = npt.NDArray[np.float64]


class Scorer(Protocol):
    """A targeting model as the selector sees it."""

    version: str

    def score_inputs(
        self, columns: Columns, history: HistoryProvider | None
    ) -> tuple[FloatArray, list[list[Contribution]]]:
        """Probability of an irregularity per consignment, and its top contributions."""
        ...


@dataclass
class ProfileTracker:
    """Hits and inspection outcomes per profile, so analysts can see which profiles pay off."""

    hits: dict[str, int] = field(default_factory=dict)
    inspected: dict[str, int] = field(default_factory=dict)
    irregular: dict[str, int] = field(default_factory=dict)

    def record_hits(self, profile_id: str, count: int) -> None:
        self.hits[profile_id] = self.hits.get(profile_id, 0) + count

    def record_outcome(self, decision: Decision, *, irregular: bool) -> None:
        """Count an inspection result against every profile that hit the consignment."""
        for reason in decision.reasons:
            if reason.source != "rule":
                continue
            self.inspected[reason.code] = self.inspected.get(reason.code, 0) + 1
            if irregular:
                self.irregular[reason.code] = self.irregular.get(reason.code, 0) + 1

    def hit_rate(self, profile_id: str) -> float | None:
        inspected = self.inspected.get(profile_id, 0)
        return self.irregular.get(profile_id, 0) / inspected if inspected else None


class RiskSelector:
    def __init__(
        self,
        *,
        profiles: ProfileSet,
        policy: SelectionPolicy,
        history: HistoryProvider | None = None,
        sanctions: SanctionsList | None = None,
        scorer: Scorer | None = None,
        overrides: ProfileOverrides | None = None,
        fit: FitSource | None = None,
    ) -> None:
        self.profiles = profiles
        self.fit = fit  # the HS classifier for `hs_fit` profiles (built on first use)
        self.overrides = overrides  # edited profile versions (see `risk.overrides`)
        self.policy = policy
        self.history = history
        self.sanctions = sanctions
        self.scorer = scorer
        self.budget = InspectionBudget(policy)
        self.tracker = ProfileTracker()
        self.policy_name = policy.describe(scorer.version if scorer else None)
        # a history provider that keeps counts (the database one) need only count the kinds
        # the profiles and the model look up; a model that does not say which: all of them
        kinds = self.history_kinds()
        narrow = getattr(history, "count_only", None)
        if narrow is not None and kinds is not None:
            narrow(kinds)

    def history_kinds(self) -> frozenset[str] | None:
        """The entity kinds this selector asks history for (None: not known, any)."""
        if self.scorer is None:
            return self.profiles.history_kinds
        of_model = getattr(self.scorer, "history_kinds", None)
        if of_model is None:
            return None
        return self.profiles.history_kinds | frozenset(of_model())

    @classmethod
    def load_default(
        cls,
        *,
        seed: int = 0,
        sample_rate: float = 0.01,
        budget: float = 0.05,
        history: HistoryProvider | None = None,
        office_budgets: Mapping[str, float] | None = None,
        scorer: Scorer | None = None,
        model_dir: Path | None = None,
        overrides: ProfileOverrides | None = None,
        overrides_ttl: float = 2.0,
        fit: FitSource | None = None,
    ) -> RiskSelector:
        """Shipped profiles and sanctions list. Rules only unless a model is given, either as a
        `scorer` or as a model folder (`clearway risk train` output or a retrained model).

        `overrides` (edited profile versions) are read per legal date and kept `overrides_ttl`
        seconds (`CachedOverrides`, used as given when it already is one; 0 reads them for
        every batch)."""
        if scorer is None and model_dir is not None:
            from clearway.risk.model import TargetingModel

            scorer = TargetingModel.load(model_dir)
        policy = SelectionPolicy(
            budget=budget,
            sample_rate=sample_rate,
            seed=seed,
            office_budgets=dict(office_budgets or {}),
        )
        if (
            overrides is not None
            and overrides_ttl > 0
            and not isinstance(overrides, CachedOverrides)
        ):
            overrides = CachedOverrides(overrides, ttl=overrides_ttl)
        return cls(
            profiles=default_profiles(),
            policy=policy,
            history=history,
            sanctions=default_list(),
            scorer=scorer,
            overrides=overrides,
            fit=fit,
        )

    def decide_batch(self, inputs: Sequence[RiskInput]) -> list[Decision]:
        if not inputs:
            return []
        n = len(inputs)
        policy = self.policy
        columns = Columns(inputs)
        reasons: list[list[Reason]] = [[] for _ in range(n)]
        points = np.zeros(n, dtype=np.float64)
        forced_lane = np.full(n, LANE_ORDER["green"], dtype=np.int64)
        forced_referral = np.full(n, REFERRAL_ORDER["assessment_complete"], dtype=np.int64)

        data_set = columns.consignment("data_set")
        edited = (
            None
            if self.overrides is None
            else BatchOverrides.for_batch([r.legal_date for r in inputs], self.overrides)
        )
        hits, ctx = self.profiles.evaluate(
            columns, history=self.history, sanctions=self.sanctions, overrides=edited, fit=self.fit
        )
        first_item = np.searchsorted(columns.item_owner, np.arange(n))
        for profile, mask in hits:
            all_rows = np.flatnonzero(mask)
            self.tracker.record_hits(profile.id, len(all_rows))
            groups = [(None, all_rows)] if edited is None else edited.split(profile.id, all_rows)
            for version, rows in groups:
                if version is None:
                    weight, lane, referral = profile.weight, profile.lane, profile.referral
                    reason = profile.reason
                else:
                    weight, lane, referral = version.weight, version.lane, version.referral
                    reason = version.reason
                points[rows] += weight
                if lane is not None:
                    forced_lane[rows] = np.maximum(forced_lane[rows], LANE_ORDER[lane])
                if referral is not None:
                    forced_referral[rows] = np.maximum(
                        forced_referral[rows], REFERRAL_ORDER[referral]
                    )
                for row in rows:
                    text = reason
                    if ctx.sanction_hits:
                        text += _sanction_detail(ctx, int(first_item[row]), columns, int(row))
                    notes = ctx.details.get(f"{profile.source}: profile {profile.id}")
                    if notes:
                        text += _row_detail(notes, int(first_item[row]), columns, int(row))
                    is_pre = data_set[row] == "pre_loading"
                    reasons[row].append(
                        Reason(
                            source="rule",
                            code=profile.id,
                            text=text,
                            weight=weight,
                            outcome=referral if is_pre else lane,
                        )
                    )

        for i, r in enumerate(inputs):
            for finding in r.findings:
                weight = policy.validation_weights.get(
                    finding.code, policy.default_validation_weight
                )
                points[i] += weight
                reasons[i].append(
                    Reason(
                        source="validation",
                        code=finding.code,
                        text=finding.message,
                        weight=weight,
                        path=finding.path,
                    )
                )

        pre = data_set == "pre_loading"
        decisions: list[Decision | None] = [None] * n
        if pre.any():
            self._refer(columns, np.flatnonzero(pre), points, forced_referral, reasons, decisions)
        if (~pre).any():
            self._select(columns, np.flatnonzero(~pre), points, forced_lane, reasons, decisions)
        # a history provider that keeps counts (the database one) counts this batch, once
        # stored, from these columns rather than reading it back
        note = getattr(self.history, "note_batch", None)
        if note is not None:
            note(columns)
        return [d for d in decisions if d is not None]

    def _refer(
        self,
        columns: Columns,
        rows: npt.NDArray[np.int64],
        points: FloatArray,
        forced: npt.NDArray[np.int64],
        reasons: list[list[Reason]],
        out: list[Decision | None],
    ) -> None:
        referral = np.maximum(forced[rows], referral_from_points(points[rows], self.policy))
        for missing, mask in missing_security_data(columns):
            for pos, row in enumerate(rows):
                if mask[row]:
                    referral[pos] = max(
                        int(referral[pos]), REFERRAL_ORDER["request_for_information"]
                    )
                    reasons[row].append(
                        Reason(
                            source="validation",
                            code=missing.code,
                            text=missing.text,
                            path=missing.path,
                            outcome="request_for_information",
                        )
                    )
        for pos, row in enumerate(rows):
            out[row] = Decision(
                referral=referral_name(int(referral[pos])),  # type: ignore[arg-type]
                reasons=reasons[row],
                policy=self.policy_name,
            )

    def _select(
        self,
        columns: Columns,
        rows: npt.NDArray[np.int64],
        points: FloatArray,
        forced: npt.NDArray[np.int64],
        reasons: list[list[Reason]],
        out: list[Decision | None],
    ) -> None:
        policy = self.policy
        scores: FloatArray | None = None
        contributions: list[list[Contribution]] = []
        if self.scorer is not None:
            # one call for the batch; its columns as they are when no row is left out
            whole = len(rows) == columns.n
            sub = columns if whole else Columns([columns.inputs[i] for i in rows])
            scores, contributions = self.scorer.score_inputs(sub, self.history)
            points[rows] += policy.model_weight * scores
        ids = [str(x) for x in columns.consignment("consignment_id")[rows]]
        sample = sampled(ids, policy.seed, policy.sample_rate)
        lanes = np.maximum(proposed_lanes(points[rows], policy), forced[rows])
        lanes[sample] = np.maximum(lanes[sample], LANE_ORDER[policy.random_lane])
        mandatory = (forced[rows] >= LANE_ORDER["yellow"]) | sample
        offices = [str(x) for x in columns.consignment("office")[rows]]
        downgraded = self.budget.apply(offices, lanes, points[rows], mandatory)
        for pos, row in enumerate(rows):
            why = reasons[row]
            if scores is not None:
                why.append(
                    Reason(
                        source="model",
                        code=self.scorer.version if self.scorer else "model",
                        text=f"model score {scores[pos]:.3f}",
                        weight=round(float(policy.model_weight * scores[pos]), 3),
                    )
                )
            if sample[pos]:
                why.append(
                    Reason(
                        source="random",
                        code="control_sample",
                        text=f"random control sample (rate {policy.sample_rate})",
                        outcome=policy.random_lane,
                    )
                )
            if downgraded[pos]:
                why.append(
                    Reason(
                        source="rule",
                        code="POLICY-BUDGET",
                        text="inspection budget of the office used up: post-release audit instead",
                        outcome="blue",
                    )
                )
            out[row] = Decision(
                lane=lane_name(int(lanes[pos])),  # type: ignore[arg-type]
                score=None if scores is None else round(float(scores[pos]), 6),
                model_version=self.scorer.version if self.scorer else None,
                contributions=contributions[pos] if contributions else [],
                random_sample=bool(sample[pos]),
                reasons=why,
                policy=self.policy_name,
            )


def _sanction_detail(ctx: object, first_row: int, columns: Columns, cons: int) -> str:
    """' (matches <listed> on <source> <ref>, score s)' for a consignment with a sanctions hit."""
    hits = getattr(ctx, "sanction_hits", {})
    owner = columns.item_owner
    row = first_row
    while row < len(owner) and owner[row] == cons:
        hit = hits.get(row)
        if hit is not None:
            return (
                f" ({hit.name!r} matches {hit.listed!r}, {hit.source} {hit.ref}, score {hit.score})"
            )
        row += 1
    return ""


def _row_detail(notes: Mapping[int, str], first_row: int, columns: Columns, cons: int) -> str:
    """The detail a condition left for the first of a consignment's items it hit."""
    owner = columns.item_owner
    row = first_row
    while row < len(owner) and owner[row] == cons:
        if row in notes:
            return notes[row]
        row += 1
    return ""
