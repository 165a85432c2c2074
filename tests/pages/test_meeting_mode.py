"""Meeting mode: one case per screen with next and previous, the options to discuss with their
reviews, the outcome form, and the way back after a save; attendance and quoracy per meeting."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.pages.mdt import create_meeting, evaluated_case, text
from treatments import selectors, services
from treatments.models import Attendee, AuditEvent, Meeting, Review
from treatments.rules.vocabulary import CORE_MDT_ROLES

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(clinician: User, published: object) -> Meeting:
    meeting = create_meeting(clinician)
    for reference in ("NET-7001", "NET-7002"):
        services.meeting_add_case(actor=clinician, meeting=meeting, case=evaluated_case(clinician, reference))
    return meeting


def test_each_case_has_its_own_screen_with_next_and_previous(
    clinician_client: Client, meeting: Meeting
) -> None:
    first = clinician_client.get(f"/meetings/{meeting.pk}/present/1/").content.decode()
    second = clinician_client.get(f"/meetings/{meeting.pk}/present/2/").content.decode()

    assert "Case NET-7001" in text(first) and "case 1 of 2" in text(first)
    assert f'rel="next" href="/meetings/{meeting.pk}/present/2/"' in first and 'rel="prev"' not in first
    assert f'rel="prev" href="/meetings/{meeting.pk}/present/1/"' in second and "Last case" in text(second)
    assert "Options to discuss" in text(first) and "Record the outcome" in text(first)
    assert clinician_client.get(f"/meetings/{meeting.pk}/present/3/").status_code == 404
    assert AuditEvent.objects.filter(action="case.read", payload__view="meeting mode").count() == 2


def test_a_review_saved_in_meeting_mode_comes_back_to_the_same_screen(
    clinician_client: Client, meeting: Meeting
) -> None:
    case = meeting.entries.get(position=1).case
    evaluation = selectors.latest_evaluation(case)
    assert evaluation is not None

    response = clinician_client.post(
        f"/cases/{case.pk}/evaluations/{evaluation.pk}/review/ssta/",
        {
            "ssta-decision": "accept",
            "ssta-reason_code": "guideline_recommended",
            "next": f"/meetings/{meeting.pk}/present/1/#option-ssta",
        },
    )

    assert (
        response.status_code == 302
        and response["Location"] == f"/meetings/{meeting.pk}/present/1/#option-ssta"
    )
    assert Review.objects.get().decision == "accept"


def test_the_coordinator_sees_meeting_mode_without_review_or_outcome_forms(
    coordinator_client: Client, meeting: Meeting
) -> None:
    html = coordinator_client.get(f"/meetings/{meeting.pk}/present/1/").content.decode()

    assert "Case NET-7001" in text(html)
    assert 'class="review-form"' not in html and 'class="outcome-form"' not in html


def test_attendance_is_recorded_and_the_meeting_is_quorate_once_every_core_role_is_present(
    coordinator_client: Client, meeting: Meeting
) -> None:
    url = f"/meetings/{meeting.pk}/attendance/"
    assert "Not quorate" in text(coordinator_client.get(f"/meetings/{meeting.pk}/").content.decode())

    for index, role in enumerate(CORE_MDT_ROLES):
        assert (
            coordinator_client.post(url, {"attendee-name": f"Dr {index}", "attendee-role": role}).status_code
            == 302
        )

    html = text(coordinator_client.get(f"/meetings/{meeting.pk}/").content.decode())
    assert "Quorate every core member is present" in html
    assert Attendee.objects.count() == len(CORE_MDT_ROLES)
    assert AuditEvent.objects.filter(action="meeting.attendee_add").count() == len(CORE_MDT_ROLES)
    attendee = Attendee.objects.first()
    assert attendee is not None
    coordinator_client.post(f"/meetings/{meeting.pk}/attendance/{attendee.pk}/remove/")
    assert "Not quorate" in text(coordinator_client.get(f"/meetings/{meeting.pk}/").content.decode())
    assert AuditEvent.objects.filter(action="meeting.attendee_remove").count() == 1


def test_an_attendee_without_a_role_or_twice_is_refused_by_the_field(
    coordinator_client: Client, meeting: Meeting
) -> None:
    url = f"/meetings/{meeting.pk}/attendance/"

    no_role = coordinator_client.post(url, {"attendee-name": "Dr A", "attendee-role": ""})
    coordinator_client.post(url, {"attendee-name": "Dr A", "attendee-role": "surgeon"})
    twice = coordinator_client.post(url, {"attendee-name": "Dr A", "attendee-role": "surgeon"})

    assert no_role.status_code == 400 and "Role" in text(no_role.content.decode())
    assert twice.status_code == 400 and "already recorded as present" in text(twice.content.decode())
    assert Attendee.objects.count() == 1


def test_rule_authors_may_not_record_attendance(author_client: Client, meeting: Meeting) -> None:
    response = author_client.post(
        f"/meetings/{meeting.pk}/attendance/", {"attendee-name": "X", "attendee-role": "surgeon"}
    )

    assert response.status_code == 403 and not Attendee.objects.exists()
