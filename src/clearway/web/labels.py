"""Words for the codes the engine stores (statuses, lanes, payment states, events, charges,
assessment flags, validation problems, system hold reasons), as catalogue keys.

Templates say `label("status", c.status)`; the catalogues translate `status_held` and so on.
`keys()` lists every such key so a test can fail when a catalogue lacks one. This module
depends on no page: pages and the language module both read it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from clearway.clearance.handlers import PAYMENT_HOLD
from clearway.domain.decision import LANE_ORDER, REFERRAL_ORDER, Reason
from clearway.domain.lifecycle import ACTIONS, PAYMENT_STATUSES, PAYMENT_TRANSITIONS, STATUSES
from clearway.kernel.errors import Problem
from clearway.storage.profile_versions import PROFILE_STATUSES

LANES = tuple(LANE_ORDER)
REFERRALS = tuple(REFERRAL_ORDER)
EVENTS = ("file", *sorted(ACTIONS), *sorted({f"payment_{a}" for _, a in PAYMENT_TRANSITIONS}))
CHARGES = ("duty", "vat", "consumption_tax", "excise", "fee")
REASON_SOURCES = ("validation", "rule", "model", "random", "match", "revenue", "account")
CATEGORIES = ("sale_of_goods", "gift", "commercial_sample", "returned_goods", "documents", "other")
COLLECTION_MODELS = ("consumer", "vendor", "intermediary")
PAYERS = ("none", "vendor", "intermediary", "consumer")
# Actions offered on the officer and agency pages (`action_<name>` in the catalogues).
PAGE_ACTIONS = (
    "request_documents",
    "record_inspection",
    "record_payment",
    "hold",
    "lift_hold",
    "release",
    "seize",
    "return_to_sender",
)
MODES = ("post", "express", "air_cargo", "road", "rail", "sea")
# Flags the calculator and the collection rules put on an assessment (revenue/calculator.py,
# revenue/collection.py, revenue/assessor.py fallbacks).
FLAGS = (
    "manual_assessment_required",
    "fx_rate_unavailable",
    "jurisdiction_not_covered",
    "assessment_failed",
    "hs_code_missing",
    "hs_code_unknown",
    "tariff_rate_default",
    "tariff_line_ambiguous",
    "duty_expression_approximated",
    "origin_rate_unknown",
    "net_mass_missing",
    "value_missing",
    "value_negative",
    "excise_goods",
    "documents",
    "returned_goods_relief",
    "gift_relief_duty",
    "gift_relief_tax",
    "duty_de_minimis",
    "tax_de_minimis",
    "cbec_within_limits",
    "cbec_single_item_above_transaction_limit",
    "cbec_annual_limit_exceeded",
    "cbec_general_trade",
    "registration_number_missing",
    "registration_number_invalid",
    "vendor_collection_unavailable",
    "vendor_collection_above_threshold",
    "vendor_collection_excise_goods",
    "intermediary_collection_unavailable",
    "excise_not_computed",
    "excise_ad_valorem_on_declared_value",
    "duty_relief_excluded_goods",
    "fx_rate_approximated",
    "gift_conditions_not_met",
    "gift_flat_rate",
    "tariff_line_carried_hs2022",
    "tariff_snapshot_unverified",
    "vendor_collection_not_a_sale",
    "registration_number_not_held",
    "law_period_not_covered",
    "additional_duties_not_modelled",
    "tax_waived_small_amount",
    "tax_region_unknown",
)
# Flags that mean the amount shown is not the whole amount (said at the top of the estimate).
INCOMPLETE_FLAGS = (
    "manual_assessment_required",
    "fx_rate_unavailable",
    "hs_code_missing",
    "hs_code_unknown",
    "net_mass_missing",
    "excise_not_computed",
    "law_period_not_covered",
    "additional_duties_not_modelled",
)
# Flags that mean the amount is computed but may differ from what customs will charge.
APPROXIMATE_FLAGS = (
    "tariff_rate_default",
    "tariff_line_ambiguous",
    "duty_expression_approximated",
    "origin_rate_unknown",
    "hs_code_suggested",
    "fx_rate_approximated",
    "tariff_snapshot_unverified",
    "excise_ad_valorem_on_declared_value",
    "tax_region_unknown",
)
# Problem codes the pages can show: form and storage refusals, and the validation and record
# matching findings that become decision reasons (tests/web/test_catalogues.py finds every
# literal code in the modules the pages call and fails when one is missing here).
PROBLEMS = (
    "required",
    "number",
    "not_a_number",
    "range",
    "negative",
    "length",
    "type",
    "enum",
    "too_many",
    "currency_unknown",
    "country_unknown",
    "destination_not_served",
    "hs_unknown",
    "hs_code",
    "legal_date_future",
    "legal_date_backdated",
    "law_period_not_covered",
    "registration_number_missing",
    "date",
    "unchanged",
    "backdated",
    "format",
    "integer",
    "invalid",
    "failed",
    "locked",
    "empty",
    "malformed_json",
    "too_deep",
    "duplicate_key",
    "number_syntax",
    "precision",
    "negative_zero",
    "unknown_field",
    "awb_invalid",
    "s10_invalid",
    "email_invalid",
    "mass_implausible",
    "totals_mismatch",
    "vague_description",
    "security_data_missing",
    "proposal_pending",
    "not_proposed",
    "not_author",
    "own_proposal",
    "already_declared",
    "join_refused",
    "role_not_allowed",
    "amendment_refused",
    "withdrawal_refused",
    "held_unmatched",
    "unknown_reference",
    "match_leg_missing",
    "match_order_number",
    "match_orderer",
    "match_amount",
    "match_platform",
    "match_goods",
    "match_payer",
    "match_payer_id",
    "match_declared_value",
    "match_consignee",
    "unsafe_character",
    "date_range",
)
# Reasons the engine writes with a fixed code (risk/selector.py, clearance/referrals.py,
# clearance/handlers.py, clearance/pipeline.py, accounts/standing.py); `reason_<code>`.
REASON_CODES = (
    "model",
    "control_sample",
    "POLICY-BUDGET",
    "AEO",
    "referral_open",
    "referral_resolved",
    "match_leg_overdue",
    "manual_assessment_required",
)
# Messages the pages show above a form or on an error page, by the English words they start
# with (`detail_<key>`); the rest of the message (names, amounts) is kept as it is.
DETAILS = {
    "the form is not valid": "form_invalid",
    "the request is not valid": "request_invalid",
    "the action form is not valid": "form_invalid",
    "the hold form is not valid": "form_invalid",
    "the payment form is not valid": "form_invalid",
    "the profile version is not valid": "version_invalid",
    "the review is not valid": "review_invalid",
    "the user cannot be created": "user_invalid",
    "the form is missing its security token": "csrf",
    "this page needs one of the roles:": "roles",
    "cannot release: holds still open by": "release_holds",
    "cannot release: duty and tax are due and not paid": "release_unpaid",
    "a hold needs a reason": "hold_reason",
    "lifting a hold needs a reason": "lift_reason",
    "no open hold by": "no_hold",
    "nothing is due on this consignment": "nothing_due",
    "the amount due is": "amount_due",
    "an inspection result needs": "inspection_found",
}
# Fields of a risk-profile version (`field_<name>` in the diff tables).
PROFILE_FIELDS = ("active", "weight", "lane", "referral", "reason")
# Hold reasons the engine writes itself (clearance/handlers.py); agencies' own words stay theirs.
SYSTEM_HOLDS = {
    "documentary check (yellow lane)": "yellow_lane",
    "physical or non-intrusive inspection (red lane)": "red_lane",
    PAYMENT_HOLD: "payment",
    "no pre-arrival decision: complete data set needed": "no_decision",
    "manual assessment required: duty and tax could not be computed": "manual_assessment",
    "documents requested": "documents_requested",
}
_MATCH_HOLD = "record match incomplete"

GROUPS: dict[str, tuple[str, ...]] = {
    "status": STATUSES,
    "lane": LANES,
    "referral": REFERRALS,
    "payment": PAYMENT_STATUSES,
    "event": EVENTS,
    "charge": CHARGES,
    "source": REASON_SOURCES,
    "flag": FLAGS,
    "problem": PROBLEMS,
    "hold": (*SYSTEM_HOLDS.values(), "record_match"),
    "mode": MODES,
    "reason": REASON_CODES,
    "version": PROFILE_STATUSES,
    "field": PROFILE_FIELDS,
    "selection": ("baseline", "lane", "rule", "score"),  # statistics.measures hit-rate groups
    "detail": tuple(sorted(set(DETAILS.values()))),
}


def keys() -> set[str]:
    """Every catalogue key built from a code (both catalogues must have each)."""
    return {f"{group}_{code}" for group, codes in GROUPS.items() for code in codes}


def labeller(gettext: Callable[[str], str]) -> Callable[[str, object], str]:
    """`label(group, code)`: the catalogue's words, or the code made readable if unknown."""

    def label(group: str, code: object) -> str:
        if code is None or code == "":
            return ""
        key = f"{group}_{code}"
        text = gettext(key)
        return text if text != key else str(code).replace("_", " ")

    return label


