"""What the engine takes and what it gives: the specs of a rule set (modalities, rules, guideline
lines, order overrides) and an evaluation's result (verdicts, reasons, cautions, warnings).

Plain frozen dataclasses, so that results can be stored, compared and read back (serialize.py).
engine.py re-exports them: import them from either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .conditions import (
    Condition,
    Outcome,
)
from .consistency import FactWarning
from .profile import FACT_NAMES, PatientProfile, fact_label
from .vocabulary import RESULT_SCHEMA_VERSION, CautionType, IfUnknown, OutcomeWord, RuleKind

OUTCOME_WORDS: dict[Outcome, OutcomeWord] = {True: "met", False: "not_met", None: "unknown"}
FACT_RANK = {name: rank for rank, name in enumerate(FACT_NAMES)}


@dataclass(frozen=True, slots=True)
class ModalitySpec:
    key: str
    name: str
    category: str
    intents: tuple[str, ...]
    display_order: int
    # Filled lazily by serialize.py with this modality's pre-encoded JSON templates.
    json_parts: list[Any] = field(default_factory=list, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class RuleSpec:
    rule_id: str
    modality: str
    kind: RuleKind
    title: str
    condition: Condition
    reason: str
    source: str
    evidence: str
    verification: str = "verified"
    verification_note: str = ""
    if_unknown: IfUnknown = "hold"


@dataclass(frozen=True, slots=True)
class GuidelineLine:
    """Where a modality stands in a guideline's sequence in a setting: shown, never decisive."""

    modality: str
    condition: Condition
    label: str
    source: str
    json_parts: list[Any] = field(default_factory=list, compare=False, repr=False)  # see serialize.py


# `before` of an order override that moves an option to the top of its status group.
BEFORE_ALL = "all"


@dataclass(frozen=True, slots=True)
class OrderOverride:
    """Show `modality` just above `before` (or first, BEFORE_ALL) in its status group when met."""

    modality: str
    condition: Condition
    before: str
    why: str


@dataclass(frozen=True, slots=True)
class CompiledRule:
    spec: RuleSpec
    facts: tuple[str, ...]
    condition_text: str
    # What the rule says, whatever the patient: the fixed parts of every reason it gives.
    reason_template: Mapping[str, Any] = field(default_factory=dict, compare=False)
    json_parts: list[Any] = field(default_factory=list, compare=False, repr=False)  # see serialize.py

    @property
    def rule_id(self) -> str:
        return self.spec.rule_id

    @property
    def kind(self) -> str:
        return self.spec.kind


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule of a verdict: what it says, how it came out for this patient, and whether it decided."""

    rule: CompiledRule
    outcome: Outcome
    decisive: bool
    values: dict[str, Any]

    @property
    def outcome_word(self) -> str:
        return OUTCOME_WORDS[self.outcome]


@dataclass(frozen=True, slots=True)
class Caution:
    rule: CompiledRule
    kind: CautionType
    facts: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        if self.kind == "not_checked":
            unknown = ", ".join(f"{fact_label(name)} is unknown" for name in self.facts)
            return f"Not checked: {unknown}. {self.rule.spec.title}: {self.rule.spec.reason}"
        return f"{self.rule.spec.title}: {self.rule.spec.reason}"


class Verdict:
    """The answer for one modality: status, every rule's outcome, what decided it, what is missing.

    Reasons (with the patient's values) are built on demand from the outcomes: the verdict already
    holds everything they say.
    """

    __slots__ = (
        "modality",
        "status",
        "rules",
        "outcomes",
        "decisive",
        "missing_facts",
        "cautions",
        "facts",
        "rank",
        "guideline_line",
    )

    def __init__(
        self,
        modality: ModalitySpec,
        status: str,
        rules: tuple[CompiledRule, ...],
        outcomes: tuple[Outcome, ...],
        decisive: frozenset[int],
        missing_facts: tuple[str, ...],
        cautions: tuple[Caution, ...],
        facts: Mapping[str, Any],
        rank: int = 0,
        guideline_line: GuidelineLine | None = None,
    ):
        self.modality = modality
        self.status = status
        self.rules = rules
        self.outcomes = outcomes
        self.decisive = decisive
        self.missing_facts = missing_facts
        self.cautions = cautions
        self.facts = facts
        self.rank = rank
        self.guideline_line = guideline_line

    def __repr__(self) -> str:
        return f"<Verdict {self.modality.key}: {self.status}>"

    @property
    def reasons(self) -> tuple[Reason, ...]:
        """Every rule of the modality with its outcome, the patient's values and whether it decided."""
        return tuple(
            Reason(rule, outcome, position in self.decisive, {name: self.facts[name] for name in rule.facts})
            for position, (rule, outcome) in enumerate(zip(self.rules, self.outcomes, strict=True))
        )

    @property
    def deciding_reasons(self) -> tuple[Reason, ...]:
        return tuple(reason for reason in self.reasons if reason.decisive)


@dataclass(frozen=True, slots=True)
class RuleSetInfo:
    version: str
    published_at: datetime | None = None
    checksum: str = ""


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    ruleset: RuleSetInfo
    profile: PatientProfile
    verdicts: tuple[Verdict, ...]
    warnings: tuple[FactWarning, ...] = ()
    # The shape of the stored answer this result was read from (serialize.py); 1 = before contract
    # 1.2, so that an old evaluation is shown, and written back, exactly as it was made.
    schema_version: int = RESULT_SCHEMA_VERSION

    def verdict(self, modality: str) -> Verdict:
        return next(verdict for verdict in self.verdicts if verdict.modality.key == modality)

    def statuses(self) -> dict[str, str]:
        return {verdict.modality.key: verdict.status for verdict in self.verdicts}


class RuleSetError(ValueError):
    """The rules do not make a usable rule set (e.g. a modality without an indication)."""
