"""Compile a rule set once, evaluate a profile against it, and explain every verdict.

The status of one option follows architecture.md ("Rules as data") and knowledge-base.md 1.3:

1. a requirement not met, or a contraindication met -> not_suitable (a known barrier always wins);
2. every indication not met -> not_indicated;
3. an indication met and a trial_only rule met -> trial_only (unknowns that could still rule the
   option out are listed in missing_facts);
4. an unknown that could change the outcome -> needs_data, naming exactly those facts;
5. otherwise -> candidate. Cautions never change the status.

A caution whose facts are unknown is dropped, unless it says `if_unknown: note`: then it shows as
"not checked", naming the facts (as a noted requirement or contraindication does).

Options are ordered by status, then by the knowledge base's display order; an order override of
the knowledge base may move an option up within its status group (knowledge-base review, verdict
(f)). Each option also carries the first guideline line whose condition is met (a display aid:
unknown counts as not met), and the result carries warnings about values that are usually a slip
of unit (consistency.py).

Rule conditions are compiled into one generated Python function per rule set, so that evaluating a
profile runs straight-line code instead of walking trees; conditions.unknown_facts (the reference
interpreter) is only used to name the missing facts of an undecided rule.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from .conditions import (
    AllOf,
    AnyOf,
    Compare,
    Condition,
    NotOf,
    OptionStatus,
    Outcome,
    condition_facts,
    condition_to_data,
    describe,
    outcome,
    unknown_facts,
    uses_option_status,
)
from .consistency import FactWarning, unit_slips
from .profile import FACT_NAMES, PatientProfile, fact_label
from .vocabulary import OUTCOMES as OUTCOMES  # re-exported: other modules import these from here
from .vocabulary import RESULT_SCHEMA_VERSION, STATUSES, CautionType, IfUnknown, OutcomeWord, Status
from .vocabulary import RULE_KINDS as RULE_KINDS
from .vocabulary import RuleKind as RuleKind

# The display order of statuses, and the names other modules import from here.
STATUS_ORDER: tuple[Status, ...] = STATUSES
_STATUS_RANK: dict[str, int] = {status: rank for rank, status in enumerate(STATUS_ORDER)}
OUTCOME_WORDS: dict[Outcome, OutcomeWord] = {True: "met", False: "not_met", None: "unknown"}
_FACT_RANK = {name: rank for rank, name in enumerate(FACT_NAMES)}
_STATUS_STEP = 10_000  # a verdict's rank: its status's rank * _STATUS_STEP + display order
_DECISION_CACHE_SIZE = 20_000  # per modality; real profiles produce a few hundred outcome patterns


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


@dataclass(frozen=True, slots=True)
class _Plan:
    """A modality's rules, pre-sorted by kind into positions of its outcome tuple."""

    modality: ModalitySpec
    rules: tuple[CompiledRule, ...]
    pick: Callable[[Sequence[Outcome]], tuple[Outcome, ...]]
    indications: tuple[int, ...]
    requirements: tuple[int, ...]
    contraindications: tuple[int, ...]
    held: tuple[int, ...]
    noted: tuple[int, ...]
    trial_only: tuple[int, ...]
    cautions: tuple[int, ...]
    needs_statuses: bool
    # This modality's guideline lines, and the slot of the first pass's values that holds the
    # index of the first one met (None: none met); -1 when the modality has no lines.
    lines: tuple[GuidelineLine, ...] = ()
    line_slot: int = -1
    decisions: dict[tuple[Outcome, ...], _Decision] = field(default_factory=dict, compare=False)


