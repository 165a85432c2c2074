"""What a user may send to change MDT data: one pydantic model per write, shared by the API and the
pages, so that both accept and refuse the same things with the same field paths and messages."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from .models import nhs_number_is_valid
from .rules.errors import register_pattern_message
from .rules.profile import ModalityKey, PatientProfile
from .rules.vocabulary import (
    FACT_DATA_SOURCE,
    MAX_WAIVER_REASON_LENGTH,
    NEXT_STEPS,
    REASON_CODE_LABELS,
    REASON_CODES_BY_DECISION,
    CaseStatus,
    Decision,
    MdtRole,
    NextStep,
    ReasonCode,
)

_STRICT = ConfigDict(extra="forbid")

# Control characters (C0 and DEL) are refused in every text: PostgreSQL cannot store NUL (it was a
# 500, security review F7) and the others are never meant in clinical text. Multi-line text may
# hold tab, newline and carriage return; a one-line text may not.
_CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_character_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why a text may not be stored (it holds a control character), or None when it may."""
    found = (_CONTROL_IN_TEXT if multiline else _CONTROL_IN_LINE).search(value)
    if found is None:
        return None
    return f"must not contain control characters (found U+{ord(found.group()):04X})"


def _one_line(value: str) -> str:
    problem = control_character_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _multi_line(value: str) -> str:
    problem = control_character_problem(value, multiline=True)
    if problem:
        raise ValueError(problem)
    return value


# Text is checked as sent (so the limits mean what the schema says) and then trimmed; required text
# must hold something other than spaces.
Line = Annotated[str, AfterValidator(_one_line), AfterValidator(str.strip)]
Text = Annotated[str, AfterValidator(_multi_line), AfterValidator(str.strip)]
NOT_BLANK = r"\S"

# A search is a few words: each word is one more condition on every row (security review F1).
MAX_SEARCH_WORDS = 12


def _few_words(value: str) -> str:
    if len(value.split()) > MAX_SEARCH_WORDS:
        raise ValueError(f"must be at most {MAX_SEARCH_WORDS} words")
    return value


# The text of a search box or ?search= (one line, at most MAX_SEARCH_WORDS words).
SearchText = Annotated[str, AfterValidator(_one_line), AfterValidator(_few_words)]

REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9/\-]*$"
register_pattern_message(
    REFERENCE_PATTERN, "may hold only letters, digits, / and - (first a letter or digit)"
)


