"""Rule governance over /api/v2/ (docs/rule-governance.md): drafts by upload, reviews, golden runs,
impact reports, the diff, publication (409 naming the gates) and rollback. Not in /api/v1/."""

from __future__ import annotations

import copy
import io
import json
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from tests.conftest import KB_VERSION, make_user
from tests.rules.test_diff import with_set_member_renamed
from treatments import roles, services
from treatments.models import Case, RuleSet
from treatments.rules.document import parse_text

from .conftest import ApiClient, client_for

pytestmark = pytest.mark.django_db

V2 = "/api/v2/rulesets"


def document(published: RuleSet, version: str, change: Any = None) -> dict[str, Any]:
    """The published knowledge base as an uploadable document (its normalised content is one:
    every rule under its modality, shared rules repeated)."""
    content = copy.deepcopy(published.content)
    if change is not None:
        change(content)
    modalities = []
    for modality in content["modalities"]:
        rules = [
            {
                "id": r["rule_id"],
                "kind": r["kind"],
                "title": r["title"],
                "when": r["condition"],
                "reason": r["reason"],
                "source": r["source"],
                "evidence": r["evidence"],
                "verification": r["verification"],
                "verification_note": r["verification_note"],
                "if_unknown": r["if_unknown"],
            }
            for r in content["rules"]
            if r["modality"] == modality["key"]
        ]
        modalities.append({**modality, "rules": rules})
    return {
        "version": version,
        "title": content["title"],
        "notes": content["notes"],
        "modalities": modalities,
        "tests": content.get("tests", []),
    }


def reword(content: dict[str, Any]) -> None:
    next(r for r in content["rules"] if r["rule_id"] == "prrt.uptake")["reason"] = "Reworded."


def raise_marrow(content: dict[str, Any]) -> None:
    rule = next(r for r in content["rules"] if r["rule_id"] == "prrt.marrow")
    rule["condition"] = {"fact": "platelets_10e9_l", "ge": 100}


def upload(client: ApiClient, published: RuleSet, version: str, change: Any = None) -> Any:
    return client.post_json(
        f"{V2}/drafts/", {"document": document(published, version, change), "change_note": "x"}
    )


def test_an_author_uploads_a_draft_as_json_or_yaml(published: RuleSet, author: User) -> None:
    client = client_for(author)

    created = upload(client, published, "1.2.2", reword)
    as_yaml = client.post_raw(
        f"{V2}/drafts/?change_note=typo",
        yaml.safe_dump(document(published, "1.2.3", reword)).encode(),
        content_type="application/yaml",
    )

    assert created.status_code == 201, created.json()
    assert created.json()["problems"] == []
    assert as_yaml.status_code == 201, as_yaml.json()
    drafts = RuleSet.objects.filter(status="draft")
    assert set(drafts.values_list("version", flat=True)) == {"1.2.2", "1.2.3"}
    assert drafts.get(version="1.2.2").checksum == created.json()["checksum"]


def test_a_bad_document_is_a_400_naming_modality_rule_and_field(published: RuleSet, author: User) -> None:
    def break_rule(content: dict[str, Any]) -> None:
        next(r for r in content["rules"] if r["rule_id"] == "prrt.uptake")["condition"] = {
            "fact": "krenning",
            "ge": 3,
        }

    response = upload(client_for(author), published, "1.2.2", break_rule)

    assert response.status_code == 400
    locs = [error["loc"] for error in response.json()["errors"]]
    assert any(loc[:3] == ["document", "prrt_lu177", "prrt.uptake"] for loc in locs), locs
    assert not RuleSet.objects.filter(version="1.2.2").exists()


def test_the_roles_that_may_not_review_or_publish_get_a_403_with_the_reason(
    published: RuleSet, author: User, reviewer: User
) -> None:
    upload(client_for(author), published, "1.2.2", reword)
    draft = RuleSet.objects.get(version="1.2.2")
    body = {"kind": "approve", "checksum": draft.checksum}

    by_author = client_for(author).post_json(f"{V2}/1.2.2/reviews/", body)
    by_reviewer = client_for(reviewer).post_json(f"{V2}/1.2.2/publish/", {"checksum": draft.checksum})
    both = make_user("both", roles.RULE_AUTHOR, roles.RULE_REVIEWER)
    services.ruleset_draft_set_content(draft=draft, content={**draft.content, "notes": "n"}, actor=both)
    draft.refresh_from_db()
    own = client_for(both).post_json(f"{V2}/1.2.2/reviews/", {"kind": "approve", "checksum": draft.checksum})

    assert by_author.status_code == 403 and "review ruleset" in by_author.json()["detail"]
    assert by_reviewer.status_code == 403 and "publish ruleset" in by_reviewer.json()["detail"]
    assert own.status_code == 403 and "You are an author of this draft" in own.json()["detail"]


