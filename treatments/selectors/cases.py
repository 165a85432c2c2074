"""Reads of cases: one case, the list, their evaluations, staleness, what changed, outcomes.

Lists come with their latest evaluation prefetched (one query for the page, whatever its length),
and each entity has one lookup shared by the pages and the API (None when it does not exist)."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from ..models import Case, Evaluation, Outcome, Review
from ..rules import explain
from ..rules.engine import EvaluationResult
from ..rules.profile import facts_fingerprint
from .ruleset import RuleSetRef, published_ruleset_ref

_NEWEST_FIRST = ("-created_at", "-id")


def latest_evaluation_prefetch(path: str = "evaluations") -> Prefetch[Any]:
    """Prefetch each case's latest evaluation (at `path`) in one query, for latest_evaluation()."""
    newest = Evaluation.objects.filter(case=OuterRef("case")).order_by(*_NEWEST_FIRST).values("pk")[:1]
    latest = Evaluation.objects.filter(pk=Subquery(newest)).select_related("created_by", "rule_set")
    return Prefetch(path, queryset=latest, to_attr="prefetched_latest")


def with_latest_evaluation(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases whose latest evaluation comes with them: one extra query for the whole list."""
    return cases.prefetch_related(latest_evaluation_prefetch())


def case_get(pk: int) -> Case | None:
    """One case with the users who made and last changed it; None when there is no such case."""
    return Case.objects.select_related("created_by", "updated_by").filter(pk=pk).first()


def case_list(*, status: str | None = None, search: str = "", archived: bool = False) -> QuerySet[Case]:
    """Cases, most recently changed first, each with its latest evaluation; archived ones only on request."""
    found = Case.objects.select_related("created_by", "updated_by")
    found = found.exclude(archived_at=None) if archived else found.active()
    if status:
        found = found.filter(status=status)
    for word in search.split():
        found = found.filter(
            Q(hospital_reference__icontains=word)
            | Q(question__icontains=word)
            | Q(referring_clinician__icontains=word)
        )
    return with_latest_evaluation(found)


def case_evaluations(case: Case) -> QuerySet[Evaluation]:
    """A case's evaluations, newest first."""
    return case.evaluations.select_related("created_by", "rule_set").order_by(*_NEWEST_FIRST)


def latest_evaluation(case: Case) -> Evaluation | None:
    """The case's newest evaluation (no query when the case came from a list selector)."""
    prefetched = getattr(case, "prefetched_latest", None)
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    return case_evaluations(case).first()


def evaluation_get(case: Case, pk: int) -> Evaluation | None:
    """One evaluation of this case; None when it does not exist or belongs to another case."""
    return Evaluation.objects.select_related("created_by", "rule_set").filter(pk=pk, case=case).first()


def evaluation_result(evaluation: Evaluation) -> EvaluationResult:
    """The stored answer, as the engine's result type (shown exactly as it was made)."""
    return evaluation.stored_result()


def evaluation_staleness(
    evaluation: Evaluation, case: Case, *, published: RuleSetRef | None | Literal["look up"] = "look up"
) -> list[str]:
    """Why an evaluation no longer reflects its case as it is now: changed facts, a newer rule set.

    Empty when the evaluation is current. A list passes `published` (published_ruleset_ref()) so the
    rule set in force is looked up once, not once per row.
    """
    reasons = []
    if facts_fingerprint(case.profile) != evaluation.profile_hash:
        reasons.append("the patient's facts have changed since this evaluation")
    if published == "look up":
        published = published_ruleset_ref()
    if published is not None and published[0] != evaluation.rule_set_id:
        reasons.append(
            f"rule set {published[1]} has been published since "
            f"(this evaluation used {evaluation.ruleset_version})"
        )
    return reasons


class EvaluationChanges(NamedTuple):
    facts: list[explain.FactChange]
    options: list[explain.StatusChange]
    side_by_side: list[explain.OptionComparison]  # every option of either, option by option


def evaluation_changes(before: Evaluation, after: Evaluation) -> EvaluationChanges:
    """What changed between two evaluations of a case (any two, under any rule-set versions: each is
    read back from its immutable snapshot): the facts, the options whose status moved, and every
    option side by side."""
    old, new = evaluation_result(before), evaluation_result(after)
    return EvaluationChanges(
        explain.changed_facts(old.profile, new.profile),
        explain.compare(old, new),
        explain.side_by_side(old, new),
    )


def reviews_by_modality(evaluation: Evaluation) -> dict[str, Review]:
    return {review.modality: review for review in evaluation.reviews.select_related("reviewed_by")}


def case_outcomes(case: Case) -> QuerySet[Outcome]:
    """The MDT decisions recorded for a case at any meeting, newest first."""
    return (
        Outcome.objects.filter(entry__case=case)
        .select_related("recorded_by", "entry", "entry__meeting")
        .order_by("-recorded_at", "-id")
    )
