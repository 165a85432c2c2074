"""Reads of MDT meetings: the list, one meeting, its worklist and concordance.

The worklist costs a fixed number of queries whatever the number of cases (tests pin it).
"""

from __future__ import annotations

from typing import NamedTuple

from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone

from ..models import Attendee, Case, DataWaiver, Evaluation, Meeting, MeetingCase, Outcome, Review
from ..rules import explain
from ..rules.vocabulary import CORE_MDT_ROLES
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
    """One case on a meeting's list, with what the coordinator must still do for it.

    `to_obtain` leaves out the facts marked not needed (`waived`, fact -> waiver); `accepted` are
    the options accepted in reviews of the latest evaluation (the outcome form starts from them).
    """

    entry: MeetingCase
    case: Case
    evaluation: Evaluation | None
    stale: list[str]
    to_obtain: list[explain.FactToObtain]
    outcome: Outcome | None
    waived: dict[str, DataWaiver] = {}
    accepted: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        """Prepared: evaluated, up to date, and nothing left to obtain (waived facts do not count)."""
        return self.evaluation is not None and not self.stale and not self.to_obtain

    @property
    def tests(self) -> list[explain.TestToObtain]:
        """The data to obtain as jobs (a test or an opinion), those deciding most options first."""
        return explain.data_to_obtain_by_test(self.to_obtain)


def cases_to_add(meeting: Meeting) -> QuerySet[Case]:
    """The active cases that are not on the meeting's list yet, by reference."""
    return Case.objects.active().exclude(meeting_entries__meeting=meeting).order_by("hospital_reference")


def meeting_worklist(meeting: Meeting) -> list[WorklistRow]:
    """The meeting's cases in order, each with its latest evaluation, staleness and data to obtain.

    A fixed number of queries whatever the number of cases: entries with their case and outcome,
    the cases' latest evaluations, and the rule set in force.
    """
    entries = list(
        meeting.entries.select_related(
            "case", "case__created_by", "case__updated_by", "outcome", "outcome__recorded_by"
        )
        .prefetch_related(
            latest_evaluation_prefetch("case__evaluations"),
            Prefetch("case__waivers", queryset=DataWaiver.objects.select_related("waived_by")),
        )
        .order_by("position", "id")
    )
    published = published_ruleset_ref()
    accepted = accepted_options([latest_evaluation(entry.case) for entry in entries])
    return [_worklist_row(entry, published, accepted) for entry in entries]


def accepted_options(evaluations: list[Evaluation | None]) -> dict[int, tuple[str, ...]]:
    """{evaluation id: the options accepted in its reviews}, in one query."""
    ids = [evaluation.pk for evaluation in evaluations if evaluation is not None]
    found: dict[int, list[str]] = {}
    reviews = Review.objects.filter(evaluation_id__in=ids, decision=Review.Decision.ACCEPT)
    for evaluation_id, modality in reviews.values_list("evaluation_id", "modality"):
        found.setdefault(evaluation_id, []).append(modality)
    return {key: tuple(value) for key, value in found.items()}


def _worklist_row(
    entry: MeetingCase, published: RuleSetRef | None, accepted: dict[int, tuple[str, ...]]
) -> WorklistRow:
    outcome = getattr(entry, "outcome", None)
    evaluation = latest_evaluation(entry.case)
    waived = {waiver.fact: waiver for waiver in entry.case.waivers.all()}
    if evaluation is None:
        return WorklistRow(entry, entry.case, None, ["not evaluated yet"], [], outcome, waived)
    stale = evaluation_staleness(evaluation, entry.case, published=published)
    checklist = explain.data_to_obtain(evaluation_result(evaluation))
    to_obtain = [item for item in checklist if item.fact not in waived]
    return WorklistRow(
        entry, entry.case, evaluation, stale, to_obtain, outcome, waived, accepted.get(evaluation.pk, ())
    )


def case_waivers(case: Case) -> dict[str, DataWaiver]:
    """The facts marked not needed for a case: fact -> waiver (who, why)."""
    return {waiver.fact: waiver for waiver in case.waivers.select_related("waived_by")}


def meeting_attendees(meeting: Meeting) -> list[Attendee]:
    return list(meeting.attendees.select_related("recorded_by"))


class Quoracy(NamedTuple):
    """Which core MDT roles are present and which are missing; quorate when none is missing."""

    present: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def quorate(self) -> bool:
        return not self.missing


def meeting_quoracy(attendees: list[Attendee]) -> Quoracy:
    roles = {attendee.role for attendee in attendees}
    return Quoracy(
        tuple(role for role in CORE_MDT_ROLES if role in roles),
        tuple(role for role in CORE_MDT_ROLES if role not in roles),
    )


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


def outcome_get(meeting: Meeting, case: Case) -> Outcome | None:
    """The outcome recorded for a case at a meeting, with its case, meeting and recorder."""
    return (
        Outcome.objects.select_related("entry__case", "entry__meeting", "recorded_by")
        .filter(entry__meeting=meeting, entry__case=case)
        .first()
    )


def meeting_outcomes(meeting: Meeting) -> list[Outcome]:
    """Every outcome recorded at a meeting, in the list's order (exports)."""
    return list(
        Outcome.objects.select_related("entry__case", "entry__meeting", "recorded_by", "evaluation")
        .filter(entry__meeting=meeting)
        .order_by("entry__position", "entry__id")
    )
