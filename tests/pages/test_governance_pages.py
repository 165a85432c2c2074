"""The rule-governance pages: the rule sets, a draft's tabs, the workflow steps by role."""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from tests.conftest import KB_VERSION, KNOWLEDGE_BASE, make_user
from treatments import roles, services
from treatments.models import AuditEvent, Case, RuleSet
from treatments.rules.document import load_file

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.fixture
def draft(author: User) -> RuleSet:
    draft = services.ruleset_draft_clone(actor=author, version="2.0.0", change_note="Platelets for PRRT.")
    content = copy.deepcopy(draft.content)
    rule = next(r for r in content["rules"] if r["rule_id"] == "prrt.marrow")
    rule["condition"] = {"fact": "platelets_10e9_l", "ge": 100}
    return services.ruleset_draft_set_content(draft=draft, content=content, actor=author)


def test_the_rule_sets_list_and_every_tab_answer(draft: RuleSet, author: User) -> None:
    client = signed_in(author)

    listing = client.get("/rulesets/").content.decode()
    tabs = {
        tab: client.get(f"/rulesets/2.0.0/{tab}/")
        for tab in ("changes", "golden", "impact", "reviews", "publish")
    }

    assert "2.0.0" in listing and KB_VERSION in listing and "Make draft" in listing
    assert all(response.status_code == 200 for response in tabs.values())
    assert client.get("/rulesets/2.0.0/nonsense/").status_code == 404


def test_page_api_and_command_line_show_the_same_diff(draft: RuleSet, author: User) -> None:
    page = signed_in(author).get("/rulesets/2.0.0/changes/").content.decode()
    out = io.StringIO()
    call_command("ruleset_diff", KB_VERSION, "2.0.0", "--json", stdout=out)
    data = json.loads(out.getvalue())

    (change,) = data["rules"]["changed"]
    assert change["rule_id"] in page
    assert change["fields"]["condition"]["from_text"].replace("×", "&times;") in page or (
        change["fields"]["condition"]["from_text"] in page
    )
    assert change["fields"]["condition"]["to_text"] in page
    assert f"<strong>{data['required_bump']}</strong>" in page


def test_the_publish_tab_lists_the_gates_and_disables_the_button_until_all_pass(
    draft: RuleSet, published: RuleSet
) -> None:
    cso = make_user("cso_chen", roles.CLINICAL_SAFETY_OFFICER)
    page = signed_in(cso).get("/rulesets/2.0.0/publish/").content.decode()

    assert "<strong>Approval</strong>: fails" in page and "<strong>Status</strong>: passes" in page
    assert re.search(r"<button[^>]*disabled[^>]*>Publish 2.0.0", page)
    refused = signed_in(cso).post("/rulesets/2.0.0/do/publish/", {"checksum": draft.checksum})
    assert refused.status_code == 409 and RuleSet.objects.get(pk=draft.pk).status == "draft"


