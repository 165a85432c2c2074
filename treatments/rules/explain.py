"""Summaries of engine output for people: status groups, the data to obtain, what changed.

Pure Python, no Django: the clinician pages, the MDT workflow (evaluation diffs, the meeting
worklist) and any export use the same helpers, so that they all say the same thing. Nothing here
decides anything about a patient: every status, reason and missing fact comes from the engine;
these functions only gather, order and name them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from .engine import STATUS_ORDER, EvaluationResult, ModalitySpec, Reason, Verdict
from .profile import FACT_NAMES, GROUPS, PatientProfile
from .vocabulary import (
    CONCORDANT_STATUSES,
    DATA_SOURCE_LABELS,
    DATA_SOURCE_OWNERS,
    DATA_SOURCES,
    FACT_DATA_SOURCE,
)

# Words for the statuses, outcomes, rule kinds and intents of the contract (re-exported: the pages,
# templates and tests import them from here).
from .vocabulary import INTENT_LABELS as INTENT_LABELS
from .vocabulary import OUTCOME_LABELS as OUTCOME_LABELS
from .vocabulary import RULE_KIND_LABELS as RULE_KIND_LABELS
from .vocabulary import RULE_KIND_MEANINGS as RULE_KIND_MEANINGS
from .vocabulary import STATUS_LABELS as STATUS_LABELS
from .vocabulary import STATUS_MEANINGS as STATUS_MEANINGS
from .vocabulary import UNVERIFIED as UNVERIFIED

_FACT_RANK = {name: rank for rank, name in enumerate(FACT_NAMES)}


def is_unverified(verification: str) -> bool:
    """Whether a rule's verification flag means "unverified: check before release"."""
    return verification in UNVERIFIED


# --- status groups ------------------------------------------------------------------------------


class StatusGroup(NamedTuple):
    """The options of one status, in the engine's display order."""

    status: str
    verdicts: tuple[Verdict, ...]


def group_by_status(result: EvaluationResult) -> list[StatusGroup]:
    """One group per status of the contract, in STATUS_ORDER, including the empty ones."""
    groups: dict[str, list[Verdict]] = {status: [] for status in STATUS_ORDER}
    for verdict in result.verdicts:
        groups[verdict.status].append(verdict)
    return [StatusGroup(status, tuple(verdicts)) for status, verdicts in groups.items()]


# --- the data to obtain -------------------------------------------------------------------------


class FactToObtain(NamedTuple):
    """An unknown fact and the options whose status it would decide (in the result's order)."""

    fact: str
    modalities: tuple[ModalitySpec, ...]


def data_to_obtain(result: EvaluationResult) -> list[FactToObtain]:
    """One checklist of the unknown facts that hold options back, across all options.

    Gathered from each verdict's `missing_facts` (needs_data options, and trial_only options whose
    remaining unknowns could still rule them out). Ordered by how many options a fact would decide,
    most first; ties in contract order. Each fact lists its options in the result's display order.
    """
    deciding: dict[str, list[ModalitySpec]] = {}
    for verdict in result.verdicts:
        for fact in verdict.missing_facts:
            deciding.setdefault(fact, []).append(verdict.modality)
    ordered = sorted(deciding.items(), key=lambda item: (-len(item[1]), _FACT_RANK.get(item[0], 1_000)))
    return [FactToObtain(fact, tuple(modalities)) for fact, modalities in ordered]


class TestToObtain(NamedTuple):
    """One job for the coordinator: a test or opinion (vocabulary DATA_SOURCES) and the unknown facts
    it answers, with every option those facts decide."""

    source: str
    label: str
    owner: str
    facts: tuple[FactToObtain, ...]
    modalities: tuple[ModalitySpec, ...]


def data_to_obtain_by_test(items: Iterable[FactToObtain]) -> list[TestToObtain]:
    """The data to obtain as jobs: facts gathered by the test or opinion that answers them.

    Ordered by how many distinct options each job decides, most first; ties in the vocabulary's
    order. Within a job, the facts keep their order (most options first). Pass the checklist of
    `data_to_obtain`, less any fact marked not needed.
    """
    facts: dict[str, list[FactToObtain]] = {}
    for item in items:
        facts.setdefault(FACT_DATA_SOURCE.get(item.fact, "history"), []).append(item)
    jobs = []
    for source, found in facts.items():
        decided: dict[str, ModalitySpec] = {}
        for item in found:
            for modality in item.modalities:
                decided.setdefault(modality.key, modality)
        jobs.append(
            TestToObtain(
                source,
                DATA_SOURCE_LABELS[source],  # type: ignore[index]
                DATA_SOURCE_OWNERS[source],  # type: ignore[index]
                tuple(found),
                tuple(decided.values()),
            )
        )
    rank: dict[str, int] = {source: index for index, source in enumerate(DATA_SOURCES)}
    return sorted(jobs, key=lambda job: (-len(job.modalities), rank[job.source]))


# --- what changed between two evaluations -------------------------------------------------------


class OutcomeChange(NamedTuple):
    """A rule whose outcome for the patient changed: its old outcome word and its new reason."""

    old_outcome: str | None  # "met" / "not_met" / "unknown"; None when the rule is new
    reason: Reason


