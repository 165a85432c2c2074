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
profile runs straight-line code instead of walking trees; the facts an undecided rule hinges on are
named by a generated twin of conditions.unknown_facts (the reference interpreter), one per rule.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .codegen import Codegen, UnknownFacts, unknown_facts_functions
from .conditions import (
    Outcome,
    condition_facts,
    describe,
    outcome,
    uses_option_status,
)
from .consistency import unit_slips
from .profile import PatientProfile

# The engine's inputs and results live in results.py; they are re-exported from here.
from .results import BEFORE_ALL as BEFORE_ALL
from .results import FACT_RANK as FACT_RANK
from .results import OUTCOME_WORDS as OUTCOME_WORDS
from .results import Caution as Caution
from .results import CompiledRule as CompiledRule
from .results import EvaluationResult as EvaluationResult
from .results import GuidelineLine as GuidelineLine
from .results import ModalitySpec as ModalitySpec
from .results import OrderOverride as OrderOverride
from .results import Reason as Reason
from .results import RuleSetError as RuleSetError
from .results import RuleSetInfo as RuleSetInfo
from .results import RuleSpec as RuleSpec
from .results import Verdict as Verdict
from .vocabulary import OUTCOMES as OUTCOMES  # re-exported: other modules import these from here
from .vocabulary import RULE_KINDS as RULE_KINDS
from .vocabulary import STATUSES, Status
from .vocabulary import RuleKind as RuleKind

# The display order of statuses, and the names other modules import from here.
STATUS_ORDER: tuple[Status, ...] = STATUSES
_STATUS_RANK: dict[str, int] = {status: rank for rank, status in enumerate(STATUS_ORDER)}
_STATUS_STEP = 10_000  # a verdict's rank: its status's rank * _STATUS_STEP + display order
_DECISION_CACHE_SIZE = 8_192  # patterns per modality: at most about 2 MB each (see _Plan.distinct)


