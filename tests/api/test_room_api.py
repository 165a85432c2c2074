"""/api/v2/: facts marked "not needed" for a case, and a meeting's attendance and quoracy, over the
real HTTP stack with tokens, by the same services (and audit events) as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.personas import SI_NET
from treatments.models import AuditEvent
from treatments.rules.vocabulary import CORE_MDT_ROLES

from .conftest import ApiClient, client_for

V2 = "/api/v2"


@pytest.fixture
def clinician_api(published: Any, clinician: User) -> ApiClient:
    return client_for(clinician)


@pytest.fixture
def coordinator_api(published: Any, coordinator: User) -> ApiClient:
    return client_for(coordinator)


@pytest.fixture
def case(clinician_api: ApiClient) -> dict[str, Any]:
    """A case with data to obtain: evaluated, on a coming meeting."""
    body = {
        "hospital_reference": "RFH-2001",
        "referring_clinician": "Dr Ada Lovelace",
        "question": "Is PRRT an option?",
        "profile": {key: value for key, value in SI_NET.items() if key not in ("egfr_ml_min", "ecog")},
    }
    made = clinician_api.post_json(f"{V2}/cases/", body)
    assert made.status_code == 201, made.json()
    assert clinician_api.post_json(f"{V2}/cases/{made.json()['id']}/evaluations/", None).status_code == 201
    return made.json()


@pytest.fixture
def meeting(coordinator_api: ApiClient) -> dict[str, Any]:
    date = (dt.date.today() + dt.timedelta(days=7)).isoformat()
    made = coordinator_api.post_json(f"{V2}/meetings/", {"title": "NET MDT", "date": date})
    assert made.status_code == 201, made.json()
    return made.json()


def worklist_row(api: ApiClient, meeting: dict[str, Any]) -> dict[str, Any]:
    rows = api.get_json(f"{V2}/meetings/{meeting['id']}/worklist/").json()
    assert len(rows) == 1
    return rows[0]


# --- facts not needed ----------------------------------------------------------------------------


def test_a_clinician_marks_a_fact_not_needed_and_readiness_stops_waiting_for_it(
    clinician_api: ApiClient, coordinator_api: ApiClient, case: dict[str, Any], meeting: dict[str, Any]
) -> None:
    coordinator_api.post_json(f"{V2}/meetings/{meeting['id']}/cases/", {"case": case["id"]})
    waiting = [item["fact"] for item in worklist_row(coordinator_api, meeting)["data_to_obtain"]]
    assert waiting, "the case has data to obtain"
    fact = waiting[0]
    path = f"{V2}/cases/{case['id']}/not-needed/"

    made = clinician_api.post_json(path, {"fact": fact, "reason": "Decided at the last MDT: not relevant"})

    assert made.status_code == 201, made.json()
    assert made.json()["fact"] == fact and made.json()["waived_by"] == "dr_hughes"
    row = worklist_row(coordinator_api, meeting)
    assert fact not in [item["fact"] for item in row["data_to_obtain"]]
    assert [item["fact"] for item in row["not_needed"]] == [fact]
    assert coordinator_api.get_json(path).json()[0]["reason"] == "Decided at the last MDT: not relevant"
    event = AuditEvent.objects.filter(action="data.waive").get()
    assert event.payload["fact"] == fact and event.payload["new"] is True

    changed = clinician_api.post_json(path, {"fact": fact, "reason": "Surgeon: no bearing on PRRT"})
    assert changed.status_code == 200 and changed.json()["reason"] == "Surgeon: no bearing on PRRT"

    assert clinician_api.send("DELETE", f"{path}{fact}/").status_code == 204
    assert fact in [item["fact"] for item in worklist_row(coordinator_api, meeting)["data_to_obtain"]]
    assert AuditEvent.objects.filter(action="data.unwaive", payload__fact=fact).exists()
    again = clinician_api.send("DELETE", f"{path}{fact}/")
    assert again.status_code == 404 and again.json()["detail"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"fact": "tumour_colour", "reason": "No"}, ["fact"]),
        ({"fact": "egfr_ml_min", "reason": "   "}, ["reason"]),
        ({"fact": "egfr_ml_min", "reason": "x" * 2000}, ["reason"]),
        ({"fact": "egfr_ml_min"}, ["reason"]),
        ({"fact": "egfr_ml_min", "reason": "Known", "by": "me"}, ["by"]),
    ],
)
def test_a_bad_waiver_is_400_naming_the_field(
    clinician_api: ApiClient, case: dict[str, Any], body: dict[str, Any], loc: list[str]
) -> None:
    response = clinician_api.post_json(f"{V2}/cases/{case['id']}/not-needed/", body)

    assert response.status_code == 400, response.json()
    assert [error["loc"] for error in response.json()["errors"]] == [loc]
    assert not AuditEvent.objects.filter(action="data.waive").exists()


def test_an_unknown_fact_in_the_path_is_400_and_an_unknown_case_404(
    clinician_api: ApiClient, case: dict[str, Any]
) -> None:
    bad = clinician_api.send("DELETE", f"{V2}/cases/{case['id']}/not-needed/tumour_colour/")
    assert bad.status_code == 400 and bad.json()["errors"][0]["loc"] == ["fact"]
    assert clinician_api.get_json(f"{V2}/cases/999999/not-needed/").status_code == 404


def test_only_clinicians_waive_and_coordinators_read(
    coordinator_api: ApiClient, case: dict[str, Any]
) -> None:
    path = f"{V2}/cases/{case['id']}/not-needed/"

    refused = coordinator_api.post_json(path, {"fact": "egfr_ml_min", "reason": "Known"})

    assert refused.status_code == 403
    assert coordinator_api.get_json(path).json() == []


def test_an_archived_case_cannot_have_facts_waived(
    clinician_api: ApiClient, coordinator_api: ApiClient, case: dict[str, Any]
) -> None:
    assert coordinator_api.post_json(f"{V2}/cases/{case['id']}/archive/", None).status_code == 200

    refused = clinician_api.post_json(
        f"{V2}/cases/{case['id']}/not-needed/", {"fact": "ecog", "reason": "No"}
    )

    assert refused.status_code == 409 and "archived" in refused.json()["detail"]


def test_not_needed_is_v2_only(clinician_api: ApiClient, case: dict[str, Any]) -> None:
    assert clinician_api.get_json(f"/api/v1/cases/{case['id']}/not-needed/").status_code == 404


# --- attendance and quoracy ----------------------------------------------------------------------


def test_the_meeting_is_quorate_once_every_core_role_is_present(
    coordinator_api: ApiClient, meeting: dict[str, Any]
) -> None:
    path = f"{V2}/meetings/{meeting['id']}/attendance/"
    empty = coordinator_api.get_json(path).json()
    assert empty["quorate"] is False and empty["core_roles_missing"] == list(CORE_MDT_ROLES)

    for number, role in enumerate(CORE_MDT_ROLES, start=1):
        answer = coordinator_api.post_json(path, {"name": f"Dr Member {number}", "role": role})
        assert answer.status_code == 201, answer.json()

    state = answer.json()
    assert state["quorate"] is True and state["core_roles_missing"] == []
    assert {attendee["role"] for attendee in state["attendees"]} == set(CORE_MDT_ROLES)
    assert AuditEvent.objects.filter(action="meeting.attendee_add").count() == len(CORE_MDT_ROLES)

    surgeon = next(attendee for attendee in state["attendees"] if attendee["role"] == "surgeon")
    removed = coordinator_api.send("DELETE", f"{path}{surgeon['id']}/")
    assert removed.status_code == 200
    assert removed.json()["quorate"] is False and removed.json()["core_roles_missing"] == ["surgeon"]
    assert AuditEvent.objects.filter(action="meeting.attendee_remove", payload__role="surgeon").exists()
    assert coordinator_api.send("DELETE", f"{path}{surgeon['id']}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"name": "Dr A", "role": "astronaut"}, ["role"]),
        ({"name": "  ", "role": "surgeon"}, ["name"]),
        ({"role": "surgeon"}, ["name"]),
        ({"name": "Dr A", "role": "surgeon", "present": True}, ["present"]),
    ],
)
def test_a_bad_attendee_is_400_naming_the_field(
    coordinator_api: ApiClient, meeting: dict[str, Any], body: dict[str, Any], loc: list[str]
) -> None:
    response = coordinator_api.post_json(f"{V2}/meetings/{meeting['id']}/attendance/", body)

    assert response.status_code == 400, response.json()
    assert [error["loc"] for error in response.json()["errors"]] == [loc]


def test_the_same_person_in_the_same_role_twice_is_400_at_name(
    coordinator_api: ApiClient, meeting: dict[str, Any]
) -> None:
    path = f"{V2}/meetings/{meeting['id']}/attendance/"
    assert coordinator_api.post_json(path, {"name": "Dr A", "role": "surgeon"}).status_code == 201

    again = coordinator_api.post_json(path, {"name": "Dr A", "role": "surgeon"})

    assert again.status_code == 400 and again.json()["errors"][0]["loc"] == ["name"]


def test_roles_without_the_meeting_cannot_see_or_record_attendance(
    published: Any, rule_author: User, meeting: dict[str, Any]
) -> None:
    author = client_for(rule_author)
    path = f"{V2}/meetings/{meeting['id']}/attendance/"

    assert author.get_json(path).status_code == 403
    assert author.post_json(path, {"name": "Dr A", "role": "surgeon"}).status_code == 403
    assert ApiClient().get_json(path).status_code == 401
