"""Writes of an MDT meeting: its list of cases, their order and the outcomes recorded at the meeting."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import models, transaction

from .. import selectors, tasks
from ..inputs import AttendeeInput, MeetingChange, MeetingInput, OutcomeInput
from ..models import (
    Attendee,
    Case,
    Evaluation,
    Meeting,
    MeetingCase,
    Outcome,
)
from ..rules import explain
from .audit import audit_record, display_name
from .cases import refuse_archived
from .errors import (
    CaseAlreadyOnMeeting,
    CaseNotOnMeeting,
    EditConflict,
    EvaluationSuperseded,
    InvalidChange,
    NotEvaluated,
    OptionNotInEvaluation,
    OutcomeRecorded,
)


@transaction.atomic
def meeting_create(*, actor: User, data: MeetingInput) -> Meeting:
    meeting = Meeting.objects.create(title=data.title, date=data.date, created_by=actor)
    audit_record(
        actor=actor,
        action="meeting.create",
        obj=meeting,
        payload={"title": data.title, "date": str(data.date)},
    )
    return meeting


@transaction.atomic
def meeting_update(*, actor: User, meeting: Meeting, data: MeetingInput) -> Meeting:
    """Change a meeting's title and date.

    A MeetingChange carries the version the user saw: if someone saved the meeting since, nothing is
    overwritten (EditConflict). A plain MeetingInput comes from /api/v1/, whose published request
    has no version: it changes the meeting as saved now, and the audit trail keeps what it replaced.
    """
    current = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if isinstance(data, MeetingChange) and data.version != current.version:
        raise EditConflict(
            f"{current} was changed since you opened it (version {data.version}, now "
            f"{current.version}); review the change and save again",
            current,
        )
    before = {"title": current.title, "date": str(current.date)}
    current.title, current.date = data.title, data.date
    current.version += 1
    current.save()
    after = {"title": current.title, "date": str(current.date)}
    audit_record(
        actor=actor, action="meeting.update", obj=current, payload={"before": before, "after": after}
    )
    return current


@transaction.atomic
def meeting_add_case(*, actor: User, meeting: Meeting, case: Case) -> MeetingCase:
    """Put a case at the end of a meeting's list (once)."""
    Meeting.objects.select_for_update().get(pk=meeting.pk)
    refuse_archived(case)
    if meeting.entries.filter(case=case).exists():
        raise CaseAlreadyOnMeeting(case)
    last = meeting.entries.aggregate(last=models.Max("position"))["last"] or 0
    entry = MeetingCase.objects.create(meeting=meeting, case=case, position=last + 1, added_by=actor)
    audit_record(
        actor=actor, action="meeting.add_case", obj=meeting, payload={"case": case.hospital_reference}
    )
    tasks.sheets_ahead(case)
    return entry


@transaction.atomic
def meeting_remove_case(*, actor: User, meeting: Meeting, case: Case) -> None:
    """Take a case off the list; not once its outcome is recorded (that would lose the decision)."""
    entry = meeting.entries.select_for_update().filter(case=case).first()
    if entry is None:
        raise CaseNotOnMeeting(case)
    if Outcome.objects.filter(entry=entry).exists():
        raise OutcomeRecorded(case)
    entry.delete()
    _renumber(meeting)
    audit_record(
        actor=actor, action="meeting.remove_case", obj=meeting, payload={"case": case.hospital_reference}
    )


@transaction.atomic
def meeting_reorder(*, actor: User, meeting: Meeting, case_ids: list[int]) -> None:
    """Put the meeting's cases in this order; the list must name each of its cases exactly once."""
    entries = {entry.case_id: entry for entry in meeting.entries.select_for_update()}
    if sorted(case_ids) != sorted(entries) or len(set(case_ids)) != len(case_ids):
        raise InvalidChange("the new order must list every case of the meeting exactly once", ["cases"])
    for position, case_id in enumerate(case_ids, start=1):
        entries[case_id].position = position
    MeetingCase.objects.bulk_update(entries.values(), ["position"])
    references = dict(Case.objects.filter(pk__in=case_ids).values_list("pk", "hospital_reference"))
    audit_record(
        actor=actor,
        action="meeting.reorder",
        obj=meeting,
        payload={"order": [references[i] for i in case_ids]},
    )


def _renumber(meeting: Meeting) -> None:
    entries = list(meeting.entries.order_by("position", "id"))
    for position, entry in enumerate(entries, start=1):
        entry.position = position
    MeetingCase.objects.bulk_update(entries, ["position"])


