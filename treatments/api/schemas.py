"""pydantic models of the API's bodies.

Requests are validated with them; responses are documented with them (drf-spectacular reads their
JSON schema), so the OpenAPI document states every fact with its type, bounds and enum, and every
status, outcome and kind as an enum.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Any, Literal

from drf_spectacular.utils import OpenApiResponse
from pydantic import BaseModel, ConfigDict, Field, RootModel

from treatments.rules.conditions import Status
from treatments.rules.document import Category, Intent, Verification
from treatments.rules.engine import RuleKind
from treatments.rules.profile import FACT_NAMES, ModalityKey, PatientProfile

MAX_BATCH = 1000

FactName = Literal[FACT_NAMES]  # type: ignore[valid-type]
_FORBID = ConfigDict(extra="forbid")


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
            "POST /api/v1/eligibility/). Items are validated one by one: an invalid item gets its own "
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
    kind: RuleKind
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
    verification: Verification = Field(
        description="recall / to_be_confirmed: check the source before release."
    )
    verification_note: str


class Caution(BaseModel):
    rule_id: str
    type: Literal["caution", "not_checked"]
    facts: list[FactName]
    text: str


class Option(BaseModel):
    modality: ModalityKey
    name: str
    category: Category
    status: Status
    intent: list[Intent]
    reasons: list[Reason] = Field(
        description="Every rule of the modality, with its outcome for this patient."
    )
    missing_facts: list[FactName] = Field(description="Unknown facts whose value could change the status.")
    cautions: list[Caution]


class EligibilityResponse(BaseModel):
    ruleset: RuleSetRef
    options: list[Option] = Field(description="One per modality: candidates first, then by display order.")


class BatchResult(BaseModel):
    index: int
    options: list[Option] | None = Field(default=None, description="Present when the profile was valid.")
    errors: list[ErrorItem] | None = Field(default=None, description="Present when the profile was invalid.")


class BatchResponse(BaseModel):
    ruleset: RuleSetRef
    results: list[BatchResult]


class TokenRequest(BaseModel):
    model_config = _FORBID
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=4096)


class TokenResponse(BaseModel):
    token: str


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
    modality: ModalityKey
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
    options: list[Option]
    reviews: list[ReviewOut]


class FactChangeOut(BaseModel):
    fact: FactName
    old: Any
    new: Any


class OutcomeChangeOut(BaseModel):
    rule_id: str
    old_outcome: Literal["met", "not_met", "unknown"] | None
    new_outcome: Literal["met", "not_met", "unknown"]


class StatusChangeOut(BaseModel):
    modality: ModalityKey
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
    chosen_modalities: list[ModalityKey]
    plan: str
    statuses: dict[str, Status] = Field(description="Each chosen option's status in the evaluation shown.")
    concordant: bool | None = Field(description="Every chosen option was a candidate; null when none chosen.")
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
    created_by: str
    created_at: datetime
    cases: list[MeetingEntryOut]
    concordance: ConcordanceOut


class FactToObtainOut(BaseModel):
    fact: FactName
    modalities: list[ModalityKey]


class WorklistRowOut(BaseModel):
    position: int
    case: CaseOut
    evaluation: int | None
    ready: bool
    out_of_date: list[str]
    data_to_obtain: list[FactToObtainOut]
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


class EvaluationList(RootModel[list[EvaluationOut]]):
    """A case's evaluations, newest first."""


class MeetingList(RootModel[list[MeetingOut]]):
    """MDT meetings, newest first."""


class Worklist(RootModel[list[WorklistRowOut]]):
    """A meeting's cases in order, with their readiness."""


CONFLICT_RESPONSE = {
    409: OpenApiResponse(ConflictResponse, description="Someone saved a newer version first.")
}
