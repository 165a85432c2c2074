"""GET /api/v1/modalities/ and /api/v1/rulesets/current/: the catalogue with rules and sources."""

from __future__ import annotations

from typing import Any

import pytest

from treatments.rules.profile import MODALITY_KEYS
from treatments.rules.vocabulary import MODALITY_KEYS_V1

from .conftest import ApiClient


@pytest.mark.parametrize("version, keys", [("v1", MODALITY_KEYS_V1), ("v2", MODALITY_KEYS)])
def test_the_catalogue_lists_the_modalities_of_its_version_in_display_order(
    api: ApiClient, version: str, keys: tuple[str, ...]
) -> None:
    response = api.get_json(f"/api/{version}/modalities/")

    assert response.status_code == 200
    modalities = response.json()
    assert sorted(m["key"] for m in modalities) == sorted(keys)
    orders = [m["display_order"] for m in modalities]
    assert orders == sorted(orders)
    assert modalities[0]["key"] == "surgery_curative"


def test_each_modality_carries_its_rules_with_reason_source_and_evidence(api: ApiClient) -> None:
    prrt = api.get_json("/api/v1/modalities/prrt_lu177/").json()

    assert prrt["category"] == "radionuclide_therapy"
    assert prrt["category_label"] == "Radionuclide therapy"
    assert prrt["intents"] == ["antiproliferative", "symptom_control"]
    assert "7.4 GBq" in prrt["agents"]
    uptake = next(rule for rule in prrt["rules"] if rule["rule_id"] == "prrt.uptake")
    assert uptake["kind"] == "requirement"
    assert uptake["condition"] == {"fact": "krenning_score", "ge": 2}
    assert uptake["condition_text"] == "Krenning score ≥ 2"
    assert uptake["reason"] and uptake["source"] and uptake["evidence"]


def test_unverified_numbers_stay_flagged_in_the_catalogue(api: ApiClient) -> None:
    prrt = api.get_json("/api/v1/modalities/prrt_lu177/").json()

    renal = next(rule for rule in prrt["rules"] if rule["rule_id"] == "prrt.renal")
    assert renal["verification"] == "recall"
    assert renal["verification_note"]


def test_the_catalogue_filters_by_category(api: ApiClient) -> None:
    keys = [m["key"] for m in api.get_json("/api/v1/modalities/?category=chemotherapy").json()]

    assert keys == ["platinum_etoposide", "capecitabine_temozolomide", "streptozocin_5fu", "folfox_folfiri"]


@pytest.mark.parametrize(
    ("words", "expected"),
    [("lutetium", "prrt_lu177"), ("lutathera", "prrt_lu177"), ("EVEROLIMUS", "everolimus")],
)
def test_the_catalogue_searches_text(api: ApiClient, words: str, expected: str) -> None:
    keys = [m["key"] for m in api.get_json(f"/api/v1/modalities/?search={words}").json()]

    assert expected in keys
    assert len(keys) < 15


def test_a_search_that_matches_nothing_gives_an_empty_list(api: ApiClient) -> None:
    assert api.get_json("/api/v1/modalities/?search=zzzyxq").json() == []


@pytest.mark.parametrize(
    ("query", "loc"),
    [("category=dentistry", ["query", "category"]), ("search=" + "x" * 201, ["query", "search"])],
)
def test_bad_query_parameters_get_a_400(api: ApiClient, query: str, loc: list[str]) -> None:
    response = api.get_json(f"/api/v1/modalities/?{query}")

    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == loc


def test_an_unknown_modality_gets_a_404(api: ApiClient) -> None:
    response = api.get_json("/api/v1/modalities/homeopathy/")

    assert response.status_code == 404
    assert "homeopathy" in response.json()["detail"]


def test_the_current_rule_set_shows_version_and_checksum(api: ApiClient, published: Any) -> None:
    body = api.get_json("/api/v1/rulesets/current/").json()

    assert body["version"] == published.version
    assert body["checksum"] == published.checksum and len(body["checksum"]) == 64
    assert body["status"] == "published"
    assert body["modality_count"] == 15  # v1 counts what it lists
    assert body["rule_count"] == published.rules.filter(modality__key__in=MODALITY_KEYS_V1).count()
    v2 = api.get_json("/api/v2/rulesets/current/").json()
    assert (v2["modality_count"], v2["rule_count"]) == (20, published.rules.count())
