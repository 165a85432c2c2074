"""pydantic models of the API's bodies, as /api/v2/ (contract 1.2) documents them.

Requests are validated with them and stay closed: every fact with its type, bounds and enum.
Responses are documented with them (drf-spectacular reads their JSON schema). A response value that
is expected to grow - modality keys, categories, intents, rule kinds, verifications, caution types,
fact names - is an OPEN string whose known values the description lists (docs/contract.md 4.2):
a client generated from the document must show a new value as text rather than fail. `status` and
`outcome` stay closed. /api/v1/ is described by its saved document (openapi/v1.yaml), not by these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal

from drf_spectacular.utils import OpenApiResponse
from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints

from treatments.rules.conditions import Status
from treatments.rules.profile import FACT_NAMES, PatientProfile
from treatments.rules.vocabulary import (
    CATEGORIES,
    CAUTION_TYPES,
    INTENTS,
    MODALITY_KEYS,
    RULE_KINDS,
    VERIFICATIONS,
    NextStep,
)

MAX_BATCH = 1000

_FORBID = ConfigDict(extra="forbid")


def _open(what: str, known: Iterable[str]) -> str:
    return f"{what}. Open: more values may come; known values: {', '.join(known)}."


MODALITY = _open("A modality key", MODALITY_KEYS)
FACT = _open("A fact name", FACT_NAMES)


class EligibilityRequest(BaseModel):
    """`{"profile": {...facts...}}`: every fact optional; absent or null = unknown."""

    model_config = _FORBID
    profile: PatientProfile


class BatchRequest(BaseModel):
    """`{"profiles": [{...facts...}, ...]}`: at most 1,000 profiles, answered in the order given."""

    model_config = _FORBID
    profiles: list[Any] = Field(
        max_length=MAX_BATCH,
        description=(
            "Each item is a patient profile with the facts of `PatientProfile` (as in "
            "POST /api/v2/eligibility/). Items are validated one by one: an invalid item gets its own "
            "`errors` entry in the results and never spoils the others."
        ),
    )


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(description='Path to the field, e.g. ["profile", "ki67_percent"].')
    msg: str


class RuleSetRef(BaseModel):
    version: str
    published_at: datetime | None


class Reason(BaseModel):
    rule_id: str
    kind: str = Field(description=_open("The rule's kind", RULE_KINDS))
    title: str
    outcome: Literal["met", "not_met", "unknown"]
    decisive: bool = Field(description="Whether this rule decided the option's status.")
    condition: str = Field(description="The rule's condition in plain English.")
    values: dict[str, Any] = Field(
        description="The patient's values of the facts the rule looked at (null = unknown)."
    )
    text: str = Field(description="Why the rule exists, in plain English.")
    source: str
    evidence: str
    verification: str = Field(
        description="recall / to_be_confirmed: check the source before release. "
        + _open("The rule's verification", VERIFICATIONS)
    )
    verification_note: str


class Caution(BaseModel):
    rule_id: str
    type: str = Field(
        description=_open("caution: a warning; not_checked: a fact it needs is unknown", CAUTION_TYPES)
    )
    facts: list[str] = Field(description=FACT)
    text: str


class GuidelineLine(BaseModel):
    label: str = Field(description='Where the option stands in the guideline sequence, e.g. "first line".')
    source: str


class Option(BaseModel):
    modality: str = Field(description=MODALITY)
    name: str
    category: str = Field(description=_open("The modality's category", CATEGORIES))
    status: Status
    intent: list[str] = Field(description=_open("Intents", INTENTS))
    reasons: list[Reason] = Field(
        description="Every rule of the modality, with its outcome for this patient."
    )
    missing_facts: list[str] = Field(description="Unknown facts whose value could change the status. " + FACT)
    cautions: list[Caution]
    guideline_line: GuidelineLine | None = Field(
        default=None,
        description="The option's place in the guideline sequence (a display aid, not a ranking); null "
        "when none applies. Absent from evaluations stored under contract 1.1.",
    )


class FactWarning(BaseModel):
    facts: list[str] = Field(description="The facts involved. " + FACT)
    msg: str = Field(description="A likely unit slip or unusual value: accepted, to be checked.")


class EligibilityResponse(BaseModel):
    schema_version: int = Field(description="2 for contract 1.2.")
    ruleset: RuleSetRef
    warnings: list[FactWarning] = Field(description="Show at the top of the result.")
    options: list[Option] = Field(description="One per modality: candidates first, then by display order.")


# An option in `?view=summary`: one row of SUMMARY_COLUMNS (rules/serialize.py).
OptionSummary = tuple[
    Annotated[str, Field(description=MODALITY)],
    Status,
    Annotated[list[str], Field(description="The ids of the rules that decided the status.")],
    Annotated[list[str], Field(description="Unknown facts whose value could change the status. " + FACT)],
    Annotated[list[str], Field(description="The ids of the rules that gave the option's cautions.")],
]
SUMMARY_ROW = (
    "One row per option, in the order of the full answer, with the `columns` modality, status, "
    "deciding_rules (rule ids), missing_facts and cautions (rule ids)."
)


class EligibilitySummary(BaseModel):
    """The answer with `?view=summary`: at most 5 kB per profile, for batch clients."""

    schema_version: int = Field(description="2 for contract 1.2.")
    view: Literal["summary"]
    ruleset: RuleSetRef
    warnings: list[FactWarning] = Field(description="Show at the top of the result.")
    columns: list[str] = Field(
        description='Always ["modality", "status", "deciding_rules", "missing_facts", "cautions"].'
    )
    options: list[OptionSummary] = Field(description=SUMMARY_ROW)


class EligibilityAnswer(RootModel[EligibilityResponse | EligibilitySummary]):
    """The full answer, or with `?view=summary` the summary."""


class BatchResult(BaseModel):
    index: int
    warnings: list[FactWarning] | None = Field(
        default=None, description="Present when the profile was valid."
    )
    options: list[Option] | list[OptionSummary] | None = Field(
        default=None,
        description="Present when the profile was valid; with `?view=summary`, rows of `columns`.",
    )
    errors: list[ErrorItem] | None = Field(default=None, description="Present when the profile was invalid.")


class BatchResponse(BaseModel):
    ruleset: RuleSetRef
    columns: list[str] | None = Field(
        default=None, description="With `?view=summary`: the columns of each option's row."
    )
    results: list[BatchResult]


class TokenRequest(BaseModel):
    model_config = _FORBID
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=4096)


class TokenResponse(BaseModel):
    token: str


class TokenRequestV2(TokenRequest):
    # No control characters (PostgreSQL refuses NUL in text); surrounding blanks are dropped.
    client: (
        Annotated[
            str,
            StringConstraints(
                strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$"
            ),
        ]
        | None
    ) = Field(
        default=None,
        description="A name for the client that will use the token (shown when listing or revoking it).",
    )


class TokenIssued(TokenResponse):
    token: str = Field(description="The secret: shown this once, stored by NETcare only as a hash.")
    client: str
    prefix: str = Field(description="The secret's first characters, which name the token in lists.")
    expires_at: datetime


# --- the MDT workflow -----------------------------------------------------------------------------


class LatestEvaluation(BaseModel):
    id: int
    created_at: datetime
    ruleset_version: str
    out_of_date: list[str] = Field(description="Why it no longer reflects the case; empty when current.")


class CaseOut(BaseModel):
    id: int
    hospital_reference: str
    nhs_number: str = Field(description="10 digits, or empty.")
    referring_clinician: str
    question: str
    clinical_summary: str
    profile: dict[str, Any] = Field(description="The known facts; a fact that is absent is unknown.")
    status: Literal["draft", "ready", "discussed", "closed"]
    archived: bool
    version: int = Field(description="Send it back when changing the case; a newer one is a conflict (409).")
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    latest_evaluation: LatestEvaluation | None


class CasePage(BaseModel):
    count: int
    page: int
    pages: int
    results: list[CaseOut]


class ReviewOut(BaseModel):
    modality: str = Field(description=MODALITY)
    decision: Literal["accept", "reject", "defer"]
    reason_code: str
    note: str
    version: int
    reviewed_by: str
    reviewed_at: datetime


class EvaluationOut(BaseModel):
    id: int
    case: int
    created_at: datetime
    created_by: str
    ruleset: dict[str, Any] = Field(description="version, published_at and checksum of the rule set used.")
    profile: dict[str, Any]
    out_of_date: list[str]
    warnings: list[FactWarning] = Field(description="The evaluation's warnings (none before 1.2).")
    options: list[Option]
    reviews: list[ReviewOut]


class FactChangeOut(BaseModel):
    fact: str = Field(description=FACT)
    old: Any
    new: Any


class OutcomeChangeOut(BaseModel):
    rule_id: str
    old_outcome: Literal["met", "not_met", "unknown"] | None
    new_outcome: Literal["met", "not_met", "unknown"]


class StatusChangeOut(BaseModel):
    modality: str = Field(description=MODALITY)
    old_status: Status | None
    new_status: Status | None
    deciding_rules: list[str]
    outcome_changes: list[OutcomeChangeOut]


class EvaluationChangesOut(BaseModel):
    before: int
    after: int
    facts: list[FactChangeOut]
    options: list[StatusChangeOut]


class OutcomeOut(BaseModel):
    case: int
    evaluation: int
    chosen_modalities: list[str] = Field(description=MODALITY)
    next_steps: list[NextStep] = Field(default_factory=list, description="Coded next steps (contract 1.2).")
    plan: str
    statuses: dict[str, Status] = Field(description="Each chosen option's status in the evaluation shown.")
    concordant: bool | None = Field(
        description="Every chosen option was a candidate or trial only; null when none chosen."
    )
    version: int
    recorded_by: str
    recorded_at: datetime


class MeetingEntryOut(BaseModel):
    position: int
    case: int
    hospital_reference: str


class ConcordanceOut(BaseModel):
    concordant: int
    decided: int
    recorded: int
    percent: int | None


class MeetingOut(BaseModel):
    id: int
    title: str
    date: dt.date
    version: int = Field(description="Send it back when changing the meeting (edit conflicts).")
    created_by: str
    created_at: datetime
    cases: list[MeetingEntryOut]
    concordance: ConcordanceOut


class FactToObtainOut(BaseModel):
    fact: str = Field(description=FACT)
    modalities: list[str] = Field(description=MODALITY)


class NotNeededOut(BaseModel):
    fact: str
    reason: str
    waived_by: str
    waived_at: datetime


class WorklistRowOut(BaseModel):
    position: int
    case: CaseOut
    evaluation: int | None
    ready: bool = Field(description="Prepared: evaluated, up to date, nothing left to obtain.")
    out_of_date: list[str]
    data_to_obtain: list[FactToObtainOut] = Field(description="Less the facts marked not needed.")
    not_needed: list[NotNeededOut] = Field(
        default_factory=list, description="Facts marked not needed for the case, with why (v2)."
    )
    outcome: OutcomeOut | None


class CaseSummaryOut(BaseModel):
    case: CaseOut
    evaluation: EvaluationOut | None
    data_to_obtain: list[FactToObtainOut]
    outcomes: list[OutcomeOut]


class ConflictResponse(BaseModel):
    detail: str
    errors: list[ErrorItem]
    current: dict[str, Any] | None = Field(description="What the other person saved (null if removed).")


class EvaluationPage(BaseModel):
    """A page of a case's evaluations, newest first (20 a page)."""

    count: int
    page: int
    pages: int
    results: list[EvaluationOut]


class MeetingPage(BaseModel):
    """A page of MDT meetings, newest first (50 a page)."""

    count: int
    page: int
    pages: int
    results: list[MeetingOut]


class Worklist(RootModel[list[WorklistRowOut]]):
    """A meeting's cases in order, with their readiness."""


CONFLICT_RESPONSE = {
    409: OpenApiResponse(ConflictResponse, description="Someone saved a newer version first.")
}