def test_a_review_of_an_old_checksum_is_a_409(published: RuleSet, author: User, reviewer: User) -> None:
    upload(client_for(author), published, "1.2.2", reword)

    response = client_for(reviewer).post_json(
        f"{V2}/1.2.2/reviews/", {"kind": "approve", "checksum": "0" * 64}
    )

    assert response.status_code == 409 and "revised since you read it" in response.json()["detail"]


def test_publishing_without_approval_is_a_409_listing_every_gate(
    published: RuleSet, author: User, cso: User
) -> None:
    upload(client_for(author), published, "1.2.2", reword)
    checksum = RuleSet.objects.get(version="1.2.2").checksum

    response = client_for(cso).post_json(f"{V2}/1.2.2/publish/", {"checksum": checksum})

    assert response.status_code == 409
    gates = {gate["gate"]: gate for gate in response.json()["gates"]}
    assert list(gates) == ["status", "approval", "golden", "impact", "version", "verification"]
    assert not gates["approval"]["ok"] and "approval" in gates["approval"]["why"]
    assert response.json()["detail"].startswith("Not published:")


def test_the_whole_workflow_over_the_api_publishes_and_rolls_back(
    published: RuleSet, author: User, reviewer: User, cso: User
) -> None:
    upload(client_for(author), published, "1.2.2", reword)
    checksum = RuleSet.objects.get(version="1.2.2").checksum
    assert (
        client_for(reviewer)
        .post_json(f"{V2}/1.2.2/reviews/", {"kind": "approve", "checksum": checksum})
        .status_code
        == 201
    )
    run = client_for(author).post_json(f"{V2}/1.2.2/golden-runs/", {})
    impact = client_for(author).post_json(f"{V2}/1.2.2/impact/", {"scope": "active"})
    ack = client_for(cso).post_json(f"{V2}/1.2.2/impact/{impact.json()['id']}/acknowledge/", {})
    done = client_for(cso).post_json(
        f"{V2}/1.2.2/publish/", {"checksum": checksum, "impact_report": impact.json()["id"]}
    )

    assert run.status_code == 201 and run.json()["passed"] is True
    assert ack.status_code == 200 and ack.json()["acknowledged_by"] == "cso_chen"
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "published"

    rollback = client_for(cso).post_json(
        f"{V2}/rollback/", {"to_version": KB_VERSION, "reason": "wording unclear"}
    )
    assert rollback.status_code == 201, rollback.json()
    assert rollback.json()["version"] == "1.2.3" and rollback.json()["restores"] == KB_VERSION
    listed = client_for(reviewer).get_json(f"{V2}/")
    assert [item["version"] for item in listed.json()][:2] == ["1.2.3", "1.2.2"]


def test_the_diff_is_the_same_from_the_api_and_the_command_line(published: RuleSet, author: User) -> None:
    upload(client_for(author), published, "1.3.0", raise_marrow)

    answer = client_for(author).get_json(f"{V2}/{KB_VERSION}/diff/1.3.0/").json()
    out = io.StringIO()
    call_command("ruleset_diff", KB_VERSION, "1.3.0", "--json", stdout=out)

    assert answer == json.loads(out.getvalue())
    (change,) = answer["rules"]["changed"]
    assert change["class"] == "semantic" and change["rule_id"] == "prrt.marrow"
    assert (
        "75" in change["fields"]["condition"]["from_text"]
        and "100" in change["fields"]["condition"]["to_text"]
    )


