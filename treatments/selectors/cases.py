"""Reads: the published rule set (compiled, cached per process), eligibility and the catalogue."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from ..models import Case, Evaluation, Meeting, MeetingCase, Modality, Outcome, Review, Rule, RuleSet
from ..rules import explain
from ..rules.conditions import parse_condition
from ..rules.engine import CompiledRuleSet, EvaluationResult, ModalitySpec, RuleSetInfo, RuleSpec
from ..rules.profile import PatientProfile, facts_fingerprint
from ..rules.serialize import result_from_dict


class NoPublishedRuleSet(Exception):
    """No rule set has been published yet: run `python manage.py load_knowledge_base`."""

    def __str__(self) -> str:
        return "No rule set has been published yet: run `python manage.py load_knowledge_base`."


@dataclass
class _Cache:
    compiled: CompiledRuleSet | None = None
    checked_at: float = float("-inf")


_cache = _Cache()
_lock = threading.Lock()


def published_ruleset() -> CompiledRuleSet:
    """The compiled published rule set.

    It is compiled once per version and re-checked against the database at most every
    NETCARE_RULESET_RECHECK_SECONDS, so evaluation usually costs no query at all, and a newly
    published version reaches every process without a restart.
    """
    now = time.monotonic()
    compiled = _cache.compiled
    if compiled is not None and now - _cache.checked_at < settings.NETCARE_RULESET_RECHECK_SECONDS:
        return compiled
    with _lock:
        current = RuleSet.objects.published().values("id", "version", "published_at", "checksum").first()
        if current is None:
            raise NoPublishedRuleSet()
        if compiled is None or compiled.info.version != current["version"]:
            compiled = _compile(current["id"])
        _cache.compiled, _cache.checked_at = compiled, time.monotonic()
    return compiled


def forget_published_ruleset() -> None:
    """Drop this process's cached rule set (after a publication, and between tests)."""
    _cache.compiled, _cache.checked_at = None, float("-inf")


def _compile(rule_set_id: int) -> CompiledRuleSet:
    rule_set = RuleSet.objects.get(pk=rule_set_id)
    modalities = list(rule_set.modalities.all())
    rules = Rule.objects.filter(rule_set=rule_set).select_related("modality").order_by("modality", "position")
    info = RuleSetInfo(rule_set.version, rule_set.published_at, rule_set.checksum)
    return CompiledRuleSet(info, [modality_spec(m) for m in modalities], [rule_spec(r) for r in rules])


def modality_spec(modality: Modality) -> ModalitySpec:
    return ModalitySpec(
        modality.key, modality.name, modality.category, tuple(modality.intents), modality.display_order
    )


def rule_spec(rule: Rule) -> RuleSpec:
    return RuleSpec(
        rule_id=rule.rule_id,
        modality=rule.modality.key,
        kind=rule.kind,  # type: ignore[arg-type]
        title=rule.title,
        condition=parse_condition(rule.condition),
        reason=rule.reason,
        source=rule.source,
        evidence=rule.evidence,
        verification=rule.verification,
        verification_note=rule.verification_note,
        if_unknown=rule.if_unknown,  # type: ignore[arg-type]
    )


def modality_names() -> dict[str, str]:
    """Modality key -> display name in the rule set in force ({} before one is published)."""
    try:
        return published_ruleset().names
    except NoPublishedRuleSet:
        return {}


def eligibility(profile: PatientProfile) -> EvaluationResult:
    """Evaluate a profile against the published rule set (no database query once cached)."""
    return published_ruleset().evaluate(profile)


def current_ruleset() -> RuleSet | None:
    return RuleSet.objects.published().first()


def catalogue(
    rule_set: RuleSet | None = None, *, category: str | None = None, search: str | None = None
) -> list[Modality]:
    """The modalities of a rule set (the published one by default) with their rules, in display order.

    `category` keeps one category; `search` keeps modalities whose key, name, description, agents,
    hospital-page text or rule titles, reasons and sources contain every word (case-insensitive).
    """
    rule_set = rule_set or current_ruleset()
    if rule_set is None:
        return []
    modalities = rule_set.modalities.all()
    if category:
        modalities = modalities.filter(category=category)
    for word in (search or "").split():
        modalities = modalities.filter(
            Q(key__icontains=word)
            | Q(name__icontains=word)
            | Q(description__icontains=word)
            | Q(agents__icontains=word)
            | Q(hospital_page__icontains=word)
            | Q(rules__title__icontains=word)
            | Q(rules__reason__icontains=word)
            | Q(rules__source__icontains=word)
        )
    return list(_with_rules(modalities.distinct()))


def modality_detail(key: str, rule_set: RuleSet | None = None) -> Modality | None:
    """One modality of a rule set (the published one by default) with its rules, or None."""
    rule_set = rule_set or current_ruleset()
    if rule_set is None:
        return None
    return _with_rules(rule_set.modalities.filter(key=key)).first()


def _with_rules(modalities: QuerySet[Modality]) -> QuerySet[Modality]:
    rules = Rule.objects.order_by("position")
    return modalities.prefetch_related(Prefetch("rules", queryset=rules)).order_by("display_order")


# --- the MDT workflow -----------------------------------------------------------------------------


