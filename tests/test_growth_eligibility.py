"""Batch clients (security review F9): `?view=summary` answers each option in a few hundred bytes,
and a batch whose answer would pass API_BATCH_MAX_RESPONSE_BYTES is refused, naming the limit,
instead of building a 97 MB response in a worker's memory."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.contrib.auth.models import User
from django.test import override_settings

from tests.api.conftest import ApiClient, client_for
from tests.personas import BRONCHIAL_NHS, SI_NET
from treatments.rules.vocabulary import MODALITY_KEYS

SINGLE = "/api/v2/eligibility/"
BATCH = "/api/v2/eligibility/batch/"
# An empty profile leaves everything to be decided (the longest lists of missing facts); the others
# decide much (the longest lists of deciding rules and cautions).
PROFILES: list[dict[str, Any]] = [{}, SI_NET, BRONCHIAL_NHS, {"primary_site": "pancreas", "ecog": 3}]
COLUMNS = ["modality", "status", "deciding_rules", "missing_facts", "cautions"]


@pytest.fixture
def api(clinician: User, published: Any) -> ApiClient:
    return client_for(clinician)


@pytest.mark.parametrize("profile", PROFILES)
def test_the_summary_says_status_deciding_rules_missing_facts_and_cautions_of_the_full_answer(
    api: ApiClient, profile: dict[str, Any]
) -> None:
    full = api.post_json(SINGLE, {"profile": profile}).json()
    response = api.post_json(SINGLE + "?view=summary", {"profile": profile})

    assert response.status_code == 200
    summary = response.json()
    assert summary["view"] == "summary" and summary["columns"] == COLUMNS
    assert (summary["ruleset"], summary["warnings"]) == (full["ruleset"], full["warnings"])
    assert len(summary["options"]) == len(full["options"]) == len(MODALITY_KEYS)
    for row, option in zip(summary["options"], full["options"], strict=True):
        short = dict(zip(COLUMNS, row, strict=True))
        assert (short["modality"], short["status"]) == (option["modality"], option["status"])
        assert short["deciding_rules"] == [r["rule_id"] for r in option["reasons"] if r["decisive"]]
        assert short["missing_facts"] == option["missing_facts"]
        assert short["cautions"] == [c["rule_id"] for c in option["cautions"]]


def test_a_summary_takes_at_most_5_kb_per_profile_in_a_batch(api: ApiClient) -> None:
    profiles = PROFILES * 25
    response = api.post_json(BATCH + "?view=summary", {"profiles": profiles})

    assert response.status_code == 200
    assert response.json()["columns"] == COLUMNS
    results = response.json()["results"]
    assert [item["index"] for item in results] == list(range(len(profiles)))
    sizes = [len(orjson.dumps(item)) for item in results]
    assert max(sizes) <= 5_000, max(sizes)
    assert len(response.content) <= 5_000 * len(profiles)


def test_a_bad_item_of_a_summary_batch_gets_its_own_errors(api: ApiClient) -> None:
    response = api.post_json(BATCH + "?view=summary", {"profiles": [SI_NET, {"ecog": 9}]})

    first, second = response.json()["results"]
    assert set(first) == {"index", "warnings", "options"}
    assert second["errors"][0]["loc"] == ["profiles", 1, "ecog"]


@pytest.mark.parametrize("view", ["short", "", "SUMMARY"])
def test_an_unknown_view_is_a_400_naming_the_parameter(api: ApiClient, view: str) -> None:
    for url in (SINGLE, BATCH):
        body = {"profile": SI_NET} if url == SINGLE else {"profiles": [SI_NET]}
        response = api.post_json(f"{url}?view={view}", body)
        assert response.status_code == 400
        assert response.json()["errors"][0]["loc"] == ["query", "view"]


def test_v1_as_published_has_no_summary_view(api: ApiClient) -> None:
    response = api.post_json("/api/v1/eligibility/?view=summary", {"profile": SI_NET})

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"loc": ["query", "view"], "msg": "the summary view is served by /api/v2/ only"}
    ]


def test_a_batch_answer_larger_than_the_limit_is_refused_with_413_naming_it(api: ApiClient) -> None:
    one = len(api.post_json(BATCH, {"profiles": [SI_NET]}).content)
    limit = one * 3 + 10  # three full answers fit, a fourth does not

    with override_settings(NETCARE_API_BATCH_MAX_RESPONSE_BYTES=limit):
        fits = api.post_json(BATCH, {"profiles": [SI_NET] * 3})
        refused = api.post_json(BATCH, {"profiles": [SI_NET] * 4})
        v1_refused = api.post_json("/api/v1/eligibility/batch/", {"profiles": [SI_NET] * 40})
        summary = api.post_json(BATCH + "?view=summary", {"profiles": [SI_NET] * 4})

    assert fits.status_code == 200 and summary.status_code == 200
    assert refused.status_code == 413 and v1_refused.status_code == 413
    body = refused.json()
    assert body["errors"][0]["loc"] == ["profiles"]
    assert f"{limit} bytes" in body["detail"] and "API_BATCH_MAX_RESPONSE_BYTES" in body["detail"]
    assert "?view=summary" in body["detail"] and "the first 3 profiles fit" in body["detail"]


def test_more_profiles_than_the_cap_are_refused_naming_it(api: ApiClient) -> None:
    response = api.post_json(BATCH + "?view=summary", {"profiles": [{}] * 1001})

    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == ["profiles"]
    assert "1000" in response.json()["errors"][0]["msg"]