def test_an_author_sees_pseudonyms_and_a_clinician_the_case_links(
    published: RuleSet, author: User, clinician: User, cso: User
) -> None:
    case = Case.objects.create(
        hospital_reference="RX-SECRET-42",
        nhs_number="9990000018",
        referring_clinician="Dr Example",
        question="Options?",
        profile={
            "primary_site": "small_intestine",
            "differentiation": "well",
            "disease_status": "progressive",
            "sstr_imaging": "positive",
            "krenning_score": 3,
            "platelets_10e9_l": 90,
        },
        created_by=clinician,
        updated_by=clinician,
    )
    upload(client_for(author), published, "2.0.0", raise_marrow)
    made = client_for(author).post_json(f"{V2}/2.0.0/impact/", {})

    as_author = client_for(author).get_json(f"{V2}/2.0.0/impact/latest/")
    as_clinician = client_for(clinician).get_json(f"{V2}/2.0.0/impact/latest/")

    assert made.status_code == 201
    text = as_author.content.decode()
    assert "RX-SECRET-42" not in text and "9990000018" not in text and "case_id" not in text
    (shown,) = as_author.json()["report"]["cases"]
    assert shown["case"].startswith("C-") and shown["changes"][0]["facts"]["platelets_10e9_l"] == 90
    (linked,) = as_clinician.json()["report"]["cases"]
    assert linked["case_id"] == case.pk and linked["link"] == f"/cases/{case.pk}/"


def test_governance_is_not_in_the_frozen_v1(published: RuleSet, author: User) -> None:
    assert client_for(author).get_json("/api/v1/rulesets/").status_code == 404
    assert client_for(author).get_json(f"{V2}/").status_code == 200


def test_a_scope_too_large_for_a_request_is_refused_naming_the_command(
    published: RuleSet, author: User, clinician: User, settings: Any
) -> None:
    settings.NETCARE_IMPACT_MAX_CASES = 1
    for n in range(2):
        Case.objects.create(
            hospital_reference=f"RX-{n}",
            referring_clinician="Dr",
            question="?",
            profile={},
            created_by=clinician,
            updated_by=clinician,
        )
    upload(client_for(author), published, "1.2.2", reword)

    response = client_for(author).post_json(f"{V2}/1.2.2/impact/", {"scope": "all"})

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"loc": ["scope"], "msg": "more than 1 cases in scope all: run `manage.py ruleset_impact 1.2.2`"}
    ]


def test_a_changed_set_member_is_named_with_its_rules_by_the_api_page_and_command_line(
    published: RuleSet, author: User
) -> None:
    services.ruleset_draft_create(
        knowledge_base=parse_text(with_set_member_renamed("1.3.0")), actor=author, change_note="Thymus."
    )

    answer = client_for(author).get_json(f"{V2}/{KB_VERSION}/diff/1.3.0/").json()
    out = io.StringIO()
    call_command("ruleset_diff", KB_VERSION, "1.3.0", stdout=out)
    page = Client()
    page.force_login(author)
    html = page.get("/rulesets/1.3.0/changes/").content.decode()

    (item,) = answer["sets"]["changed"]
    users = published.content["set_usage"]["NON_GEP_PATHWAY"]
    assert (
        item["set"] == "NON_GEP_PATHWAY" and [[r["modality"], r["rule_id"]] for r in item["rules"]] == users
    )
    assert "[set changed] NON_GEP_PATHWAY: +thymus -medullary_thyroid" in out.getvalue()
    assert "<strong>NON_GEP_PATHWAY</strong> changed" in html and "Used by 2 rules" in html
    for modality, rule_id in users:
        assert f"used by {modality} {rule_id}" in out.getvalue()
        assert f"<strong>{modality}</strong> <code>{rule_id}</code>" in html


def test_the_latest_golden_run_says_whether_it_ran_on_the_drafts_current_content(
    published: RuleSet, author: User
) -> None:
    client = client_for(author)
    upload(client, published, "1.2.2", reword)
    assert client.get_json(f"{V2}/1.2.2/golden-runs/latest/").status_code == 404  # none run yet
    client.post_json(f"{V2}/1.2.2/golden-runs/", {})

    fresh = client.get_json(f"{V2}/1.2.2/golden-runs/latest/").json()
    draft = RuleSet.objects.get(version="1.2.2")
    ran_on = draft.checksum
    content = copy.deepcopy(draft.content)
    raise_marrow(content)
    services.ruleset_draft_set_content(draft=draft, content=content, actor=author)
    stale = client.get_json(f"{V2}/1.2.2/golden-runs/latest/").json()

    assert RuleSet.objects.get(version="1.2.2").checksum != ran_on
    assert (fresh["checksum"], fresh["current"], fresh["passed"]) == (ran_on, True, True)
    assert (stale["checksum"], stale["current"]) == (ran_on, False)  # the run it shows predates the edit