def cases(*, status: str | None = None, search: str = "", archived: bool = False) -> QuerySet[Case]:
    """Cases, most recently changed first; archived ones only when asked for."""
    found = Case.objects.select_related("created_by", "updated_by")
    found = found.exclude(archived_at=None) if archived else found.filter(archived_at=None)
    if status:
        found = found.filter(status=status)
    for word in search.split():
        found = found.filter(
            Q(hospital_reference__icontains=word)
            | Q(question__icontains=word)
            | Q(referring_clinician__icontains=word)
        )
    return found


def case_evaluations(case: Case) -> QuerySet[Evaluation]:
    """A case's evaluations, newest first."""
    return case.evaluations.select_related("created_by", "rule_set").order_by("-created_at", "-id")


def latest_evaluation(case: Case) -> Evaluation | None:
    return case_evaluations(case).first()


def evaluation_result(evaluation: Evaluation) -> EvaluationResult:
    """The stored answer, as the engine's result type (shown exactly as it was made)."""
    return result_from_dict(evaluation.result, PatientProfile.model_validate(evaluation.profile))


def evaluation_staleness(evaluation: Evaluation, case: Case) -> list[str]:
    """Why an evaluation no longer reflects its case as it is now: changed facts, a newer rule set.

    Empty when the evaluation is current.
    """
    reasons = []
    if facts_fingerprint(case.profile) != evaluation.profile_hash:
        reasons.append("the patient's facts have changed since this evaluation")
    current = RuleSet.objects.published().values_list("pk", "version").first()
    if current is not None and current[0] != evaluation.rule_set_id:
        reasons.append(
            f"rule set {current[1]} has been published since "
            f"(this evaluation used {evaluation.ruleset_version})"
        )
    return reasons


class EvaluationChanges(NamedTuple):
    facts: list[explain.FactChange]
    options: list[explain.StatusChange]


def evaluation_changes(before: Evaluation, after: Evaluation) -> EvaluationChanges:
    """What changed between two evaluations of a case: the facts, and the options whose status moved."""
    old, new = evaluation_result(before), evaluation_result(after)
    return EvaluationChanges(explain.changed_facts(old.profile, new.profile), explain.compare(old, new))


def reviews_by_modality(evaluation: Evaluation) -> dict[str, Review]:
    return {review.modality: review for review in evaluation.reviews.select_related("reviewed_by")}


def meetings(*, upcoming: bool | None = None) -> QuerySet[Meeting]:
    """Meetings, newest date first; `upcoming=True` keeps today and later (soonest first)."""
    found = Meeting.objects.annotate(case_count=Count("entries"))
    today = timezone.localdate()
    if upcoming is True:
        return found.filter(date__gte=today).order_by("date", "id")
    if upcoming is False:
        return found.filter(date__lt=today)
    return found


class WorklistRow(NamedTuple):
    """One case on a meeting's list, with what the coordinator must still do for it."""

    entry: MeetingCase
    case: Case
    evaluation: Evaluation | None
    stale: list[str]
    to_obtain: list[explain.FactToObtain]
    outcome: Outcome | None

    @property
    def ready(self) -> bool:
        return self.evaluation is not None and not self.stale and not self.to_obtain


def cases_to_add(meeting: Meeting) -> QuerySet[Case]:
    """The active cases that are not on the meeting's list yet, by reference."""
    return cases().exclude(meeting_entries__meeting=meeting).order_by("hospital_reference")


def case_outcomes(case: Case) -> QuerySet[Outcome]:
    """The MDT decisions recorded for a case at any meeting, newest first."""
    return (
        Outcome.objects.filter(entry__case=case)
        .select_related("recorded_by", "entry", "entry__meeting")
        .order_by("-recorded_at", "-id")
    )


def meeting_worklist(meeting: Meeting) -> list[WorklistRow]:
    """The meeting's cases in order, each with its latest evaluation, staleness and data to obtain."""
    entries = meeting.entries.select_related("case", "case__updated_by").order_by("position", "id")
    rows = []
    for entry in entries:
        evaluation = latest_evaluation(entry.case)
        outcome = Outcome.objects.filter(entry=entry).select_related("recorded_by").first()
        if evaluation is None:
            rows.append(WorklistRow(entry, entry.case, None, ["not evaluated yet"], [], outcome))
            continue
        to_obtain = explain.data_to_obtain(evaluation_result(evaluation))
        rows.append(
            WorklistRow(
                entry,
                entry.case,
                evaluation,
                evaluation_staleness(evaluation, entry.case),
                to_obtain,
                outcome,
            )
        )
    return rows


class Concordance(NamedTuple):
    """How many recorded decisions chose only options that were candidates."""

    concordant: int
    decided: int  # outcomes that chose at least one option
    recorded: int  # all outcomes, including those that chose none

    @property
    def percent(self) -> int | None:
        return round(100 * self.concordant / self.decided) if self.decided else None


def meeting_concordance(meeting: Meeting) -> Concordance:
    outcomes = Outcome.objects.filter(entry__meeting=meeting)
    return Concordance(
        outcomes.filter(concordant=True).count(),
        outcomes.exclude(concordant=None).count(),
        outcomes.count(),
    )
