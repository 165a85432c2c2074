"""/api/v1/cases/ and /api/v1/meetings/: the MDT workflow for other systems, with the pages' rules."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.conftest import make_user
from tests.personas import SI_NET
from treatments.models import AuditEvent, Evaluation, Review

from .conftest import ApiClient, client_for

CASE: dict[str, Any] = {
    "hospital_reference": "RFH-1001",
    "nhs_number": "943 476 5919",
    "referring_clinician": "Dr Ada Lovelace",
    "question": "Is PRRT an option?",
    "profile": SI_NET,
}


@pytest.fixture
def coordinator_api(published: Any, coordinator: User) -> ApiClient:
    return client_for(coordinator)


@pytest.fixture
def clinician_api(published: Any, clinician: User) -> ApiClient:
    return client_for(clinician)


def create_case(api: ApiClient, **changes: Any) -> dict[str, Any]:
    response = api.post_json("/api/v1/cases/", {**CASE, **changes})
    assert response.status_code == 201, response.json()
    return response.json()


def evaluate(api: ApiClient, case: dict[str, Any]) -> dict[str, Any]:
    response = api.post_json(f"/api/v1/cases/{case['id']}/evaluations/", None)
    assert response.status_code == 201, response.json()
    return response.json()


def patch(api: ApiClient, path: str, body: Any) -> Any:
    return api.send("PATCH", path, body)


def put(api: ApiClient, path: str, body: Any) -> Any:
    return api.send("PUT", path, body)


# --- cases -------------------------------------------------------------------------------------------


def test_a_coordinator_creates_a_case_with_its_known_facts(coordinator_api: ApiClient) -> None:
    case = create_case(coordinator_api)

    assert case["hospital_reference"] == "RFH-1001"
    assert case["nhs_number"] == "9434765919"
    assert case["profile"]["krenning_score"] == 3 and "ecog" not in case["profile"]
    assert (case["status"], case["version"], case["created_by"]) == ("draft", 1, "mdt_reyes")
    assert case["latest_evaluation"] is None


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"hospital_reference": ""}, ["hospital_reference"]),
        ({"hospital_reference": "RFH 1001"}, ["hospital_reference"]),
        ({"nhs_number": "943 476 5918"}, ["nhs_number"]),
        ({"question": "   "}, ["question"]),
        ({"profile": {"ki67_percent": 140}}, ["profile", "ki67_percent"]),
        ({"profile": {"tumour_colour": "blue"}}, ["profile", "tumour_colour"]),
        ({"status": "urgent"}, ["status"]),
        ({"owner": "me"}, ["owner"]),
    ],
)
def test_a_bad_case_gets_a_400_naming_the_field(
    coordinator_api: ApiClient, changes: dict[str, Any], loc: list[str]
) -> None:
    response = coordinator_api.post_json("/api/v1/cases/", {**CASE, **changes})

    assert response.status_code == 400
    assert loc in [error["loc"] for error in response.json()["errors"]], response.json()


def test_a_second_case_with_the_same_reference_is_a_conflict(coordinator_api: ApiClient) -> None:
    create_case(coordinator_api)

    response = coordinator_api.post_json("/api/v1/cases/", CASE)

    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]


def test_the_case_list_filters_and_pages(coordinator_api: ApiClient) -> None:
    create_case(coordinator_api)
    create_case(coordinator_api, hospital_reference="RFH-1002", question="Surgery?", status="ready")

    everything = coordinator_api.get_json("/api/v1/cases/").json()
    ready = coordinator_api.get_json("/api/v1/cases/?status=ready").json()
    found = coordinator_api.get_json("/api/v1/cases/?search=surgery").json()

    assert (everything["count"], everything["page"], everything["pages"]) == (2, 1, 1)
    assert [case["hospital_reference"] for case in ready["results"]] == ["RFH-1002"]
    assert [case["hospital_reference"] for case in found["results"]] == ["RFH-1002"]
    assert coordinator_api.get_json("/api/v1/cases/?status=urgent").status_code == 400


def test_changing_a_case_from_a_stale_version_is_a_409_with_the_saved_case(
    coordinator_api: ApiClient, clinician_api: ApiClient
) -> None:
    case = create_case(coordinator_api)
    first = patch(
        clinician_api, f"/api/v1/cases/{case['id']}/", {"version": 1, "question": "PRRT or everolimus?"}
    )
    second = patch(coordinator_api, f"/api/v1/cases/{case['id']}/", {"version": 1, "question": "Surgery?"})

    assert first.status_code == 200 and first.json()["version"] == 2
    assert second.status_code == 409
    body = second.json()
    assert "Clara Hughes" in body["detail"] and body["errors"] == []
    assert body["current"]["question"] == "PRRT or everolimus?"


def test_a_change_needs_the_version(coordinator_api: ApiClient) -> None:
    case = create_case(coordinator_api)

    response = patch(coordinator_api, f"/api/v1/cases/{case['id']}/", {"question": "x"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == ["version"]


def test_cases_cannot_be_deleted_only_archived(coordinator_api: ApiClient) -> None:
    case = create_case(coordinator_api)
    evaluate(coordinator_api, case)

    deleted = coordinator_api.send("DELETE", f"/api/v1/cases/{case['id']}/")
    archived = coordinator_api.post_json(f"/api/v1/cases/{case['id']}/archive/", None)

    assert deleted.status_code == 405
    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert coordinator_api.get_json("/api/v1/cases/").json()["count"] == 0
    assert coordinator_api.get_json("/api/v1/cases/?archived=true").json()["count"] == 1
    assert coordinator_api.post_json(f"/api/v1/cases/{case['id']}/evaluations/", None).status_code == 409
    assert Evaluation.objects.count() == 1


def test_unknown_ids_are_404s(coordinator_api: ApiClient) -> None:
    for path in (
        "/api/v1/cases/999/",
        "/api/v1/cases/999999999999999999999999/",
        "/api/v1/meetings/5/worklist/",
    ):
        response = coordinator_api.get_json(path)
        assert response.status_code == 404, path
        assert set(response.json()) == {"detail", "errors"}


# --- evaluations and reviews -----------------------------------------------------------------------


def test_an_evaluation_stores_the_answer_with_its_rule_set(
    coordinator_api: ApiClient, published: Any
) -> None:
    case = create_case(coordinator_api)
    evaluation = evaluate(coordinator_api, case)

    assert evaluation["ruleset"]["version"] == published.version
    assert evaluation["ruleset"]["checksum"] == published.checksum
    assert len(evaluation["options"]) == 15
    prrt = next(option for option in evaluation["options"] if option["modality"] == "prrt_lu177")
    assert prrt["status"] == "candidate"
    assert evaluation["out_of_date"] == []
    again = coordinator_api.get_json(f"/api/v1/cases/{case['id']}/evaluations/{evaluation['id']}/").json()
    assert again["options"] == evaluation["options"]


def test_after_a_fact_changes_the_evaluation_is_out_of_date_and_the_changes_are_explained(
    coordinator_api: ApiClient,
) -> None:
    case = create_case(coordinator_api, profile={**CASE["profile"], "sstr_imaging": None})
    first = evaluate(coordinator_api, case)
    patch(coordinator_api, f"/api/v1/cases/{case['id']}/", {"version": 1, "profile": CASE["profile"]})

    stale = coordinator_api.get_json(f"/api/v1/cases/{case['id']}/").json()["latest_evaluation"]
    second = evaluate(coordinator_api, case)
    changes = coordinator_api.get_json(
        f"/api/v1/cases/{case['id']}/evaluations/{second['id']}/changes/?since={first['id']}"
    ).json()

    assert stale["out_of_date"] == ["the patient's facts have changed since this evaluation"]
    assert changes["facts"] == [{"fact": "sstr_imaging", "old": None, "new": "positive"}]
    prrt = next(change for change in changes["options"] if change["modality"] == "prrt_lu177")
    assert (prrt["old_status"], prrt["new_status"]) == ("needs_data", "candidate")
    assert {"rule_id": "prrt.sstr_positive", "old_outcome": "unknown", "new_outcome": "met"} in prrt[
        "outcome_changes"
    ]


def test_two_clinicians_reviewing_the_same_option_the_second_gets_409_and_the_first_review(
    coordinator_api: ApiClient, clinician_api: ApiClient
) -> None:
    other = client_for(make_user("dr_okafor", "clinician", first_name="Ngozi", last_name="Okafor"))
    case = create_case(coordinator_api)
    evaluation = evaluate(coordinator_api, case)
    path = f"/api/v1/cases/{case['id']}/evaluations/{evaluation['id']}/reviews/prrt_lu177/"

    first = put(clinician_api, path, {"decision": "accept", "reason_code": "clinically_appropriate"})
    second = put(other, path, {"decision": "reject", "reason_code": "comorbidity", "note": "frail"})

    assert first.status_code == 201 and first.json()["version"] == 1
    assert second.status_code == 409
    assert second.json()["current"]["decision"] == "accept"
    assert "Clara Hughes saved a review" in second.json()["detail"]
    changed = put(other, path, {"decision": "reject", "reason_code": "comorbidity", "version": 1})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    assert Review.objects.get().reviewed_by.username == "dr_okafor"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"decision": "maybe", "reason_code": "other", "note": "x"}, ["decision"]),
        ({"decision": "reject", "reason_code": "other"}, ["note"]),
        ({"decision": "reject"}, ["reason_code"]),
    ],
)
def test_a_bad_review_gets_a_400(
    coordinator_api: ApiClient, clinician_api: ApiClient, body: dict[str, Any], loc: list[str]
) -> None:
    case = create_case(coordinator_api)
    evaluation = evaluate(coordinator_api, case)

    response = put(
        clinician_api, f"/api/v1/cases/{case['id']}/evaluations/{evaluation['id']}/reviews/ssta/", body
    )

    assert response.status_code == 400
    assert loc in [error["loc"] for error in response.json()["errors"]]


def test_only_clinicians_review_options(coordinator_api: ApiClient) -> None:
    case = create_case(coordinator_api)
    evaluation = evaluate(coordinator_api, case)

    response = put(
        coordinator_api,
        f"/api/v1/cases/{case['id']}/evaluations/{evaluation['id']}/reviews/ssta/",
        {"decision": "accept", "reason_code": "clinically_appropriate"},
    )

    assert response.status_code == 403


@pytest.mark.parametrize("role", ["rule_author", "admin", None])
def test_other_roles_cannot_see_cases(published: Any, role: str | None) -> None:
    api = client_for(make_user("outsider", *([role] if role else [])))

    assert api.get_json("/api/v1/cases/").status_code == 403
    assert api.get_json("/api/v1/meetings/").status_code == 403


# --- meetings and outcomes ------------------------------------------------------------------------------


def test_the_meeting_workflow_from_list_to_concordance(
    coordinator_api: ApiClient, clinician_api: ApiClient
) -> None:
    a = create_case(coordinator_api)
    b = create_case(
        coordinator_api, hospital_reference="RFH-1002", profile={**CASE["profile"], "krenning_score": None}
    )
    for case in (a, b):
        evaluate(coordinator_api, case)
    meeting = coordinator_api.post_json(
        "/api/v1/meetings/", {"title": "NET MDT", "date": "2026-12-03"}
    ).json()
    base = f"/api/v1/meetings/{meeting['id']}"
    for case in (a, b):
        assert coordinator_api.post_json(f"{base}/cases/", {"case": case["id"]}).status_code == 201
    assert coordinator_api.post_json(f"{base}/cases/", {"case": a["id"]}).status_code == 409
    reordered = put(coordinator_api, f"{base}/order/", {"cases": [b["id"], a["id"]]})
    assert [entry["hospital_reference"] for entry in reordered.json()["cases"]] == ["RFH-1002", "RFH-1001"]

    worklist = coordinator_api.get_json(f"{base}/worklist/").json()
    assert [row["case"]["hospital_reference"] for row in worklist] == ["RFH-1002", "RFH-1001"]
    assert [row["out_of_date"] for row in worklist] == [[], []]
    assert "krenning_score" not in [item["fact"] for item in worklist[1]["data_to_obtain"]]
    assert worklist[0]["ready"] is False
    krenning = next(item for item in worklist[0]["data_to_obtain"] if item["fact"] == "krenning_score")
    assert "prrt_lu177" in krenning["modalities"]

    outcome = put(
        clinician_api,
        f"{base}/cases/{a['id']}/outcome/",
        {"chosen_modalities": ["prrt_lu177"], "plan": "PRRT"},
    )
    assert outcome.status_code == 201
    assert (outcome.json()["concordant"], outcome.json()["statuses"]) == (True, {"prrt_lu177": "candidate"})
    off = put(
        clinician_api,
        f"{base}/cases/{b['id']}/outcome/",
        {"chosen_modalities": ["prrt_lu177"], "plan": "PRRT"},
    )
    assert off.json()["concordant"] is False  # PRRT needed data for this case
    concordance = coordinator_api.get_json(f"{base}/").json()["concordance"]
    assert concordance == {"concordant": 1, "decided": 2, "recorded": 2, "percent": 50}

    removed = coordinator_api.send("DELETE", f"{base}/cases/{a['id']}/")
    assert removed.status_code == 409  # its outcome is recorded


def test_only_clinicians_record_outcomes_and_a_stale_one_is_refused(
    coordinator_api: ApiClient, clinician_api: ApiClient
) -> None:
    case = create_case(coordinator_api)
    evaluate(coordinator_api, case)
    meeting = coordinator_api.post_json(
        "/api/v1/meetings/", {"title": "NET MDT", "date": "2026-12-03"}
    ).json()
    coordinator_api.post_json(f"/api/v1/meetings/{meeting['id']}/cases/", {"case": case["id"]})
    path = f"/api/v1/meetings/{meeting['id']}/cases/{case['id']}/outcome/"

    assert put(coordinator_api, path, {"plan": "Watch"}).status_code == 403
    assert put(clinician_api, path, {"plan": "Watch"}).status_code == 201
    stale = put(clinician_api, path, {"plan": "PRRT", "chosen_modalities": ["prrt_lu177"]})
    assert stale.status_code == 409 and stale.json()["current"]["plan"] == "Watch"
    bad = put(clinician_api, path, {"plan": "x", "chosen_modalities": ["ssta", "ssta"], "version": 1})
    assert bad.status_code == 400 and bad.json()["errors"][0]["loc"] == ["chosen_modalities"]


def test_a_reorder_that_does_not_list_every_case_is_a_400(coordinator_api: ApiClient) -> None:
    case = create_case(coordinator_api)
    meeting = coordinator_api.post_json(
        "/api/v1/meetings/", {"title": "NET MDT", "date": "2026-12-03"}
    ).json()
    coordinator_api.post_json(f"/api/v1/meetings/{meeting['id']}/cases/", {"case": case["id"]})

    response = put(coordinator_api, f"/api/v1/meetings/{meeting['id']}/order/", {"cases": [case["id"], 77]})

    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == ["cases"]


@pytest.mark.parametrize("date", ["2026-13-01", "next thursday", 20261203, None])
def test_a_meeting_needs_a_real_date(coordinator_api: ApiClient, date: Any) -> None:
    response = coordinator_api.post_json("/api/v1/meetings/", {"title": "NET MDT", "date": date})

    assert response.status_code == 400
    assert response.json()["errors"][0] == {"loc": ["date"], "msg": "must be a date as YYYY-MM-DD"}


def test_the_case_summary_is_recorded_as_an_export(coordinator_api: ApiClient) -> None:
    case = create_case(coordinator_api, profile={**CASE["profile"], "krenning_score": None})
    evaluate(coordinator_api, case)

    summary = coordinator_api.get_json(f"/api/v1/cases/{case['id']}/summary/").json()

    assert summary["case"]["hospital_reference"] == "RFH-1001"
    assert len(summary["evaluation"]["options"]) == 15
    assert any(item["fact"] == "krenning_score" for item in summary["data_to_obtain"])
    event = AuditEvent.objects.filter(action="summary.export").get()
    assert (event.actor_name, event.payload) == ("mdt_reyes", {"format": "json"})


def test_every_write_is_in_the_audit_trail(coordinator_api: ApiClient, clinician_api: ApiClient) -> None:
    case = create_case(coordinator_api)
    evaluation = evaluate(coordinator_api, case)
    put(
        clinician_api,
        f"/api/v1/cases/{case['id']}/evaluations/{evaluation['id']}/reviews/ssta/",
        {"decision": "accept", "reason_code": "clinically_appropriate"},
    )
    patch(coordinator_api, f"/api/v1/cases/{case['id']}/", {"version": 1, "status": "ready"})

    actions = list(
        AuditEvent.objects.exclude(action="ruleset.publish")
        .exclude(object_type__in=["user", "group", "apitoken"])  # the fixtures' users and tokens
        .order_by("id")
        .values_list("action", "actor_name")
    )
    assert actions == [
        ("case.create", "mdt_reyes"),
        ("evaluation.create", "mdt_reyes"),
        ("review.save", "dr_hughes"),
        ("case.update", "mdt_reyes"),
    ]