class CompiledRuleSet:
    """A rule set ready to evaluate: built once per published version and shared by every request."""

    def __init__(
        self,
        info: RuleSetInfo,
        modalities: Iterable[ModalitySpec],
        rules: Iterable[RuleSpec],
        guideline_lines: Iterable[GuidelineLine] = (),
        order_overrides: Iterable[OrderOverride] = (),
    ):
        self.info = info
        self.modalities: tuple[ModalitySpec, ...] = tuple(sorted(modalities, key=lambda m: m.display_order))
        by_modality: dict[str, list[RuleSpec]] = {m.key: [] for m in self.modalities}
        for rule in rules:
            if rule.modality not in by_modality:
                raise RuleSetError(f"rule {rule.rule_id} belongs to unknown modality {rule.modality!r}")
            by_modality[rule.modality].append(rule)
        first, second = _Codegen(), _Codegen()
        self.names = {m.key: m.name for m in self.modalities}
        lines = _by_modality(guideline_lines, by_modality, "guideline line")
        plans = [
            self._plan(m, by_modality[m.key], first, second, self.names, lines[m.key])
            for m in self.modalities
        ]
        overrides = _by_modality(order_overrides, by_modality, "order override")
        # (override, its slot in the first pass, or -1 when it looks at other options' statuses
        # and is decided after all verdicts, by the reference interpreter)
        self._overrides = {
            key: [
                (item, -1 if uses_option_status(item.condition) else first.add(item.condition))
                for item in items
            ]
            for key, items in overrides.items()
            if items
        }
        self._orders = {m.key: m.display_order for m in self.modalities}
        self._status_outcomes: dict[tuple[int, frozenset[str]], Outcome] = {}
        self._fact_free = {
            id(item) for items in overrides.values() for item in items if not condition_facts(item.condition)
        }
        self._first_pass = [plan for plan in plans if not plan.needs_statuses]
        self._second_pass = [plan for plan in plans if plan.needs_statuses]
        self._evaluate_first = first.build()
        self._evaluate_second = second.build()
        self.rule_count = sum(len(plan.rules) for plan in plans)

    @staticmethod
    def _plan(
        modality: ModalitySpec,
        specs: list[RuleSpec],
        first: _Codegen,
        second: _Codegen,
        names: dict[str, str],
        lines: list[GuidelineLine],
    ) -> _Plan:
        if not any(spec.kind == "indication" for spec in specs):
            raise RuleSetError(f"modality {modality.key} has no indication rule")
        needs_statuses = any(uses_option_status(spec.condition) for spec in specs)
        codegen = second if needs_statuses else first
        slots = [codegen.add(spec.condition) for spec in specs]
        rules = tuple(_compiled_rule(spec, names) for spec in specs)

        def positions(*kinds: str, if_unknown: str | None = None) -> tuple[int, ...]:
            return tuple(
                i
                for i, spec in enumerate(specs)
                if spec.kind in kinds and (if_unknown is None or spec.if_unknown == if_unknown)
            )

        getter = operator.itemgetter(*slots)
        pick = getter if len(slots) > 1 else (lambda values: (getter(values),))
        return _Plan(
            modality=modality,
            rules=rules,
            pick=pick,
            indications=positions("indication"),
            requirements=positions("requirement"),
            contraindications=positions("contraindication"),
            held=positions("requirement", "contraindication", if_unknown="hold"),
            noted=positions("requirement", "contraindication", "caution", if_unknown="note"),
            trial_only=positions("trial_only"),
            cautions=positions("caution"),
            needs_statuses=needs_statuses,
            lines=tuple(lines),
            line_slot=first.add_first_met([line.condition for line in lines]) if lines else -1,
        )

    def evaluate(self, profile: PatientProfile) -> EvaluationResult:
        """One verdict per modality, candidates first, then by the knowledge base's display order."""
        facts = profile.__dict__
        values = self._evaluate_first(facts, frozenset())
        verdicts = [_verdict(plan, plan.pick(values), facts, values) for plan in self._first_pass]
        if self._second_pass:
            statuses = frozenset(verdict.status for verdict in verdicts)
            second = self._evaluate_second(facts, statuses)
            verdicts.extend(
                _verdict(plan, plan.pick(second), facts, values, statuses) for plan in self._second_pass
            )
        moved = self._moved(verdicts, facts, values) if self._overrides else None
        verdicts.sort(key=_moved_order(moved) if moved else _rank)
        return EvaluationResult(self.info, profile, tuple(verdicts), unit_slips(facts))

    def _moved(
        self, verdicts: list[Verdict], facts: Mapping[str, Any], first: Sequence[Outcome]
    ) -> dict[str, float]:
        """The options an order override moves, with the display position it moves them to."""
        moved: dict[str, float] = {}
        for verdict in verdicts:
            for override, slot in self._overrides.get(verdict.modality.key, ()):
                if slot >= 0:
                    met = first[slot]
                else:
                    met = self._status_outcome(override, facts, _other_statuses(verdicts, verdict))
                if met is True:  # unknown: the usual order
                    moved[verdict.modality.key] = self._position_before(override.before)
                    break
        return moved

    def _status_outcome(
        self, override: OrderOverride, facts: Mapping[str, Any], others: frozenset[str]
    ) -> Outcome:
        """The outcome of an override on other options' statuses (cached when it looks at no fact)."""
        if id(override) not in self._fact_free:
            return outcome(override.condition, facts, others)
        key = (id(override), others)
        if key not in self._status_outcomes:  # at most 2**5 status sets per override
            self._status_outcomes[key] = outcome(override.condition, facts, others)
        return self._status_outcomes[key]

    def _position_before(self, before: str) -> float:
        # Just above `before`; ties between options moved to the same place keep their own order.
        return 0.0 if before == BEFORE_ALL else self._orders.get(before, 0) - 0.5


