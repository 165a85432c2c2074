"""No lost updates in the MDT workflow (security review F12): a meeting is changed from the version
the user saw, and an outcome names the evaluation the clinician saw. /api/v1/ stays as published."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.concurrency import in_threads
from treatments.models import AuditEvent, Meeting, Outcome

from .conftest import ApiClient, client_for
from .test_mdt_api import create_case, evaluate, patch, put

MEETING = {"title": "NET MDT", "date": "2026-12-03"}


@pytest.fixture
def coordinator_api(published: Any, coordinator: User) -> ApiClient:
    return client_for(coordinator)


@pytest.fixture
def clinician_api(published: Any, clinician: User) -> ApiClient:
    return client_for(clinician)


def _meeting(api: ApiClient) -> dict[str, Any]:
    response = api.post_json("/api/v2/meetings/", MEETING)
    assert response.status_code == 201, response.json()
    return dict(response.json())


# --- meetings --------------------------------------------------------------------------------------


def test_a_meeting_is_changed_from_the_version_seen_and_the_version_goes_up(
    coordinator_api: ApiClient,
) -> None:
    meeting = _meeting(coordinator_api)
    assert meeting["version"] == 1

    changed = put(
        coordinator_api, f"/api/v2/meetings/{meeting['id']}/", {**MEETING, "title": "Moved", "version": 1}
    )

    assert changed.status_code == 200, changed.json()
    assert (changed.json()["title"], changed.json()["version"]) == ("Moved", 2)


def test_a_meeting_change_from_a_stale_version_is_409_with_what_was_saved(coordinator_api: ApiClient) -> None:
    meeting = _meeting(coordinator_api)
    path = f"/api/v2/meetings/{meeting['id']}/"
    assert put(coordinator_api, path, {**MEETING, "title": "First", "version": 1}).status_code == 200

    stale = put(coordinator_api, path, {**MEETING, "title": "Second", "version": 1})

    assert stale.status_code == 409
    assert stale.json()["current"]["title"] == "First"
    assert stale.json()["current"]["version"] == 2
    assert Meeting.objects.get(pk=meeting["id"]).title == "First"


def test_v2_requires_the_version_to_change_a_meeting(coordinator_api: ApiClient) -> None:
    meeting = _meeting(coordinator_api)

    response = put(coordinator_api, f"/api/v2/meetings/{meeting['id']}/", MEETING)

    assert response.status_code == 400
    assert response.json()["errors"] == [{"loc": ["version"], "msg": "is required"}]


def test_v1_changes_a_meeting_as_published_without_a_version(coordinator_api: ApiClient) -> None:
    meeting = _meeting(coordinator_api)
    path = f"/api/v1/meetings/{meeting['id']}/"

    changed = put(coordinator_api, path, {**MEETING, "title": "Moved"})
    with_version = put(coordinator_api, path, {**MEETING, "version": 2})

    assert changed.status_code == 200
    assert changed.json()["title"] == "Moved" and "version" not in changed.json()
    assert "version" not in coordinator_api.get_json(path).json()
    assert with_version.status_code == 400  # v1's request has no version
    updates = AuditEvent.objects.filter(action="meeting.update")
    assert [event.payload["before"]["title"] for event in updates] == ["NET MDT"]  # v1 overwrites are audited


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_changes_from_one_version_give_one_200_and_409s(
    coordinator: User, published: Any
) -> None:
    api = client_for(coordinator)
    meeting = _meeting(api)
    titles = iter(f"Title {n}" for n in range(8))
    lock = threading.Lock()

    def change() -> Any:
        with lock:
            title = next(titles)
        client = ApiClient(api.token, raise_request_exception=False)
        return put(client, f"/api/v2/meetings/{meeting['id']}/", {**MEETING, "title": title, "version": 1})

    responses = in_threads(8, change)

    assert sorted(r.status_code for r in responses) == [200] + [409] * 7, [r.content for r in responses]
    winner = next(r for r in responses if r.status_code == 200).json()
    saved = Meeting.objects.get(pk=meeting["id"])
    assert (saved.title, saved.version) == (winner["title"], 2)


# --- outcomes --------------------------------------------------------------------------------------


def _case_on_meeting(coordinator_api: ApiClient) -> tuple[dict[str, Any], dict[str, Any], str]:
    case = create_case(coordinator_api)
    meeting = _meeting(coordinator_api)
    coordinator_api.post_json(f"/api/v2/meetings/{meeting['id']}/cases/", {"case": case["id"]})
    return case, meeting, f"/meetings/{meeting['id']}/cases/{case['id']}/outcome/"


def test_an_outcome_from_a_superseded_evaluation_is_409_and_not_recorded(
    coordinator_api: ApiClient, clinician_api: ApiClient
) -> None:
    case, _, outcome = _case_on_meeting(coordinator_api)
    first = evaluate(coordinator_api, case)
    patch(coordinator_api, f"/api/v2/cases/{case['id']}/", {"version": 1, "profile": {"ecog": 4}})
    second = evaluate(coordinator_api, case)
    body = {"chosen_modalities": ["prrt_lu177"], "plan": "PRRT", "evaluation": first["id"]}

    stale = put(clinician_api, f"/api/v2{outcome}", body)

    assert stale.status_code == 409
    assert stale.json()["detail"].startswith("a newer evaluation of this case exists")
    assert not Outcome.objects.exists()
    recorded = put(clinician_api, f"/api/v2{outcome}", {**body, "evaluation": second["id"]})
    assert recorded.status_code == 201, recorded.json()
    assert recorded.json()["evaluation"] == second["id"]


def test_v2_requires_the_evaluation_an_outcome_was_decided_on(
    coordinator_api: ApiClient, clinician_api: ApiClient
) -> None:
    case, _, outcome = _case_on_meeting(coordinator_api)
    evaluate(coordinator_api, case)

    missing = put(clinician_api, f"/api/v2{outcome}", {"chosen_modalities": [], "plan": "Surveillance"})
    other_case = create_case(coordinator_api, hospital_reference="RFH-1002")
    foreign = evaluate(coordinator_api, other_case)["id"]
    wrong = put(
        clinician_api, f"/api/v2{outcome}", {"chosen_modalities": [], "plan": "S", "evaluation": foreign}
    )

    assert missing.status_code == 400
    assert missing.json()["errors"] == [{"loc": ["evaluation"], "msg": "is required"}]
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["loc"] == ["evaluation"]


def test_v1_records_an_outcome_as_published_against_the_latest_evaluation(
    coordinator_api: ApiClient, clinician_api: ApiClient
) -> None:
    case, _, outcome = _case_on_meeting(coordinator_api)
    evaluation = evaluate(coordinator_api, case)

    recorded = put(clinician_api, f"/api/v1{outcome}", {"chosen_modalities": [], "plan": "Surveillance"})
    refused = put(
        clinician_api, f"/api/v1{outcome}", {"plan": "x", "version": 1, "evaluation": evaluation["id"]}
    )

    assert recorded.status_code == 201
    assert recorded.json()["evaluation"] == evaluation["id"]
    assert refused.status_code == 400  # v1's request has no evaluation
