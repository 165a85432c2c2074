"""Actionable data to obtain: the case page groups the unknowns by test, a clinician marks one "not
needed" with a reason (audited) and the meeting's readiness then ignores it; the coordinator's
chase list gathers the tests across the meeting (page and CSV); outcomes leave as CSV and FHIR."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.pages.mdt import create_meeting, evaluated_case, text
from treatments import selectors, services
from treatments.inputs import OutcomeRecord
from treatments.models import AuditEvent, Case, DataWaiver, Meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(clinician: User, published: object) -> Meeting:
    """NET MDT with NET-5001, a pancreatic NET whose Krenning score is unknown."""
    meeting = create_meeting(clinician)
    case = evaluated_case(clinician, "NET-5001", "34_missing_krenning_pnet")
    services.meeting_add_case(actor=clinician, meeting=meeting, case=case)
    return meeting


def the_case(meeting: Meeting) -> Case:
    return meeting.entries.get().case


def test_the_case_page_groups_the_data_to_obtain_by_test(clinician_client: Client, meeting: Meeting) -> None:
    html = text(clinician_client.get(f"/cases/{the_case(meeting).pk}/").content.decode())

    assert "Data to obtain, by test" in html
    assert "SSTR PET (68Ga-DOTATATE) and Krenning score (Nuclear medicine)" in html
    assert "Mark as not needed" in html


def test_marking_every_unknown_not_needed_makes_the_case_prepared_and_is_audited(
    clinician_client: Client, meeting: Meeting
) -> None:
    case = the_case(meeting)
    before = text(clinician_client.get(f"/meetings/{meeting.pk}/").content.decode())
    assert "0 prepared" in before and "Data to obtain (" in before

    facts = [item.fact for item in selectors.meeting_worklist(meeting)[0].to_obtain]
    for fact in facts:
        response = clinician_client.post(
            f"/cases/{case.pk}/not-needed/",
            {"waive-fact": fact, "waive-reason": "Not relevant to the question"},
        )
        assert response.status_code == 302

    after = text(clinician_client.get(f"/meetings/{meeting.pk}/").content.decode())
    assert "1 prepared" in after and "Prepared" in after
    assert DataWaiver.objects.filter(case=case).count() == len(facts)
    events = AuditEvent.objects.filter(action="data.waive")
    assert events.count() == len(facts) and events.first().payload["reason"] == "Not relevant to the question"  # type: ignore[union-attr]
    page = text(clinician_client.get(f"/cases/{case.pk}/").content.decode())
    assert "Marked as not needed" in page and "Not relevant to the question" in page

    clinician_client.post(f"/cases/{case.pk}/not-needed/{facts[0]}/remove/")
    assert "0 prepared" in text(clinician_client.get(f"/meetings/{meeting.pk}/").content.decode())
    assert AuditEvent.objects.filter(action="data.unwaive").count() == 1


def test_a_waiver_without_a_reason_is_refused_by_the_field(
    clinician_client: Client, meeting: Meeting
) -> None:
    case = the_case(meeting)

    response = clinician_client.post(
        f"/cases/{case.pk}/not-needed/", {"waive-fact": "krenning_score", "waive-reason": "  "}
    )

    assert response.status_code == 400 and not DataWaiver.objects.exists()
    assert "Why it is not needed" in text(response.content.decode())
    assert 'id="id_waive-reason"' in response.content.decode()


def test_only_clinicians_mark_data_not_needed(coordinator_client: Client, meeting: Meeting) -> None:
    case = the_case(meeting)

    response = coordinator_client.post(
        f"/cases/{case.pk}/not-needed/", {"waive-fact": "krenning_score", "waive-reason": "x"}
    )

    assert response.status_code == 403 and not DataWaiver.objects.exists()
    assert "Mark as not needed" not in coordinator_client.get(f"/cases/{case.pk}/").content.decode()


def test_the_chase_list_gathers_each_test_across_the_meeting_as_a_page_and_a_csv(
    coordinator_client: Client, meeting: Meeting
) -> None:
    page = text(coordinator_client.get(f"/meetings/{meeting.pk}/chase/").content.decode())
    response = coordinator_client.get(f"/meetings/{meeting.pk}/chase.csv")

    assert "Before the meeting: data to chase" in page and "NET-5001" in page
    assert "SSTR PET (68Ga-DOTATATE) and Krenning score" in page
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert any(row["test"].startswith("SSTR PET") and row["hospital_reference"] == "NET-5001" for row in rows)
    assert AuditEvent.objects.filter(action="summary.export", payload__format="chase.csv").exists()


def test_the_outcomes_leave_as_csv_and_as_a_fhir_bundle(
    clinician_client: Client, clinician: User, meeting: Meeting
) -> None:
    case = the_case(meeting)
    from treatments import selectors

    evaluation = selectors.latest_evaluation(case)
    assert evaluation is not None
    services.outcome_record(
        actor=clinician,
        meeting=meeting,
        case=case,
        data=OutcomeRecord(
            chosen_modalities=["ssta"],
            next_steps=["treatment", "further_imaging"],
            plan="=SUM(A1)",
            evaluation=evaluation.pk,
        ),
    )

    rows = list(
        csv.DictReader(
            io.StringIO(clinician_client.get(f"/meetings/{meeting.pk}/outcomes.csv").content.decode())
        )
    )
    bundle = json.loads(clinician_client.get(f"/meetings/{meeting.pk}/outcomes.fhir.json").content)

    assert rows[0]["hospital_reference"] == "NET-5001" and rows[0]["option_keys"] == "ssta"
    assert rows[0]["next_steps"] == "Start or change treatment (the options chosen); Further imaging"
    assert rows[0]["plan"] == "'=SUM(A1)", "a formula is written as text"
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    plan = bundle["entry"][0]["resource"]
    assert plan["resourceType"] == "CarePlan" and plan["subject"]["identifier"]["value"] == "NET-5001"
    codes = [activity["detail"]["code"]["coding"][0]["code"] for activity in plan["activity"]]
    assert codes == ["ssta", "treatment", "further_imaging"]
