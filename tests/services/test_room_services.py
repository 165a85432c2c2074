"""The services behind the MDT in the room, against the real database: a recorded outcome makes
an edit from the page as it was before a conflict, waivers and attendees raced by two people at
once end in one row each with nothing lost, and every write leaves its audit event."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from tests.concurrency import in_threads
from tests.pages.mdt import create_meeting, evaluated_case
from treatments import selectors, services
from treatments.inputs import AttendeeInput, CaseChange, OutcomeRecord, WaiverInput
from treatments.models import Attendee, AuditEvent, Case, DataWaiver, Meeting

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def listed(clinician: User, published: object) -> tuple[Meeting, Case]:
    meeting = create_meeting(clinician)
    case = evaluated_case(clinician, "NET-9001")
    services.meeting_add_case(actor=clinician, meeting=meeting, case=case)
    return meeting, case


def test_an_edit_from_before_the_outcome_is_a_conflict_and_loses_nothing(
    clinician: User, coordinator: User, listed: tuple[Meeting, Case]
) -> None:
    meeting, case = listed
    seen = case.version
    evaluation = selectors.latest_evaluation(case)
    assert evaluation is not None
    services.outcome_record(
        actor=clinician,
        meeting=meeting,
        case=case,
        data=OutcomeRecord(plan="Surveillance", next_steps=["surveillance"], evaluation=evaluation.pk),
    )

    with pytest.raises(services.EditConflict):
        services.case_update(
            actor=coordinator,
            case=Case.objects.get(pk=case.pk),
            data=CaseChange(version=seen, status="ready"),
        )

    stored = Case.objects.get(pk=case.pk)
    assert stored.status == "discussed" and stored.updated_by == clinician


def test_a_closed_case_stays_closed_when_its_outcome_is_recorded(
    clinician: User, listed: tuple[Meeting, Case]
) -> None:
    meeting, case = listed
    services.case_update(actor=clinician, case=case, data=CaseChange(version=case.version, status="closed"))
    evaluation = selectors.latest_evaluation(case)
    assert evaluation is not None

    services.outcome_record(
        actor=clinician, meeting=meeting, case=case, data=OutcomeRecord(plan="None", evaluation=evaluation.pk)
    )

    assert Case.objects.get(pk=case.pk).status == "closed"
    assert "case_status" not in AuditEvent.objects.get(action="outcome.record").payload


def test_two_clinicians_waiving_the_same_fact_at_once_leave_one_waiver_and_two_audit_events(
    clinician: User, listed: tuple[Meeting, Case]
) -> None:
    _, case = listed

    in_threads(
        2,
        lambda: services.waiver_record(
            actor=clinician, case=case, data=WaiverInput(fact="krenning_score", reason="Not needed")
        ),
    )

    assert DataWaiver.objects.filter(case=case, fact="krenning_score").count() == 1
    assert AuditEvent.objects.filter(action="data.waive").count() == 2


def test_the_same_attendee_recorded_twice_at_once_is_one_row_and_one_refusal(
    coordinator: User, listed: tuple[Meeting, Case]
) -> None:
    meeting, _ = listed

    def add() -> str:
        try:
            services.attendee_add(
                actor=coordinator, meeting=meeting, data=AttendeeInput(name="Dr Patel", role="radiologist")
            )
        except services.InvalidChange:
            return "refused"
        return "added"

    results = in_threads(2, add)

    assert sorted(results) == ["added", "refused"]
    assert (
        Attendee.objects.count() == 1
        and AuditEvent.objects.filter(action="meeting.attendee_add").count() == 1
    )


def test_a_waiver_of_a_fact_the_contract_does_not_have_is_refused() -> None:
    with pytest.raises(ValueError, match="is not a fact of the contract"):
        WaiverInput(fact="shoe_size", reason="x")