def hold_reason(gettext: Callable[[str], str], reason: str) -> str:
    """A hold reason in the page's language when the engine wrote it, else as written."""
    key = SYSTEM_HOLDS.get(reason)
    if key is not None:
        return gettext(f"hold_{key}")
    if reason.startswith(_MATCH_HOLD):
        return gettext("hold_record_match") + reason[len(_MATCH_HOLD) :]
    return reason


def data_text(gettext: Callable[[str], str], kind: str, code: str, english: str) -> str:
    """A name or text that ships in English in a data file, in the page's language
    (`<kind>_<code>` in the catalogue; the data's own text where there is none)."""
    key = f"{kind}_{code}"
    text = gettext(key)
    return english if text == key else text


def profile_reason(gettext: Callable[[str], str], profile_id: str, shipped: str) -> str:
    """A shipped risk profile's reason in the page's language (`profile_<ID>`; the YAML text
    is the English one)."""
    return data_text(gettext, "profile", profile_id, shipped)


def reason_text(
    gettext: Callable[[str], str], reason: Reason, lang: str, shipped: Mapping[str, str]
) -> str:
    """A decision reason in the page's language. English pages show the text the engine wrote
    (with its details); other languages show the catalogue's words for the code: a shipped
    profile's reason (keeping details the engine appended), a validation or matching problem,
    or a fixed engine reason. Words an analyst wrote for an edited profile stay as written."""
    if lang == "en":
        return reason.text
    if reason.source == "rule" and reason.code in shipped:
        english = shipped[reason.code]
        if reason.text.startswith(english):
            return profile_reason(gettext, reason.code, english) + reason.text[len(english) :]
        return reason.text
    if reason.source in ("validation", "match") and reason.code in PROBLEMS:
        key = f"problem_{reason.code}"
    elif reason.source == "model":
        key = "reason_model"
    else:
        key = f"reason_{reason.code}"
    text = gettext(key)
    return reason.text if text == key else text


def problem_text(gettext: Callable[[str], str], problem: Problem, lang: str) -> str:
    """A refusal's message: as written on English pages (it names the values), else the
    catalogue's words for its code."""
    if lang == "en":
        return problem.message
    key = f"problem_{problem.code}"
    text = gettext(key)
    return problem.message if text == key else text


def detail_text(gettext: Callable[[str], str], detail: str, lang: str) -> str:
    """An error's message in the page's language when it starts with words the catalogue
    knows (the rest of it, such as names or amounts, kept); else as written."""
    if lang == "en" or not detail:
        return detail
    for start, key in DETAILS.items():
        if detail.startswith(start):
            text = gettext(f"detail_{key}")
            if text == f"detail_{key}":
                return detail
            rest = detail[len(start) :].strip(" ;:")
            return f"{text} {rest}" if rest and key in _DETAIL_TAILS else text
    return detail


# Messages whose tail carries data worth keeping (who holds, what is due).
_DETAIL_TAILS = {"roles", "release_holds", "no_hold", "nothing_due", "amount_due"}
