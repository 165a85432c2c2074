"""POST /api/v1/eligibility/ and /api/v1/eligibility/batch/: the contract's answer, fast and strict."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from tests.conftest import KB_VERSION, KNOWLEDGE_BASE
from treatments.rules.document import parse_data
from treatments.rules.profile import FACT_NAMES, MODALITY_KEYS
from treatments.rules.vocabulary import FACT_NAMES_V1, MODALITY_KEYS_V1
from treatments.services import ruleset_publish

from .conftest import BRONCHIAL_NHS, ApiClient, client_for

STATUS_RANK = {"candidate": 0, "trial_only": 1, "needs_data": 2, "not_suitable": 3, "not_indicated": 4}
ELIGIBILITY = "/api/v1/eligibility/"
BATCH = "/api/v1/eligibility/batch/"


def options_by_key(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {option["modality"]: option for option in body["options"]}


@pytest.mark.parametrize("version, keys", [("v1", MODALITY_KEYS_V1), ("v2", MODALITY_KEYS)])
def test_it_answers_one_option_per_modality_candidates_first(
    api: ApiClient, version: str, keys: tuple[str, ...]
) -> None:
    response = api.post_json(f"/api/{version}/eligibility/", {"profile": BRONCHIAL_NHS})

    assert response.status_code == 200
    body = response.json()
    assert body["ruleset"]["version"] == KB_VERSION
    assert body["ruleset"]["published_at"]
    assert sorted(option["modality"] for option in body["options"]) == sorted(keys)
    ranks = [STATUS_RANK[option["status"]] for option in body["options"]]
    assert ranks == sorted(ranks)


def test_it_marks_prrt_trial_only_for_a_bronchial_net_on_nhs_funding(api: ApiClient) -> None:
    prrt = options_by_key(api.post_json(ELIGIBILITY, {"profile": BRONCHIAL_NHS}).json())["prrt_lu177"]

    assert prrt["status"] == "trial_only"
    assert prrt["intent"] == ["antiproliferative", "symptom_control"]
    deciding = {reason["rule_id"] for reason in prrt["reasons"] if reason["decisive"]}
    assert "prrt.nhs_non_gep" in deciding


def test_a_private_patient_with_the_same_tumour_is_a_prrt_candidate(api: ApiClient) -> None:
    profile = {**BRONCHIAL_NHS, "funding": "private"}
    prrt = options_by_key(api.post_json(ELIGIBILITY, {"profile": profile}).json())["prrt_lu177"]

    assert prrt["status"] == "candidate"


def test_every_reason_carries_its_outcome_the_values_used_and_its_source(api: ApiClient) -> None:
    prrt = options_by_key(api.post_json(ELIGIBILITY, {"profile": BRONCHIAL_NHS}).json())["prrt_lu177"]

    uptake = next(reason for reason in prrt["reasons"] if reason["rule_id"] == "prrt.uptake")
    assert uptake["outcome"] == "met"
    assert uptake["values"] == {"krenning_score": 3}
    assert uptake["kind"] == "requirement"
    assert uptake["text"] and uptake["source"] and uptake["evidence"]
    assert uptake["verification"] in {"verified", "recall", "to_be_confirmed", "judgement"}


def test_an_unknown_fact_gives_needs_data_and_is_named(api: ApiClient) -> None:
    profile = {key: value for key, value in BRONCHIAL_NHS.items() if key != "krenning_score"}
    profile["funding"] = "private"
    prrt = options_by_key(api.post_json(ELIGIBILITY, {"profile": profile}).json())["prrt_lu177"]

    assert prrt["status"] == "needs_data"
    assert prrt["missing_facts"] == ["krenning_score"]
    uptake = next(reason for reason in prrt["reasons"] if reason["rule_id"] == "prrt.uptake")
    assert uptake["outcome"] == "unknown"
    assert uptake["values"] == {"krenning_score": None}


def test_null_means_unknown_exactly_like_absent(api: ApiClient) -> None:
    absent = api.post_json(ELIGIBILITY, {"profile": {"primary_site": "pancreas"}}).json()
    null = api.post_json(ELIGIBILITY, {"profile": {"primary_site": "pancreas", "resectable": None}}).json()

    assert absent == null


def test_evaluation_costs_no_query_beyond_authentication_once_the_rule_set_is_cached(api: ApiClient) -> None:
    api.post_json(ELIGIBILITY, {"profile": BRONCHIAL_NHS})  # warms the cache

    with CaptureQueriesContext(connection) as queries:
        response = api.post_json(ELIGIBILITY, {"profile": BRONCHIAL_NHS})

    assert response.status_code == 200
    tables = " ".join(query["sql"] for query in queries.captured_queries)
    # Authentication reads the token with its user, and the user's roles; nothing else.
    assert len(queries.captured_queries) <= 2, tables
    assert "treatments_" not in tables.replace("treatments_apitoken", "")
    assert "treatments_apitoken" in tables


def test_a_newly_published_rule_set_is_used_without_a_restart(api: ApiClient, settings: Any) -> None:
    settings.NETCARE_RULESET_RECHECK_SECONDS = 0
    assert api.post_json(ELIGIBILITY, {"profile": {}}).json()["ruleset"]["version"] == KB_VERSION
    content = yaml.safe_load(KNOWLEDGE_BASE.read_text(encoding="utf-8"))
    content["version"] = "9.9.8"
    ruleset_publish(knowledge_base=parse_data(content))

    assert api.post_json(ELIGIBILITY, {"profile": {}}).json()["ruleset"]["version"] == "9.9.8"


def test_without_a_published_rule_set_it_answers_503(clinician: Any, no_knowledge_base: None) -> None:
    response = client_for(clinician).post_json(ELIGIBILITY, {"profile": {}})

    assert response.status_code == 503
    assert "load_knowledge_base" in response.json()["detail"]


# --- invalid input: always 400 with field paths, never a 500 ---------------------------------------


@pytest.mark.parametrize(
    ("profile", "loc", "words"),
    [
        ({"ki67_percent": 140}, ["profile", "ki67_percent"], "at most 100"),
        ({"ki67_percent": -1}, ["profile", "ki67_percent"], "at least 0"),
        ({"tumour_colour": "blue"}, ["profile", "tumour_colour"], "not a known fact"),
        ({"resectable": "yes"}, ["profile", "resectable"], "true or false"),
        ({"ecog": 1.5}, ["profile", "ecog"], "whole number"),
        ({"ecog": "2"}, ["profile", "ecog"], "whole number"),
        ({"primary_site": "liver"}, ["profile", "primary_site"], "must be one of"),
        ({"prior_therapies": "ssta"}, ["profile", "prior_therapies"], "list of modality keys"),
        ({"prior_therapies": ["radiotherapy"]}, ["profile", "prior_therapies", 0], "must be one of"),
        ({"egfr_ml_min": True}, ["profile", "egfr_ml_min"], "number"),
        ({"liver_lesion_count": 5000}, ["profile", "liver_lesion_count"], "at most 1000"),
        ({"liver_lesion_count": 10**30}, ["profile", "liver_lesion_count"], "at most 1000"),
        ({"ecog": 2.5}, ["profile", "ecog"], "whole number"),
    ],
)
def test_bad_facts_get_a_400_naming_the_field(
    api: ApiClient, profile: dict[str, Any], loc: list[Any], words: str
) -> None:
    response = api.post_json(ELIGIBILITY, {"profile": profile})

    assert response.status_code == 400
    body = response.json()
    assert body["detail"]
    assert any(error["loc"] == loc and words in error["msg"] for error in body["errors"]), body


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b'{"profile": {', "application/json", 400),
        (b'{"profile": {"ki67_percent": NaN}}', "application/json", 400),
        (b'{"profile": {"ki67_percent": Infinity}}', "application/json", 400),
        (b'{"profile": {"ki67_percent": 1e400}}', "application/json", 400),
        (b'{"profile": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "application/json", 400),
        (b'{"profile": "\xff\xfe"}', "application/json", 400),
        (b"[]", "application/json", 400),
        (b'"profile"', "application/json", 400),
        (b"", "application/json", 400),
        (b"{}", "application/json", 400),
        (b'{"profile": {}, "extra": 1}', "application/json", 400),
        (b"primary_site=pancreas", "text/plain", 415),
        (b"primary_site=pancreas", "application/x-www-form-urlencoded", 415),
        (b"<profile/>", "application/xml", 415),
    ],
)
def test_malformed_bodies_get_a_clear_4xx_in_the_error_shape(
    api: ApiClient, raw: bytes, content_type: str, status: int
) -> None:
    response = api.post_raw(ELIGIBILITY, raw, content_type)

    assert response.status_code == status
    body = response.json()
    assert set(body) == {"detail", "errors"}


def test_a_body_over_the_size_limit_gets_413(api: ApiClient, settings: Any) -> None:
    settings.NETCARE_API_MAX_BODY_BYTES = 10_000
    response = api.post_raw(ELIGIBILITY, b'{"profile": {}}' + b" " * 10_000)

    assert response.status_code == 413
    assert "too large" in response.json()["detail"] or "larger than" in response.json()["detail"]


def test_wrong_method_gets_405_in_the_error_shape(api: ApiClient) -> None:
    response = api.get_json(ELIGIBILITY)

    assert response.status_code == 405
    assert response.json()["errors"] == []


def test_asking_for_html_gets_406(api: ApiClient) -> None:
    response = api.post_json(ELIGIBILITY, {"profile": {}}, HTTP_ACCEPT="text/html")

    assert response.status_code == 406
    assert response["Content-Type"].startswith("application/json")


# --- batch -------------------------------------------------------------------------------------------


def test_batch_answers_in_order_and_a_bad_item_spoils_only_itself(api: ApiClient) -> None:
    response = api.post_json(BATCH, {"profiles": [BRONCHIAL_NHS, {"ecog": 9}, {}, "pancreas"]})

    assert response.status_code == 200
    results = response.json()["results"]
    assert [result["index"] for result in results] == [0, 1, 2, 3]
    assert len(results[0]["options"]) == 15 and "errors" not in results[0]
    assert results[1]["errors"] == [{"loc": ["profiles", 1, "ecog"], "msg": "must be at most 4"}]
    assert len(results[2]["options"]) == 15
    assert results[3]["errors"][0]["loc"] == ["profiles", 3]


def test_batch_gives_the_same_options_as_single_calls(api: ApiClient) -> None:
    single = api.post_json(ELIGIBILITY, {"profile": BRONCHIAL_NHS}).json()
    batch = api.post_json(BATCH, {"profiles": [BRONCHIAL_NHS]}).json()

    assert batch["ruleset"] == single["ruleset"]
    assert batch["results"][0]["options"] == single["options"]


def test_batch_takes_a_thousand_profiles_but_not_more(api: ApiClient) -> None:
    # A thousand full answers (about 100 MB) are over API_BATCH_MAX_RESPONSE_BYTES (tests/test_growth_*).
    with override_settings(NETCARE_API_BATCH_MAX_RESPONSE_BYTES=10**9):
        ok = api.post_json(BATCH, {"profiles": [{"primary_site": "pancreas"}] * 1000})
    too_many = api.post_json(BATCH, {"profiles": [{}] * 1001})

    assert ok.status_code == 200 and len(ok.json()["results"]) == 1000
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["loc"] == ["profiles"]


def test_batch_rejects_a_body_without_profiles(api: ApiClient) -> None:
    response = api.post_json(BATCH, {"profile": {}})

    assert response.status_code == 400
    locs = [error["loc"] for error in response.json()["errors"]]
    assert ["profiles"] in locs and ["profile"] in locs


@pytest.mark.parametrize(
    "url, facts", [("/api/schema/?format=json", FACT_NAMES_V1), ("/api/v2/schema/?format=json", FACT_NAMES)]
)
def test_the_facts_in_the_schema_are_exactly_the_contracts(
    api: ApiClient, url: str, facts: tuple[str, ...]
) -> None:
    schema = api.get_json(url).json()

    profile = schema["components"]["schemas"]["PatientProfile"]
    assert list(profile["properties"]) == list(facts)
    assert profile["additionalProperties"] is False
