"""/api/v1/ (as published, deprecated) and /api/v2/ (contract 1.2) side by side on 1.2 data."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import User
from django.test import Client

from treatments.api.v1 import SUNSET, V1_JSON, V1_YAML
from treatments.rules.profile import MODALITY_KEYS
from treatments.rules.vocabulary import CATEGORIES_V1, FACT_NAMES_V1, MODALITY_KEYS_V1

from .conftest import BRONCHIAL_NHS, ApiClient, client_for

V1_FACTS, V1_KEYS = set(FACT_NAMES_V1), set(MODALITY_KEYS_V1)
NEW_KEYS = set(MODALITY_KEYS) - V1_KEYS
# A woman of childbearing potential with carcinoid syndrome: 1.2 facts that decide options.
V2_PROFILE = {**BRONCHIAL_NHS, "sex": "female", "childbearing_potential": True, "dpd_status": "normal"}


@pytest.fixture
def coordinator_api(published: Any, coordinator: User) -> ApiClient:
    return client_for(coordinator)


def options(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {option["modality"]: option for option in body["options"]}


def assert_only_v1_values(option: dict[str, Any]) -> None:
    assert option["modality"] in V1_KEYS and option["category"] in CATEGORIES_V1
    assert set(option["missing_facts"]) <= V1_FACTS
    assert all(set(caution["facts"]) <= V1_FACTS for caution in option["cautions"])
    assert "guideline_line" not in option


# --- the documents -----------------------------------------------------------------------------------


def test_the_v1_schema_is_the_saved_document_byte_for_byte(client: Client, db: None) -> None:
    assert client.get("/api/schema/").content == V1_YAML.read_bytes()
    assert client.get("/api/schema/?format=json").content == V1_JSON.read_bytes()
    assert yaml.safe_load(V1_YAML.read_bytes()) == json.loads(V1_JSON.read_bytes())


def test_the_saved_v1_document_is_the_one_published(db: None) -> None:
    document = json.loads(V1_JSON.read_bytes())
    schemas = document["components"]["schemas"]
    assert document["info"]["version"] == "1.0.0"
    assert schemas["ModalityKeyEnum"]["enum"] == list(MODALITY_KEYS_V1)
    assert schemas["FactNameEnum"]["enum"] == list(FACT_NAMES_V1)
    assert all(path.startswith("/api/v1/") for path in document["paths"])


def test_v2_has_its_own_schema_and_docs(client: Client, db: None) -> None:
    document = client.get("/api/v2/schema/?format=json").json()
    schemas = document["components"]["schemas"]
    assert all(path.startswith("/api/v2/") for path in document["paths"])
    # Response values that can grow are open strings; request values stay closed enums.
    assert schemas["Option"]["properties"]["modality"]["type"] == "string"
    assert "enum" not in schemas["Option"]["properties"]["modality"]
    assert "telotristat" in schemas["Option"]["properties"]["modality"]["description"]
    assert set(schemas["ModalityKeyEnum"]["enum"]) == set(MODALITY_KEYS)
    assert schemas["PatientProfile"]["additionalProperties"] is False
    assert client.get("/api/v2/docs/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


# --- eligibility -------------------------------------------------------------------------------------


def test_v2_round_trips_a_1_2_fact_with_warnings_and_guideline_lines(api: ApiClient) -> None:
    response = api.post_json("/api/v2/eligibility/", {"profile": {**V2_PROFILE, "egfr_ml_min": 200}})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["schema_version"] == 2 and body["warnings"], body["warnings"]
    assert set(options(body)) == set(MODALITY_KEYS)
    assert all("guideline_line" in option for option in body["options"])
    assert any(option["guideline_line"] for option in body["options"])
    values = [r["values"] for o in body["options"] for r in o["reasons"] if "dpd_status" in r["values"]]
    assert values and all(value["dpd_status"] == "normal" for value in values)


def test_v2_refuses_a_contradiction_naming_every_fact(api: ApiClient) -> None:
    response = api.post_json("/api/v2/eligibility/", {"profile": {"sex": "male", "pregnant": True}})

    assert response.status_code == 400
    locs = {tuple(error["loc"]) for error in response.json()["errors"]}
    assert {("profile", "sex"), ("profile", "pregnant")} <= locs


def test_v1_never_shows_a_1_2_key_and_names_1_2_facts_in_words(api: ApiClient) -> None:
    v2 = options(api.post_json("/api/v2/eligibility/", {"profile": BRONCHIAL_NHS}).json())
    response = api.post_json("/api/v1/eligibility/", {"profile": BRONCHIAL_NHS})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"ruleset", "options"}
    assert set(options(body)) == V1_KEYS
    hinging = 0
    for key, option in options(body).items():
        assert_only_v1_values(option)
        assert option["status"] == v2[key]["status"]  # nothing looks more decided in v1
        for fact in set(v2[key]["missing_facts"]) - V1_FACTS:
            hinging += 1
            texts = [c["text"] for c in option["cautions"] if c["type"] == "not_checked"]
            assert any(f"({fact})" in text for text in texts), (key, fact, texts)
    assert hinging, "the profile should leave some option hinging on a 1.2 fact"


def test_v1_refuses_1_2_facts_and_values_with_their_loc(api: ApiClient) -> None:
    profile = {
        "sex": "female",
        "portal_vein_thrombosis": "main",
        "functional_syndrome": "catecholamine_excess",
    }
    response = api.post_json("/api/v1/eligibility/", {"profile": profile})

    assert response.status_code == 400
    locs = [error["loc"] for error in response.json()["errors"]]
    assert ["profile", "sex"] in locs
    assert ["profile", "portal_vein_thrombosis"] in locs
    assert ["profile", "functional_syndrome"] in locs


def test_v1_reads_a_boolean_portal_vein_thrombosis_and_shows_it_back(api: ApiClient) -> None:
    body = api.post_json("/api/v1/eligibility/", {"profile": {"portal_vein_thrombosis": True}}).json()

    shown = [r["values"]["portal_vein_thrombosis"] for o in body["options"] for r in o["reasons"]
             if "portal_vein_thrombosis" in r["values"]]  # fmt: skip
    assert shown and set(shown) == {True}


def test_v1_batch_items_are_checked_against_v1_and_answered_in_v1(api: ApiClient) -> None:
    body = api.post_json(
        "/api/v1/eligibility/batch/", {"profiles": [BRONCHIAL_NHS, {"dpd_status": "normal"}]}
    ).json()

    first, second = body["results"]
    assert set(options(first)) == V1_KEYS and "warnings" not in first
    assert second["errors"] == [
        {"loc": ["profiles", 1, "dpd_status"], "msg": "Extra inputs are not permitted"}
    ]
    v2 = api.post_json("/api/v2/eligibility/batch/", {"profiles": [V2_PROFILE]}).json()
    assert set(options(v2["results"][0])) == set(MODALITY_KEYS) and "warnings" in v2["results"][0]


def test_every_v1_answer_is_deprecated_with_a_sunset_and_a_link_to_v2(api: ApiClient) -> None:
    for response in (
        api.post_json("/api/v1/eligibility/", {"profile": {}}),
        api.get_json("/api/v1/modalities/"),
        api.get_json("/api/v1/no-such-thing/"),
        api.post_json("/api/v1/eligibility/", {"profile": {"sex": "male"}}),
    ):
        assert response["Deprecation"] == "true"
        assert response["Sunset"] == SUNSET == "Tue, 30 Jun 2027 23:59:59 GMT"
        assert "</api/v2/docs/>" in response["Link"] and "successor-version" in response["Link"]
    assert "Deprecation" not in api.get_json("/api/v2/modalities/")


# --- catalogue ---------------------------------------------------------------------------------------


def test_the_v1_catalogue_knows_no_1_2_modality(api: ApiClient) -> None:
    assert api.get_json("/api/v1/modalities/telotristat/").status_code == 404
    assert api.get_json("/api/v2/modalities/telotristat/").status_code == 200
    assert api.get_json("/api/v1/modalities/?category=symptom_control").status_code == 400
    assert api.get_json("/api/v2/modalities/?category=symptom_control").json()[0]["key"] == "telotristat"


# --- the MDT workflow --------------------------------------------------------------------------------


def _case_on_a_meeting(coordinator: ApiClient, version: str, profile: dict[str, Any]) -> tuple[int, int]:
    case = coordinator.post_json(
        f"/api/{version}/cases/",
        {
            "hospital_reference": f"RFH-{version}",
            "referring_clinician": "Dr Shah",
            "question": "Options?",
            "profile": profile,
            "status": "ready",
        },  # fmt: skip
    )
    assert case.status_code == 201, case.json()
    case_id = case.json()["id"]
    assert coordinator.post_json(f"/api/{version}/cases/{case_id}/evaluations/", None).status_code == 201
    meeting = coordinator.post_json(f"/api/{version}/meetings/", {"title": "NET MDT", "date": "2026-12-03"})
    meeting_id = meeting.json()["id"]
    coordinator.post_json(f"/api/{version}/meetings/{meeting_id}/cases/", {"case": case_id})
    return case_id, meeting_id


def test_a_case_made_in_v2_reads_in_v1_without_1_2_keys(api: ApiClient, coordinator_api: ApiClient) -> None:
    case_id, meeting_id = _case_on_a_meeting(coordinator_api, "v2", V2_PROFILE)
    outcome = f"/meetings/{meeting_id}/cases/{case_id}/outcome/"
    shown = api.get_json(f"/api/v2/meetings/{meeting_id}/worklist/").json()[0]["evaluation"]
    body = {"chosen_modalities": ["ssta", "telotristat"], "plan": "SSA", "evaluation": shown}
    chosen = api.send("PUT", f"/api/v2{outcome}", body)
    assert chosen.status_code == 201, chosen.json()

    case = api.get_json(f"/api/v1/cases/{case_id}/").json()
    assert set(case["profile"]) <= V1_FACTS
    summary = api.get_json(f"/api/v1/cases/{case_id}/summary/").json()
    for option in summary["evaluation"]["options"]:
        assert_only_v1_values(option)
    assert "warnings" not in summary["evaluation"]
    (row,) = api.get_json(f"/api/v1/meetings/{meeting_id}/worklist/").json()
    v1_outcome = row["outcome"]
    assert v1_outcome["chosen_modalities"] == ["ssta"] and set(v1_outcome["statuses"]) == {"ssta"}
    assert "telotristat" in v1_outcome["plan"]  # said, not hidden
    assert all(item["fact"] in V1_FACTS for item in row["data_to_obtain"])
    # v1 cannot see telotristat, so it must not overwrite that decision.
    overwrite = api.send(
        "PUT", f"/api/v1{outcome}", {"chosen_modalities": ["ssta"], "plan": "x", "version": 1}
    )
    assert overwrite.status_code == 409
    assert overwrite.json()["current"]["chosen_modalities"] == ["ssta"]
    v2_outcome = api.get_json(f"/api/v2/meetings/{meeting_id}/worklist/").json()[0]["outcome"]
    assert v2_outcome["chosen_modalities"] == ["ssta", "telotristat"]


def test_a_v1_profile_change_keeps_the_1_2_facts_recorded(coordinator_api: ApiClient) -> None:
    profile = {**V2_PROFILE, "portal_vein_thrombosis": "main"}
    case_id, _ = _case_on_a_meeting(coordinator_api, "v2", profile)
    shown = coordinator_api.get_json(f"/api/v1/cases/{case_id}/").json()
    assert shown["profile"]["portal_vein_thrombosis"] is True

    changed = coordinator_api.send(
        "PATCH", f"/api/v1/cases/{case_id}/", {"version": shown["version"], "profile": shown["profile"]}
    )
    assert changed.status_code == 200, changed.json()
    stored = coordinator_api.get_json(f"/api/v2/cases/{case_id}/").json()["profile"]
    assert stored["portal_vein_thrombosis"] == "main" and stored["dpd_status"] == "normal"


def test_a_v1_review_of_a_1_2_option_is_refused(api: ApiClient, coordinator_api: ApiClient) -> None:
    case_id, _ = _case_on_a_meeting(coordinator_api, "v1", BRONCHIAL_NHS)
    evaluation = api.get_json(f"/api/v1/cases/{case_id}/").json()["latest_evaluation"]["id"]
    path = f"/cases/{case_id}/evaluations/{evaluation}/reviews/telotristat/"
    review = {"decision": "defer", "reason_code": "awaiting_data"}

    refused = api.send("PUT", f"/api/v1{path}", review)
    assert refused.status_code == 400 and refused.json()["errors"][0]["loc"] == ["path", "modality"]
    assert api.send("PUT", f"/api/v2{path}", review).status_code == 201
    evaluation_v1 = api.get_json(f"/api/v1/cases/{case_id}/evaluations/{evaluation}/").json()
    assert all(review["modality"] in V1_KEYS for review in evaluation_v1["reviews"])