def test_the_workflow_through_the_pages(draft: RuleSet, author: User, clinician: User) -> None:
    reviewer = make_user("reviewer_rui", roles.RULE_REVIEWER)
    cso = make_user("cso_chen", roles.CLINICAL_SAFETY_OFFICER)
    case = Case.objects.create(
        hospital_reference="RX-SECRET-7",
        referring_clinician="Dr X",
        question="?",
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

    assert signed_in(author).post("/rulesets/2.0.0/do/golden-run/").status_code == 302
    assert signed_in(author).post("/rulesets/2.0.0/do/impact/", {"scope": "active"}).status_code == 302
    own = signed_in(author).post(
        "/rulesets/2.0.0/do/review/", {"kind": "approve", "checksum": draft.checksum}
    )
    assert own.status_code == 403
    assert (
        signed_in(reviewer)
        .post("/rulesets/2.0.0/do/review/", {"kind": "approve", "checksum": draft.checksum})
        .status_code
        == 302
    )
    report = draft.impact_reports.get()
    assert signed_in(cso).post("/rulesets/2.0.0/do/acknowledge/", {"report": report.pk}).status_code == 302
    impact_for_author = signed_in(author).get("/rulesets/2.0.0/impact/").content.decode()
    assert "RX-SECRET-7" not in impact_for_author and "C-" in impact_for_author

    published = signed_in(cso).post("/rulesets/2.0.0/do/publish/", {"checksum": draft.checksum})

    assert published.status_code == 302, published.content.decode()[:2000]
    assert RuleSet.objects.get(pk=draft.pk).status == "published"
    worklist = signed_in(clinician).get("/rulesets/2.0.0/impact/").content.decode()
    assert "Worklist: cases to re-evaluate" in worklist and f'href="/cases/{case.pk}/"' in worklist
    assert f'action="/cases/{case.pk}/evaluate/"' in worklist  # "re-evaluate now"
    page = signed_in(cso).get("/rulesets/2.0.0/impact/").content.decode()
    assert "Worklist: cases to re-evaluate" in page and f"/cases/{case.pk}/" not in page
    evaluated = signed_in(clinician).post(f"/cases/{case.pk}/evaluate/", {"next": "/rulesets/2.0.0/impact/"})
    assert evaluated.status_code == 302 and case.evaluations.get().rule_set_id == draft.pk


def test_an_upload_with_a_mistake_is_a_400_naming_it(author: User) -> None:
    bad = io.BytesIO(b"version: 9.9.9\ntitle: x\nmodalities: []\nsurprise: 1\n")
    bad.name = "kb.yaml"

    response = signed_in(author).post("/rulesets/new/", {"document": bad, "change_note": ""})

    assert response.status_code == 400
    assert "surprise" in response.content.decode() and not RuleSet.objects.filter(version="9.9.9").exists()


def test_roles_without_governance_do_not_see_the_pages(published: RuleSet, coordinator: User) -> None:
    assert signed_in(coordinator).get("/rulesets/").status_code == 403


def test_a_patient_check_becomes_a_golden_case_of_a_draft_in_two_clicks(draft: RuleSet, author: User) -> None:
    client = signed_in(author)
    result = client.post("/check/", {"primary_site": "pancreas", "disease_status": "progressive"})
    profile = re.search(r'name="profile" value="([^"]+)"', result.content.decode())
    assert result.status_code == 200 and profile is not None
    encoded = profile[1].replace("&quot;", '"')

    confirm = client.post("/rulesets/golden-case/", {"profile": encoded})
    page = confirm.content.decode()
    expected = dict(re.findall(r'<select id="expect_(\w+)"[^>]*>.*?<option value="(\w+)" selected>', page))
    added = client.post(
        "/rulesets/golden-case/",
        {
            "profile": encoded,
            "confirm": "1",
            "draft": "2.0.0",
            "case_id": "87_pancreas_progressive",
            "title": "Progressive pNET, little else known",
            **{f"expect_{key}": status for key, status in expected.items()},
        },
    )

    assert confirm.status_code == 200 and len(expected) == 20
    assert added.status_code == 302
    case = next(c for c in RuleSet.objects.get(pk=draft.pk).tests if c["id"] == "87_pancreas_progressive")
    assert case["expect"] == expected and case["profile"]["primary_site"] == "pancreas"
    duplicate = client.post(
        "/rulesets/golden-case/",
        {
            "profile": encoded,
            "confirm": "1",
            "draft": "2.0.0",
            "case_id": "87_pancreas_progressive",
            "title": "x",
        },
    )
    assert duplicate.status_code == 400 and "already has a golden case" in duplicate.content.decode()


KB_1_1_1 = Path(__file__).parents[1] / "data" / "knowledge_base_1.1.1.yaml"


def test_the_cso_rolls_back_from_the_page_of_an_earlier_version(
    no_knowledge_base: None, author: User, reviewer: User
) -> None:
    old = services.ruleset_publish(knowledge_base=load_file(KB_1_1_1))
    faulty = services.ruleset_publish(knowledge_base=load_file(KNOWLEDGE_BASE))
    assert old is not None and faulty is not None
    cso = make_user("cso_chen", roles.CLINICAL_SAFETY_OFFICER)
    page = signed_in(cso).get("/rulesets/1.1.1/publish/").content.decode()
    action = "/rulesets/1.1.1/do/rollback/"

    assert f'action="{action}"' in page and "Roll back to 1.1.1" in page
    # the other roles see no rollback form, and a post by them is refused
    for other in (author, reviewer):
        assert action not in signed_in(other).get("/rulesets/1.1.1/publish/").content.decode()
        refused = signed_in(other).post(action, {"reason": "x", "confirm": "1"})
        assert refused.status_code == 403
    assert action not in signed_in(cso).get(f"/rulesets/{faulty.version}/publish/").content.decode()

    # no confirmation and no reason: said by each field, nothing made
    unconfirmed = signed_in(cso).post(action, {"reason": ""})
    body = unconfirmed.content.decode()
    assert unconfirmed.status_code == 400 and RuleSet.objects.count() == 2
    assert "Tick the box to confirm the rollback." in body and "Say why" in body

    done = signed_in(cso).post(action, {"reason": "a faulty threshold", "confirm": "1"})

    draft = RuleSet.objects.get(version="1.2.2")
    assert done.status_code == 302 and done["Location"] == "/rulesets/1.2.2/publish/"
    assert draft.status == RuleSet.Status.DRAFT and draft.restores == old
    assert "Rollback of 1.2.1 to the content of 1.1.1: a faulty threshold" in draft.change_note
    assert draft.golden_runs.count() == 1 and draft.impact_reports.get().acknowledged_by == cso
    event = AuditEvent.objects.get(action="ruleset.draft", object_id=str(draft.pk))
    assert event.actor == cso
    gates = signed_in(cso).get("/rulesets/1.2.2/publish/").content.decode()
    assert "<strong>Approval</strong>: fails" in gates and "<strong>Golden</strong>: passes" in gates
