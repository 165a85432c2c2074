"""The knowledge-base file's schema: what a modality, a rule, a guideline line and an order override
may hold, as strict pydantic models (unknown keys are refused). document.py reads a file with them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from .engine import (
    RuleKind,
)
from .vocabulary import (
    RULE_ID_PATTERN,
    RULE_TITLE_MAX_LENGTH,
    Category,
    IfUnknown,
    Intent,
    ModalityKey,
    Status,
    Verification,
)

SELF = "$modality"


_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


Text = Field(min_length=1)


class RuleDoc(BaseModel):
    model_config = _STRICT

    id: str = Field(pattern=RULE_ID_PATTERN)
    kind: RuleKind
    title: str = Field(min_length=1, max_length=120)
    when: Any
    reason: str = Text
    source: str = Text
    evidence: str = Text
    verification: Verification
    verification_note: str = ""
    if_unknown: IfUnknown = "hold"

    @field_validator("if_unknown")
    @classmethod
    def _note_only_for_barriers(cls, value: str, info: ValidationInfo) -> str:
        # A field validator, not a model validator, so that the problem names the field.
        kind = info.data.get("kind")  # absent when the kind itself is wrong
        if (
            value == "note"
            and kind is not None
            and kind not in ("requirement", "contraindication", "caution")
        ):
            raise ValueError("if_unknown: note is only for requirements, contraindications and cautions")
        return value


class CommonRuleDoc(RuleDoc):
    applies_to: list[ModalityKey] = Field(min_length=1)


class GuidelineLineDoc(BaseModel):
    model_config = _STRICT

    when: Any
    label: str = Field(min_length=1, max_length=RULE_TITLE_MAX_LENGTH)
    source: str = Text


class OrderOverrideDoc(BaseModel):
    model_config = _STRICT

    when: Any
    before: str = Text
    why: str = Text


class ModalityDoc(BaseModel):
    model_config = _STRICT

    key: ModalityKey
    name: str = Text
    category: Category
    intents: list[Intent] = Field(min_length=1)
    display_order: int = Field(ge=1)
    description: str = Text
    agents: str = Text
    hospital_page: str = ""
    # For patients, in plain English: what the option is and what having it involves (the patient
    # options sheet). Optional, so that a unit can load a knowledge base before writing them.
    patient_summary: str = ""
    # The unit's own patient-information page about the option, if it has one.
    patient_page_url: str = Field(default="", max_length=500, pattern=r"^(https://\S+)?$")
    notes: str = ""
    rules: list[RuleDoc] = Field(default_factory=list)
    guideline_lines: list[GuidelineLineDoc] = Field(default_factory=list)
    order_overrides: list[OrderOverrideDoc] = Field(default_factory=list)


class GoldenCaseDoc(BaseModel):
    """A golden case: a fictional patient and the statuses the rules must give (fixtures/golden/).

    It travels with the rule set: the content, and so the checksum, covers the rules and their tests.
    """

    model_config = _STRICT

    id: str = Field(min_length=1, max_length=100, pattern=r"^[0-9A-Za-z][0-9A-Za-z_.-]*$")
    title: str = Text
    story: str = ""
    profile: dict[str, Any] = Field(default_factory=dict)
    expect: dict[ModalityKey, Status] = Field(min_length=1)
    missing_facts: dict[ModalityKey, list[str]] = Field(default_factory=dict)
    why: str = ""


class KnowledgeBaseDoc(BaseModel):
    model_config = _STRICT

    version: str = Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z][0-9A-Za-z._+-]*$")
    title: str = Text
    notes: str = ""
    sets: dict[str, list[str]] = Field(default_factory=dict)
    common_rules: list[CommonRuleDoc] = Field(default_factory=list)
    modalities: list[ModalityDoc]
    tests: list[GoldenCaseDoc] = Field(default_factory=list)

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_text(cls, value: Any) -> Any:
        # YAML reads `version: 1.2` as a float; accept it as the text the author wrote.
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
