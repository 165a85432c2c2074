"""pydantic models of the API's bodies.

Requests are validated with them; responses are documented with them (drf-spectacular reads their
JSON schema), so the OpenAPI document states every fact with its type, bounds and enum, and every
status, outcome and kind as an enum.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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


class ErrorResponse(BaseModel):
    detail: str
    errors: list[ErrorItem]


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