@dataclass(frozen=True, slots=True)
class _Plan:
    """A modality's rules, pre-sorted by kind into positions of its outcome tuple."""

    modality: ModalitySpec
    rules: tuple[CompiledRule, ...]
    slot: int  # the slot of its pass's values that holds the tuple of its rules' outcomes
    indications: tuple[int, ...]
    requirements: tuple[int, ...]
    contraindications: tuple[int, ...]
    held: tuple[int, ...]
    noted: tuple[int, ...]
    trial_only: tuple[int, ...]
    cautions: tuple[int, ...]
    needs_statuses: bool
    # Per rule, the generated function naming the unknown facts an undecided outcome hinges on.
    unknown: tuple[UnknownFacts, ...]
    # The slot of the first pass's values that holds this modality's first guideline line whose
    # condition is met (None: none met, or no lines).
    line_slot: int
    decisions: dict[tuple[Outcome, ...], _Decision] = field(default_factory=dict, compare=False)
    # Each distinct decision once: tens of thousands of outcome patterns share a few thousand
    # decisions, and a process keeps its cache for the rule set's life (memory, not speed).
    distinct: dict[tuple[Any, ...], _Decision] = field(default_factory=dict, compare=False)


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
        first, second = Codegen(), Codegen()
        self.names = {m.key: m.name for m in self.modalities}
        lines = _by_modality(guideline_lines, by_modality, "guideline line")
        plans = [
            self._plan(m, by_modality[m.key], first, second, self.names, lines[m.key])
            for m in self.modalities
        ]
        overrides = _by_modality(order_overrides, by_modality, "order override")
        second_pass = {plan.modality.key for plan in plans if plan.needs_statuses}
        self._overrides = {
            key: [_override_slot(item, key in second_pass, first, second) for item in items]
            for key, items in overrides.items()
            if items
        }
        self._orders = {m.key: m.display_order for m in self.modalities}
        self._status_outcomes: dict[tuple[int, frozenset[str]], Outcome] = {}
        self._fact_free = {
            id(item) for items in overrides.values() for item in items if not condition_facts(item.condition)
        }
        self._first_pass = [plan for plan in plans if not plan.needs_statuses]
        # What evaluate reads of each first-pass plan, unpacked once (it runs per modality per profile).
        self._first_loop = tuple(
            (plan, plan.slot, plan.decisions.get, plan.modality, plan.rules, plan.line_slot)
            for plan in self._first_pass
        )
        self._second_pass = [plan for plan in plans if plan.needs_statuses]
        self._evaluate_first = first.build()
        self._evaluate_second = second.build()
        self.rule_count = sum(len(plan.rules) for plan in plans)

    @staticmethod
    def _plan(
        modality: ModalitySpec,
        specs: list[RuleSpec],
        first: Codegen,
        second: Codegen,
        names: dict[str, str],
        lines: list[GuidelineLine],
    ) -> _Plan:
        if not any(spec.kind == "indication" for spec in specs):
            raise RuleSetError(f"modality {modality.key} has no indication rule")
        needs_statuses = any(uses_option_status(spec.condition) for spec in specs)
        codegen = second if needs_statuses else first
        slot = codegen.add_group([spec.condition for spec in specs])
        rules = tuple(_compiled_rule(spec, names) for spec in specs)

        def positions(*kinds: str, if_unknown: str | None = None) -> tuple[int, ...]:
            return tuple(
                i
                for i, spec in enumerate(specs)
                if spec.kind in kinds and (if_unknown is None or spec.if_unknown == if_unknown)
            )

        return _Plan(
            modality=modality,
            rules=rules,
            slot=slot,
            indications=positions("indication"),
            requirements=positions("requirement"),
            contraindications=positions("contraindication"),
            held=positions("requirement", "contraindication", if_unknown="hold"),
            noted=positions("requirement", "contraindication", "caution", if_unknown="note"),
            trial_only=positions("trial_only"),
            cautions=positions("caution"),
            needs_statuses=needs_statuses,
            unknown=unknown_facts_functions([spec.condition for spec in specs]),
            line_slot=first.add_first_met([line.condition for line in lines], lines),
        )

    def evaluate(self, profile: PatientProfile) -> EvaluationResult:
        """One verdict per modality, candidates first, then by the knowledge base's display order."""
        facts = profile.__dict__
        values = self._evaluate_first(facts, frozenset())
        verdicts: list[Verdict] = []
        append = verdicts.append
        for plan, slot, decided, modality, rules, line_slot in self._first_loop:
            out = values[slot]
            decision = decided(out)
            if decision is None:
                append(_verdict(plan, out, facts, values))
                continue
            status, decisive, _, cautions, rank, _, per_profile = decision
            if per_profile:
                append(_verdict(plan, out, facts, values))
            else:  # the common case, inline: nothing in the decision depends on more than the outcomes
                append(
                    Verdict(
                        modality, status, rules, out, decisive, (), cautions, facts, rank, values[line_slot]
                    )
                )
        second: tuple[Any, ...] = ()
        if self._second_pass:
            statuses = frozenset(map(_STATUS, verdicts))
            second = self._evaluate_second(facts, statuses)
            verdicts.extend(
                _verdict(plan, second[plan.slot], facts, values, statuses) for plan in self._second_pass
            )
        moved = self._moved(verdicts, facts, (values, second)) if self._overrides else None
        verdicts.sort(key=_moved_order(moved) if moved else _RANK)
        return EvaluationResult(self.info, profile, tuple(verdicts), unit_slips(facts))

    def _moved(
        self, verdicts: list[Verdict], facts: Mapping[str, Any], passes: tuple[Sequence[Any], ...]
    ) -> dict[str, float]:
        """The options an order override moves, with the display position it moves them to."""
        moved: dict[str, float] = {}
        for key, overrides in self._overrides.items():
            for override, which, slot in overrides:
                if which is not None:
                    met = passes[which][slot]
                else:
                    verdict = next(verdict for verdict in verdicts if verdict.modality.key == key)
                    met = self._status_outcome(override, facts, _other_statuses(verdicts, verdict))
                if met is True:  # unknown: the usual order
                    moved[key] = self._position_before(override.before)
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