class StatusChange(NamedTuple):
    """An option whose status differs between two evaluations.

    `old_status` is None when the option was not in the first evaluation (a newer rule set), and
    `new_status`, `verdict` and `reasons` are None / empty when it is not in the second.
    `reasons` are the deciding reasons of the new verdict: why the option now has its status.
    `outcome_changes` are the new verdict's rules whose outcome differs from before (matched by
    rule id): what moved the status.
    """

    modality: ModalitySpec
    old_status: str | None
    new_status: str | None
    reasons: tuple[Reason, ...]
    verdict: Verdict | None
    outcome_changes: tuple[OutcomeChange, ...] = ()


def compare(before: EvaluationResult, after: EvaluationResult) -> list[StatusChange]:
    """The options whose status changed from `before` to `after`, in `after`'s display order.

    Options present in only one of the two (rule sets of different versions) count as changed;
    those that disappeared come last, in `before`'s order.
    """
    return [
        StatusChange(
            row.modality,
            row.old_status,
            row.new_status,
            row.after.deciding_reasons if row.after is not None else (),
            row.after,
            row.outcome_changes,
        )
        for row in side_by_side(before, after)
        if row.changed
    ]


def _outcome_changes(before: Verdict | None, after: Verdict) -> tuple[OutcomeChange, ...]:
    old = {reason.rule.rule_id: reason.outcome_word for reason in before.reasons} if before else {}
    return tuple(
        OutcomeChange(old.get(reason.rule.rule_id), reason)
        for reason in after.reasons
        if old.get(reason.rule.rule_id) != reason.outcome_word
    )


class OptionComparison(NamedTuple):
    """One option side by side in two results: its verdict in each (None when the option is not in
    that result's rule set) and, when its status differs, the rules whose outcome differs (matched
    by rule id): the rules that made the difference."""

    modality: ModalitySpec
    before: Verdict | None
    after: Verdict | None
    outcome_changes: tuple[OutcomeChange, ...] = ()

    @property
    def old_status(self) -> str | None:
        return self.before.status if self.before is not None else None

    @property
    def new_status(self) -> str | None:
        return self.after.status if self.after is not None else None

    @property
    def changed(self) -> bool:
        return self.old_status != self.new_status


def side_by_side(before: EvaluationResult, after: EvaluationResult) -> list[OptionComparison]:
    """Every option of either result, option by option, in `after`'s display order; options only in
    `before` (a rule set of another version) come last, in `before`'s order. Statuses, reasons and
    outcomes are the engine's: this only pairs them up."""
    old = {verdict.modality.key: verdict for verdict in before.verdicts}
    rows: list[OptionComparison] = []
    for verdict in after.verdicts:
        previous = old.pop(verdict.modality.key, None)
        differs = previous is None or previous.status != verdict.status
        rows.append(
            OptionComparison(
                verdict.modality,
                previous,
                verdict,
                _outcome_changes(previous, verdict) if differs else (),
            )
        )
    rows += [OptionComparison(verdict.modality, verdict, None) for verdict in old.values()]
    return rows


class FactChange(NamedTuple):
    """A fact whose value differs between two profiles (None means unknown)."""

    fact: str
    old: Any
    new: Any


def changed_facts(before: PatientProfile, after: PatientProfile) -> list[FactChange]:
    """The facts that differ between two profiles, in contract order."""
    return [
        FactChange(name, getattr(before, name), getattr(after, name))
        for name in FACT_NAMES
        if _comparable(getattr(before, name)) != _comparable(getattr(after, name))
    ]


def _comparable(value: Any) -> Any:
    # A list fact (prior therapies) is a set: the order the boxes were ticked in means nothing.
    return frozenset(value) if isinstance(value, list) else value


class FactRows(NamedTuple):
    """The facts of one form group (tumour, liver, ...) with the patient's values (None = unknown)."""

    group: str
    label: str
    rows: tuple[tuple[str, Any], ...]


def facts_by_group(profile: PatientProfile) -> list[FactRows]:
    """Every fact of the profile, known or not, in the groups and order of the patient form."""
    rows: dict[str, list[tuple[str, Any]]] = {key: [] for key, _ in GROUPS}
    for name, info in PatientProfile.model_fields.items():
        extra = info.json_schema_extra
        group = str(extra.get("group", "")) if isinstance(extra, dict) else ""
        rows.setdefault(group, []).append((name, getattr(profile, name)))
    labels = dict(GROUPS)
    return [FactRows(key, labels.get(key, key), tuple(items)) for key, items in rows.items() if items]


def modality_names(modalities: Iterable[ModalitySpec]) -> dict[str, str]:
    """Modality key -> display name, e.g. for naming prior therapies."""
    return {modality.key: modality.name for modality in modalities}


def is_concordant(statuses: Iterable[str]) -> bool:
    """An MDT decision is concordant with the rules when every option it chose was a candidate or
    trial only (choosing a trial-only option is a trial referral, which is what the rules allow)."""
    return all(status in CONCORDANT_STATUSES for status in statuses)