def _compiled_rule(spec: RuleSpec, names: dict[str, str]) -> CompiledRule:
    text = describe(spec.condition, names)
    # The parts of a reason that do not depend on the patient, in the order the contract shows them;
    # outcome, decisive and values are filled in per verdict.
    reason_template = {
        "rule_id": spec.rule_id,
        "kind": spec.kind,
        "title": spec.title,
        "outcome": None,
        "decisive": None,
        "condition": text,
        "values": None,
        "text": spec.reason,
        "source": spec.source,
        "evidence": spec.evidence,
        "verification": spec.verification,
        "verification_note": spec.verification_note,
    }
    return CompiledRule(spec, condition_facts(spec.condition), text, reason_template)


def _rank(verdict: Verdict) -> int:
    return verdict.rank


def _other_statuses(verdicts: list[Verdict], own: Verdict) -> frozenset[str]:
    """The statuses of the *other* options, as option_status in rules sees them."""
    return frozenset(verdict.status for verdict in verdicts if verdict is not own)


def _moved_order(moved: dict[str, float]) -> Callable[[Verdict], tuple[int, float, int]]:
    """Status first, then the display order, with the moved options at their new position."""

    def order_key(verdict: Verdict) -> tuple[int, float, int]:
        own = verdict.modality.display_order
        return verdict.rank // _STATUS_STEP, moved.get(verdict.modality.key, own), own

    return order_key


def _by_modality(
    items: Iterable[GuidelineLine] | Iterable[OrderOverride], known: Mapping[str, Any], what: str
) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {key: [] for key in known}
    for item in items:
        if item.modality not in grouped:
            raise RuleSetError(f"{what} for unknown modality {item.modality!r}")
        grouped[item.modality].append(item)
    return grouped


class _Decision(NamedTuple):
    """What a modality's rule outcomes decide. It depends on the outcomes alone, so it is cached."""

    status: str
    decisive: frozenset[int]
    undecided: tuple[int, ...]  # rules whose unknown facts are the missing facts
    cautions: tuple[Caution, ...]
    rank: int


def _verdict(
    plan: _Plan,
    out: tuple[Outcome, ...],
    facts: Mapping[str, Any],
    first: Sequence[Outcome],
    statuses: frozenset[str] = frozenset(),
) -> Verdict:
    decision = plan.decisions.get(out)
    if decision is None:
        decision = _decide(plan, out)
        if len(plan.decisions) < _DECISION_CACHE_SIZE:
            plan.decisions[out] = decision
    missing = _missing(plan, decision.undecided, facts, statuses) if decision.undecided else ()
    cautions = decision.cautions
    if cautions:
        cautions = tuple(_name_unchecked(caution, facts, statuses) for caution in cautions)
    return Verdict(
        plan.modality,
        decision.status,
        plan.rules,
        out,
        decision.decisive,
        missing,
        cautions,
        facts,
        decision.rank,
        _guideline_line(plan, first),
    )


def _guideline_line(plan: _Plan, first: Sequence[Outcome]) -> GuidelineLine | None:
    if plan.line_slot < 0:
        return None
    # The slot holds an index (see _Codegen.add_first_met), not an outcome: an int, never a bool.
    index = first[plan.line_slot]
    return None if index is None else plan.lines[index]


def _name_unchecked(caution: Caution, facts: Mapping[str, Any], statuses: frozenset[str]) -> Caution:
    """A not-checked rule on several facts names only the unknown ones it hinges on.

    The cached decision depends on outcomes alone, so it cannot tell which facts those are.
    """
    if caution.kind != "not_checked" or len(caution.facts) == 1:
        return caution
    unknown = unknown_facts(caution.rule.spec.condition, facts, statuses)[1]
    return Caution(caution.rule, "not_checked", tuple(name for name in caution.facts if name in unknown))


def _decide(plan: _Plan, out: tuple[Outcome, ...]) -> _Decision:
    barriers = [i for i in plan.requirements if out[i] is False]
    barriers += [i for i in plan.contraindications if out[i] is True]
    if barriers:
        return _decision(plan, "not_suitable", barriers)
    met = [i for i in plan.indications if out[i] is True]
    if not met and all(out[i] is False for i in plan.indications):
        return _decision(plan, "not_indicated", plan.indications)
    held = [i for i in plan.held if out[i] is None]
    trial_met = [i for i in plan.trial_only if out[i] is True]
    if met and trial_met:
        return _decision(plan, "trial_only", met + trial_met, held, _cautions(plan, out))
    undecided = held + [i for i in plan.trial_only if out[i] is None]
    if not met:
        undecided += [i for i in plan.indications if out[i] is None]
    if undecided:
        return _decision(plan, "needs_data", undecided, undecided)
    return _decision(plan, "candidate", met, (), _cautions(plan, out))


