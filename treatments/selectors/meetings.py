"""Reads of MDT meetings: the list, one meeting, its worklist and concordance.

The worklist costs a fixed number of queries whatever the number of cases (tests pin it).
"""

from __future__ import annotations

from typing import NamedTuple

from django.db.models import Count, QuerySet
from django.utils import timezone

from ..models import Case, Evaluation, Meeting, MeetingCase, Outcome
from ..rules import explain
from .cases import (
    evaluation_result,
    evaluation_staleness,
    latest_evaluation,
    latest_evaluation_prefetch,
)
from .ruleset import RuleSetRef, published_ruleset_ref


def meeting_get(pk: int) -> Meeting | None:
    """One meeting with the user who made it; None when there is no such meeting."""
    return Meeting.objects.select_related("created_by").filter(pk=pk).first()


def meeting_list(*, upcoming: bool | None = None) -> QuerySet[Meeting]:
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
    return Case.objects.active().exclude(meeting_entries__meeting=meeting).order_by("hospital_reference")


def meeting_worklist(meeting: Meeting) -> list[WorklistRow]:
    """The meeting's cases in order, each with its latest evaluation, staleness and data to obtain.

    A fixed number of queries whatever the number of cases: entries with their case and outcome,
    the cases' latest evaluations, and the rule set in force.
    """
    entries = (
        meeting.entries.select_related(
            "case", "case__created_by", "case__updated_by", "outcome", "outcome__recorded_by"
        )
        .prefetch_related(latest_evaluation_prefetch("case__evaluations"))
        .order_by("position", "id")
    )
    published = published_ruleset_ref()
    return [_worklist_row(entry, published) for entry in entries]


def _worklist_row(entry: MeetingCase, published: RuleSetRef | None) -> WorklistRow:
    outcome = getattr(entry, "outcome", None)
    evaluation = latest_evaluation(entry.case)
    if evaluation is None:
        return WorklistRow(entry, entry.case, None, ["not evaluated yet"], [], outcome)
    stale = evaluation_staleness(evaluation, entry.case, published=published)
    to_obtain = explain.data_to_obtain(evaluation_result(evaluation))
    return WorklistRow(entry, entry.case, evaluation, stale, to_obtain, outcome)


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
