"""The rule editor over /api/v2/: a rule author edits or adds a rule or modality of a draft through
the real HTTP stack; the loader's messages come back as 400 by field; non-drafts are 409; other roles
403; v1 (frozen) has no such endpoints; any rule set reads back as YAML with its checksum."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.api.conftest import ApiClient, client_for
from treatments.api.schemas import ModalityEditIn
from treatments.models import Rule, RuleSet
from treatments.rules.document import parse_text

DRAFT = "/api/v2/rulesets/drafts/1.3.0-draft/modalities/"
MARROW = DRAFT + "prrt_lu177/rules/prrt.marrow/"


def modality_fields(draft: RuleSet, key: str = "prrt_lu177") -> dict[str, Any]:
    modality = next(m for m in draft.content["modalities"] if m["key"] == key)
    # The patients' texts are in the content only when written (rules/content.py).
    return {name: modality.get(name, "") for name in ModalityEditIn.model_fields}


RULE: dict[str, Any] = {
    "kind": "requirement",
    "title": "Platelets at least 100 × 10⁹/L",
    "condition": {"fact": "platelets_10e9_l", "ge": 100},
    "reason": "PRRT is myelotoxic.",
    "source": "LUTIA protocol",
    "evidence": "trial eligibility",
    "verification": "recall",
}


@pytest.fixture
def author(rule_author: User, draft: RuleSet) -> ApiClient:
    return client_for(rule_author)


def test_a_rule_author_changes_a_threshold_and_the_checksum_changes(
    author: ApiClient, draft: RuleSet
) -> None:
    response = author.send("PUT", MARROW, RULE)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["version"] == "1.3.0-draft" and body["checksum"] != draft.checksum
    assert body["rule"]["condition"] == {"fact": "platelets_10e9_l", "ge": 100}
    assert body["rule"]["if_unknown"] == "hold" and body["rule"]["verification_note"] == ""
    row = Rule.objects.get(rule_set=draft, modality__key="prrt_lu177", rule_id="prrt.marrow")
    assert row.condition == {"fact": "platelets_10e9_l", "ge": 100}


def test_the_loaders_problems_come_back_by_field(author: ApiClient, draft: RuleSet) -> None:
    response = author.send("PUT", MARROW, {**RULE, "condition": {"fact": "platelets", "ge": 1}})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"loc": ["condition"], "msg": "'platelets' is not a fact of the contract"}
    ] or any(error["loc"] == ["condition"] for error in response.json()["errors"]), response.json()
    bad_kind = author.send("PUT", MARROW, {**RULE, "kind": "indication", "if_unknown": "note"})
    assert bad_kind.status_code == 400 and bad_kind.json()["errors"][0]["loc"] == ["if_unknown"]
    missing = author.send("PUT", MARROW, {"kind": "requirement"})
    assert missing.status_code == 400 and {"title"} <= {e["loc"][-1] for e in missing.json()["errors"]}
    assert RuleSet.objects.get(pk=draft.pk).checksum == draft.checksum


def test_a_rule_is_added_and_a_taken_id_is_refused(author: ApiClient, draft: RuleSet) -> None:
    rule = {
        **RULE,
        "rule_id": "prrt.bilirubin_high",
        "kind": "caution",
        "condition": {"fact": "bilirubin_umol_l", "gt": 50},
    }
    created = author.post_json(DRAFT + "prrt_lu177/rules/", rule)
    assert created.status_code == 201 and created.json()["rule"]["rule_id"] == "prrt.bilirubin_high"
    again = author.post_json(DRAFT + "prrt_lu177/rules/", rule)
    assert again.status_code == 400
    assert again.json()["errors"] == [
        {"loc": ["rule_id"], "msg": "modality prrt_lu177 already has a rule prrt.bilirubin_high"}
    ]


def test_a_modality_is_edited(author: ApiClient, draft: RuleSet) -> None:
    modality = modality_fields(draft)
    response = author.send("PUT", DRAFT + "prrt_lu177/", {**modality, "agents": "Lutathera"})
    assert response.status_code == 200 and response.json()["modality"]["agents"] == "Lutathera"
    bad = author.send("PUT", DRAFT + "prrt_lu177/", {**modality, "category": "surgery"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["loc"] == ["category"]


def test_adding_a_modality_that_exists_is_refused_by_field(author: ApiClient, draft: RuleSet) -> None:
    body = {**modality_fields(draft), "key": "prrt_lu177", "indication": {**RULE, "rule_id": "prrt.x"}}
    response = author.post_json(DRAFT, body)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"loc": ["key"], "msg": "the rule set already has a modality prrt_lu177"}
    ]


def test_a_published_rule_set_is_409_and_an_unknown_one_404(author: ApiClient, published: RuleSet) -> None:
    url = f"/api/v2/rulesets/drafts/{published.version}/modalities/prrt_lu177/rules/prrt.marrow/"
    response = author.send("PUT", url, RULE)
    assert response.status_code == 409 and "is not a draft" in response.json()["detail"]
    assert (
        author.send(
            "PUT", "/api/v2/rulesets/drafts/9.9.9/modalities/prrt_lu177/rules/prrt.marrow/", RULE
        ).status_code
        == 404
    )


@pytest.mark.parametrize("persona", ["clinician", "coordinator", "admin_user"])
def test_only_rule_authors_edit_drafts(persona: str, draft: RuleSet, request: pytest.FixtureRequest) -> None:
    client = client_for(request.getfixturevalue(persona))
    assert client.send("PUT", MARROW, RULE).status_code == 403


def test_v1_has_no_rule_editor(author: ApiClient) -> None:
    assert author.send("PUT", MARROW.replace("/api/v2/", "/api/v1/"), RULE).status_code == 404


def test_any_rule_set_reads_back_as_yaml_with_its_checksum(author: ApiClient, draft: RuleSet) -> None:
    author.send("PUT", MARROW, RULE)
    response = author.get_json("/api/v2/rulesets/1.3.0-draft/yaml/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/yaml")
    assert parse_text(response.content.decode()).checksum == RuleSet.objects.get(pk=draft.pk).checksum


def test_a_change_based_on_an_older_reading_of_the_rule_is_409(author: ApiClient, draft: RuleSet) -> None:
    first = author.send("PUT", MARROW, RULE).json()
    author.send("PUT", MARROW, {**RULE, "reason": "Theirs.", "based_on": first["fingerprint"]})
    stale = author.send("PUT", MARROW, {**RULE, "reason": "Mine.", "based_on": first["fingerprint"]})
    assert stale.status_code == 409 and "changed by someone else" in stale.json()["detail"]
    assert (
        Rule.objects.get(rule_set=draft, modality__key="prrt_lu177", rule_id="prrt.marrow").reason
        == "Theirs."
    )