def _decision(
    plan: _Plan,
    status: str,
    decisive: Iterable[int],
    undecided: Iterable[int] = (),
    cautions: tuple[Caution, ...] = (),
) -> _Decision:
    rank = _STATUS_RANK[status] * _STATUS_STEP + plan.modality.display_order
    return _Decision(status, frozenset(decisive), tuple(sorted(undecided)), cautions, rank)


def _missing(
    plan: _Plan, positions: Iterable[int], facts: Mapping[str, Any], statuses: frozenset[str]
) -> tuple[str, ...]:
    names: set[str] = set()
    for i in positions:
        names |= unknown_facts(plan.rules[i].spec.condition, facts, statuses)[1]
    return tuple(sorted(names, key=_FACT_RANK.__getitem__))


def _cautions(plan: _Plan, out: tuple[Outcome, ...]) -> tuple[Caution, ...]:
    cautions = [Caution(plan.rules[i], "caution") for i in plan.cautions if out[i] is True]
    for i in plan.noted:
        if out[i] is None:
            rule = plan.rules[i]
            cautions.append(Caution(rule, "not_checked", rule.facts))
    return tuple(cautions)


# --- code generation ----------------------------------------------------------------------------

_PY_OPS = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "in": "in",
    "not_in": "not in",
}


class _Codegen:
    """Turns conditions into one straight-line function `(facts, statuses) -> tuple of outcomes`.

    Identical sub-conditions (the common rules appear in many modalities) are computed once.
    """

    def __init__(self) -> None:
        self._facts: dict[str, str] = {}
        self._nodes: dict[str, str] = {}
        self._lines: list[str] = []
        self._constants: dict[str, Any] = {}
        self._results: list[str] = []

    def add(self, condition: Condition) -> int:
        self._results.append(self._node(condition))
        return len(self._results) - 1

    def add_first_met(self, conditions: Sequence[Condition]) -> int:
        """A slot holding the index of the first condition that is met (None if none is)."""
        nodes = [self._node(condition) for condition in conditions]
        choices = " else ".join(f"{index} if {node} is True" for index, node in enumerate(nodes))
        self._results.append(f"({choices} else None)")
        return len(self._results) - 1

    def build(self) -> Callable[[Mapping[str, Any], frozenset[str]], tuple[Outcome, ...]]:
        body = [f"    {var} = facts[{name!r}]" for name, var in self._facts.items()]
        body += [f"    {line}" for line in self._lines]
        body.append(f"    return ({''.join(result + ', ' for result in self._results)})")
        source = "def evaluate(facts, statuses):\n" + "\n".join(body) + "\n"
        namespace: dict[str, Any] = dict(self._constants)
        exec(compile(source, "<compiled rule set>", "exec"), namespace)  # noqa: S102 - our own generated code
        return namespace["evaluate"]  # type: ignore[no-any-return]

    def _node(self, condition: Condition) -> str:
        key = json.dumps(condition_to_data(condition), sort_keys=True)
        if key in self._nodes:
            return self._nodes[key]
        expression = self._expression(condition)
        var = f"n{len(self._nodes)}"
        self._lines.append(f"{var} = {expression}")
        self._nodes[key] = var
        return var

    def _expression(self, condition: Condition) -> str:
        if isinstance(condition, Compare):
            return self._compare(condition)
        if isinstance(condition, OptionStatus):
            return f"({condition.option_status!r} in statuses)"
        if isinstance(condition, NotOf):
            child = self._node(condition.not_)
            return f"(None if {child} is None else not {child})"
        parts = [
            self._node(child) for child in (condition.all if isinstance(condition, AllOf) else condition.any)
        ]
        if isinstance(condition, AnyOf):
            decisive, other = "True", "False"
        else:
            decisive, other = "False", "True"
        decided = " or ".join(f"{part} is {decisive}" for part in parts)
        unknown = " or ".join(f"{part} is None" for part in parts)
        return f"({decisive} if ({decided}) else (None if ({unknown}) else {other}))"

    def _compare(self, node: Compare) -> str:
        var = self._facts.setdefault(node.fact, f"f{len(self._facts)}")
        if node.op == "is_known":
            return f"({var} is {'not ' if node.value else ''}None)"
        if node.op == "contains":
            return f"(None if {var} is None else {node.value!r} in {var})"
        if node.op in ("in", "not_in"):
            constant = f"K{len(self._constants)}"
            self._constants[constant] = frozenset(node.value)
            return f"(None if {var} is None else {var} {_PY_OPS[node.op]} {constant})"
        return f"(None if {var} is None else {var} {_PY_OPS[node.op]} {node.value!r})"


def evaluate(profile: PatientProfile, ruleset: CompiledRuleSet) -> EvaluationResult:
    """Evaluate one profile against a compiled rule set (see CompiledRuleSet.evaluate)."""
    return ruleset.evaluate(profile)