def outcome_allowed(*, meeting: Meeting, case: Case, on_list: bool | None = None) -> Evaluation:
    """The evaluation an outcome would be recorded against, or raise why none may be recorded now."""
    if on_list is None:
        on_list = meeting.entries.filter(case=case).exists()
    if not on_list:
        raise CaseNotOnMeeting(case)
    refuse_archived(case)
    evaluation = selectors.latest_evaluation(case)
    if evaluation is None:
        raise NotEvaluated(case)
    return evaluation


@transaction.atomic
def outcome_record(*, actor: User, meeting: Meeting, case: Case, data: OutcomeInput) -> Outcome:
    """Record (or correct) the MDT's decision for a case, against the case's latest evaluation.

    `data.evaluation` names the evaluation the clinician saw; if a newer one exists, nothing is
    recorded (EvaluationSuperseded), as for reviews. For each chosen option the status it had in
    that evaluation is kept, and the decision is concordant when every chosen option was a candidate.
    """
    entry = meeting.entries.select_for_update().filter(case=case).first()
    evaluation = outcome_allowed(meeting=meeting, case=case, on_list=entry is not None)
    assert entry is not None  # outcome_allowed refuses a case that is not on the list
    if data.evaluation is not None and data.evaluation != evaluation.pk:
        if not case.evaluations.filter(pk=data.evaluation).exists():
            raise InvalidChange(f"{case} has no evaluation {data.evaluation}", ["evaluation"])
        raise EvaluationSuperseded()
    statuses = evaluation.option_statuses()
    unknown = [key for key in data.chosen_modalities if key not in statuses]
    if unknown:
        raise OptionNotInEvaluation(", ".join(unknown), ["chosen_modalities"])
    chosen = {key: statuses[key] for key in data.chosen_modalities}
    concordant = explain.is_concordant(chosen.values()) if chosen else None
    fields = {
        "evaluation": evaluation,
        "chosen_modalities": list(data.chosen_modalities),
        "next_steps": list(data.next_steps),
        "plan": data.plan,
        "statuses": chosen,
        "concordant": concordant,
        "recorded_by": actor,
    }
    existing = Outcome.objects.select_for_update().filter(entry=entry).first()
    if existing is None:
        if data.version is not None:
            raise EditConflict("this outcome no longer exists; reload the meeting", None)
        outcome = Outcome.objects.create(entry=entry, **fields)
    else:
        if data.version != existing.version:
            raise EditConflict(
                f"{display_name(existing.recorded_by)} recorded this outcome first; "
                "your change was not saved. Review theirs and save again.",
                existing,
            )
        for name, value in fields.items():
            setattr(existing, name, value)
        existing.version += 1
        existing.save()
        outcome = existing
    status_change = _mark_discussed(case, actor)
    audit_record(
        actor=actor,
        action="outcome.record",
        obj=outcome,
        payload={
            "case": case.hospital_reference,
            "meeting": meeting.pk,
            "evaluation": evaluation.pk,
            "chosen": chosen,
            "next_steps": list(data.next_steps),
            "concordant": concordant,
            "plan": data.plan,
            **status_change,
        },
    )
    return outcome


def _mark_discussed(case: Case, actor: User) -> dict[str, Any]:
    """Once its outcome is recorded, a draft or referred case is "discussed" (a closed one stays
    closed). The case's version rises, so an edit made from the page as it was is a conflict."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.status not in (Case.Status.DRAFT, Case.Status.READY):
        return {}
    before = locked.status
    locked.status = Case.Status.DISCUSSED
    locked.version += 1
    locked.updated_by = actor
    locked.save(update_fields=["status", "version", "updated_by", "updated_at"])
    case.status, case.version = locked.status, locked.version
    return {"case_status": {"before": before, "after": locked.status}}


@transaction.atomic
def attendee_add(*, actor: User, meeting: Meeting, data: AttendeeInput) -> Attendee:
    """Record someone present at the meeting (once per name and role)."""
    Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.attendees.filter(name=data.name, role=data.role).exists():
        raise InvalidChange(f"{data.name} is already recorded as present in that role", ["name"])
    attendee = Attendee.objects.create(meeting=meeting, name=data.name, role=data.role, recorded_by=actor)
    audit_record(
        actor=actor,
        action="meeting.attendee_add",
        obj=meeting,
        payload={"name": data.name, "role": data.role},
    )
    return attendee


@transaction.atomic
def attendee_remove(*, actor: User, meeting: Meeting, attendee_id: int) -> None:
    """Take someone off the meeting's attendance (recorded by mistake)."""
    Meeting.objects.select_for_update().get(pk=meeting.pk)
    attendee = meeting.attendees.filter(pk=attendee_id).first()
    if attendee is None:
        raise InvalidChange(f"the meeting has no attendee {attendee_id}", ["attendee"])
    payload = {"name": attendee.name, "role": attendee.role}
    attendee.delete()
    audit_record(actor=actor, action="meeting.attendee_remove", obj=meeting, payload=payload)