_RANK = operator.attrgetter("rank")
_STATUS = operator.attrgetter("status")


def _other_statuses(verdicts: list[Verdict], own: Verdict) -> frozenset[str]:
    """The statuses of the *other* options, as option_status in rules sees them."""
    return frozenset(verdict.status for verdict in verdicts if verdict is not own)


def _override_slot(
    override: OrderOverride, in_second_pass: bool, first: Codegen, second: Codegen
) -> tuple[OrderOverride, int | None, int]:
    """(override, which pass computes it, its slot there); pass None: the reference interpreter.

    An override of an option decided in the second pass sees the other options' statuses there, as
    that option's own rules do; one on other options' statuses of a first-pass option is decided
    after all verdicts.
    """
    if not uses_option_status(override.condition):
        return override, 0, first.add(override.condition)
    if in_second_pass:
        return override, 1, second.add(override.condition)
    return override, None, -1


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
    unchecked: bool  # a not-checked rule on several facts: which are unknown varies by profile
    per_profile: bool  # missing facts or unchecked cautions to name from the profile's facts


def _verdict(
    plan: _Plan,
    out: tuple[Outcome, ...],
    facts: Mapping[str, Any],
    first: Sequence[Any],  # the first pass's slots (Codegen.build)
    statuses: frozenset[str] = frozenset(),
) -> Verdict:
    decision = plan.decisions.get(out)
    if decision is None:
        decision = _decide(plan, out)
        decision = plan.distinct.setdefault(_identity(decision), decision)
        if len(plan.decisions) < _DECISION_CACHE_SIZE:
            plan.decisions[out] = decision
    missing = _missing(plan, decision.undecided, facts, statuses) if decision.undecided else ()
    cautions = decision.cautions
    if decision.unchecked:
        cautions = tuple(_name_unchecked(plan, caution, facts, statuses) for caution in cautions)
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
        first[plan.line_slot],  # a GuidelineLine or None (Codegen.add_first_met), not an outcome
    )


def _name_unchecked(
    plan: _Plan, caution: Caution, facts: Mapping[str, Any], statuses: frozenset[str]
) -> Caution:
    """A not-checked rule on several facts names only the unknown ones it hinges on.

    The cached decision depends on outcomes alone, so it cannot tell which facts those are.
    """
    if caution.kind != "not_checked" or len(caution.facts) == 1:
        return caution
    # By identity: rules compare by value (a dataclass), which is slow and could match a twin.
    position = next(i for i, rule in enumerate(plan.rules) if rule is caution.rule)
    unknown = plan.unknown[position](facts, statuses)
    return Caution(caution.rule, "not_checked", tuple(name for name in caution.facts if name in unknown))


def _identity(decision: _Decision) -> tuple[Any, ...]:
    """What makes a decision distinct (its rules by identity: they live as long as the plan)."""
    cautions = tuple((id(caution.rule), caution.kind, caution.facts) for caution in decision.cautions)
    return decision.status, decision.decisive, decision.undecided, cautions


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
    unchecked = any(caution.kind == "not_checked" and len(caution.facts) > 1 for caution in cautions)
    undecided = tuple(sorted(undecided))
    per_profile = bool(undecided) or unchecked
    return _Decision(status, frozenset(decisive), undecided, cautions, rank, unchecked, per_profile)


def _missing(
    plan: _Plan, positions: Iterable[int], facts: Mapping[str, Any], statuses: frozenset[str]
) -> tuple[str, ...]:
    names: set[str] = set()
    for i in positions:
        names |= plan.unknown[i](facts, statuses)
    return tuple(sorted(names, key=FACT_RANK.__getitem__))


def _cautions(plan: _Plan, out: tuple[Outcome, ...]) -> tuple[Caution, ...]:
    cautions = [Caution(plan.rules[i], "caution") for i in plan.cautions if out[i] is True]
    for i in plan.noted:
        if out[i] is None:
            rule = plan.rules[i]
            cautions.append(Caution(rule, "not_checked", rule.facts))
    return tuple(cautions)