def normalise_nhs_number(value: Any) -> Any:
    """'943 476 5919' -> '9434765919'; '' or None -> ''. Raises ValueError when the check digit fails."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value  # the str type check reports it
    digits = re.sub(r"[\s-]", "", value)
    # ASCII digits only: str.isdigit() also accepts Arabic-Indic or full-width digits, which the
    # database's check constraint then refused with a 500 (security review F7).
    if digits and not re.fullmatch(r"[0-9]{10}", digits):
        raise ValueError("must be 10 digits (spaces and hyphens are ignored)")
    if digits and not nhs_number_is_valid(digits):
        raise ValueError("is not a valid NHS number: its check digit does not match (modulus 11)")
    return digits


class CaseFields(BaseModel):
    model_config = _STRICT

    hospital_reference: str = Field(min_length=1, max_length=30, pattern=REFERENCE_PATTERN)
    nhs_number: str | None = Field(
        default="", description="Optional (empty or null: none); spaces and hyphens are ignored."
    )
    referring_clinician: Line = Field(min_length=1, max_length=150, pattern=NOT_BLANK)
    question: Text = Field(min_length=1, max_length=2000, pattern=NOT_BLANK)
    clinical_summary: Text = Field(default="", max_length=4000)
    profile: PatientProfile = Field(default_factory=PatientProfile)
    status: CaseStatus = "draft"

    @field_validator("nhs_number", mode="before")
    @classmethod
    def _nhs(cls, value: Any) -> Any:
        return normalise_nhs_number(value)


class CaseCreate(CaseFields):
    """A new case: the hospital reference, the question and whatever facts are known."""


class CaseChange(BaseModel):
    """Changes to a case. `version` is the version the user saw; a newer one means a conflict."""

    model_config = _STRICT

    version: int = Field(ge=1)
    hospital_reference: str | None = Field(
        default=None, min_length=1, max_length=30, pattern=REFERENCE_PATTERN
    )
    nhs_number: str | None = None
    referring_clinician: Line | None = Field(default=None, min_length=1, max_length=150, pattern=NOT_BLANK)
    question: Text | None = Field(default=None, min_length=1, max_length=2000, pattern=NOT_BLANK)
    clinical_summary: Text | None = Field(default=None, max_length=4000)
    profile: PatientProfile | None = None
    status: CaseStatus | None = None

    @field_validator("nhs_number", mode="before")
    @classmethod
    def _nhs(cls, value: Any) -> Any:
        return None if value is None else normalise_nhs_number(value)

    def changes(self) -> dict[str, Any]:
        """The fields the user sent (a null nhs_number clears it)."""
        return {name: getattr(self, name) for name in self.model_fields_set if name != "version"}


class ReviewInput(BaseModel):
    """A clinician's review of one option. `version` is the review version the clinician saw
    (null or absent when they saw no review yet)."""

    model_config = _STRICT

    decision: Decision
    reason_code: ReasonCode
    note: Text = Field(default="", max_length=2000, validate_default=True)
    version: int | None = Field(default=None, ge=1)

    @field_validator("reason_code")
    @classmethod
    def _fits_the_decision(cls, code: str, info: ValidationInfo) -> str:
        decision = info.data.get("decision")
        if decision in REASON_CODES_BY_DECISION and code not in REASON_CODES_BY_DECISION[decision]:
            fitting = ", ".join(f"'{REASON_CODE_LABELS[c]}'" for c in REASON_CODES_BY_DECISION[decision])
            raise ValueError(f"'{REASON_CODE_LABELS[code]}' is not a reason to {decision}: choose {fitting}")  # type: ignore[index]
        return code

    @field_validator("note")
    @classmethod
    def _other_needs_a_note(cls, note: str, info: ValidationInfo) -> str:
        if info.data.get("reason_code") == "other" and not note:
            raise ValueError("is required when the reason is 'other'")
        return note


class MeetingInput(BaseModel):
    model_config = _STRICT

    title: Line = Field(min_length=1, max_length=200, pattern=NOT_BLANK)
    date: dt.date

    @field_validator("date", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError("must be a date as YYYY-MM-DD")


class MeetingChange(MeetingInput):
    """Changes to a meeting. `version` is the version the user saw; a newer one means a conflict
    (security review F12: concurrent changes were lost, the last writer won)."""

    version: int = Field(ge=1)


class MeetingCaseAdd(BaseModel):
    model_config = _STRICT
    case: int = Field(ge=1, description="The case id.")


class MeetingOrder(BaseModel):
    model_config = _STRICT
    cases: list[int] = Field(description="Every case id of the meeting, in the new order.")


class OutcomeInput(BaseModel):
    """The MDT's decision: the options chosen (none is allowed, e.g. surveillance), the coded next
    steps, and the plan."""

    model_config = _STRICT

    chosen_modalities: list[ModalityKey] = Field(default_factory=list, max_length=15)
    next_steps: list[NextStep] = Field(
        default_factory=list,
        max_length=len(NEXT_STEPS),
        description="Coded next steps beyond the options chosen (surveillance, further imaging, ...).",
    )
    plan: Text = Field(min_length=1, max_length=4000, pattern=NOT_BLANK)
    version: int | None = Field(default=None, ge=1)
    # The evaluation whose options the clinician saw; when it is not the case's latest, nothing is
    # recorded (security review F12). Absent only from /api/v1/, which published no such field.
    evaluation: int | None = Field(default=None, ge=1, description="The id of the evaluation shown.")

    @field_validator("chosen_modalities", "next_steps")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists an item more than once")
        return value


class OutcomeRecord(OutcomeInput):
    """An outcome as /api/v2/ and the page send it: naming the evaluation shown is required."""

    evaluation: int = Field(ge=1, description="The id of the evaluation shown.")


class WaiverInput(BaseModel):
    """An unknown fact marked "not needed" for a case, and why (readiness then ignores it)."""

    model_config = _STRICT

    fact: str = Field(description="A fact of contract section 1.")
    reason: Line = Field(min_length=1, max_length=MAX_WAIVER_REASON_LENGTH, pattern=NOT_BLANK)

    @field_validator("fact")
    @classmethod
    def _known_fact(cls, fact: str) -> str:
        if fact not in FACT_DATA_SOURCE:
            raise ValueError(f"is not a fact of the contract: {fact!r}")
        return fact


class AttendeeInput(BaseModel):
    """Someone present at a meeting, and their role in the MDT."""

    model_config = _STRICT

    name: Line = Field(min_length=1, max_length=150, pattern=NOT_BLANK)
    role: MdtRole
