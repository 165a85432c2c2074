"""The rule author's admin (security review F11).

Before: /admin/treatments/rule/add/ offered the published rule set and its options, and saving a rule
into it was a 500 (ReadOnlyError); the author could add a draft rule set that then blocked
load_knowledge_base from publishing that version. Now the knowledge base changes only through
load_knowledge_base: nothing is added in the admin, a published set is never offered as a target,
and a refused write is a 403 or a form error by the field - never a 500. Tested with Django's test
client as the rule_author role.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from treatments.models import Modality, Rule, RuleSet

pytestmark = pytest.mark.django_db


@pytest.fixture
def author(rule_author: User, published: RuleSet) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(rule_author)
    return client


def _rule_form(rule: Rule, **changes: Any) -> dict[str, Any]:
    data = {
        "rule_set": rule.rule_set_id,
        "modality": rule.modality_id,
        "rule_id": "new.rule",
        "kind": "caution",
        "title": "A new rule",
        "condition": '{"fact": "ecog", "op": "ge", "value": 3}',
        "reason": "Frail patients",
        "source": "House rule",
        "evidence": "expert opinion",
        "verification": "judgement",
        "verification_note": "",
        "if_unknown": "hold",
        "position": 99,
    }
    return {**data, **changes}


@pytest.mark.parametrize("model", ["ruleset", "modality", "rule"])
def test_nothing_is_added_to_the_knowledge_base_in_the_admin(author: Client, model: str) -> None:
    assert author.get(f"/admin/treatments/{model}/add/").status_code == 403
    assert author.post(f"/admin/treatments/{model}/add/", {}).status_code == 403
    listing = author.get(f"/admin/treatments/{model}/").content.decode()
    assert f"/admin/treatments/{model}/add/" not in listing


def test_posting_a_rule_into_the_published_set_is_a_403_not_a_500(author: Client, published: RuleSet) -> None:
    rule = published.rules.first()
    assert rule is not None
    rules = Rule.objects.count()

    response = author.post("/admin/treatments/rule/add/", _rule_form(rule))

    assert response.status_code == 403
    assert Rule.objects.count() == rules


def test_a_draft_rule_cannot_be_moved_into_the_published_set(author: Client, published: RuleSet) -> None:
    """A draft left from an earlier admin: its rules are editable, but never into a published set."""
    draft = RuleSet.objects.create(version="0.0-draft", checksum="x" * 64)
    option = Modality.objects.create(
        rule_set=draft,
        key="ssta",
        name="SSA",
        category="somatostatin_analogue",
        description="d",
        agents="a",
        display_order=1,
    )
    published_rule = published.rules.first()
    assert published_rule is not None
    rule = Rule.objects.create(
        rule_set=draft,
        modality=option,
        rule_id="draft.rule",
        kind="caution",
        title="Draft",
        condition={"fact": "ecog", "op": "ge", "value": 3},
        reason="r",
        source="s",
        evidence="e",
        verification="judgement",
        position=1,
    )
    page = author.get(f"/admin/treatments/rule/{rule.pk}/change/").content.decode()
    assert f'<option value="{published.pk}"' not in page, "the published set is not offered"

    moved = author.post(
        f"/admin/treatments/rule/{rule.pk}/change/",
        _rule_form(rule, rule_set=published.pk, modality=published_rule.modality_id),
    )

    assert moved.status_code == 200  # the form again, with the errors by the fields
    errors = moved.context["adminform"].form.errors
    assert set(errors) == {"rule_set", "modality"}
    rule.refresh_from_db()
    assert rule.rule_set_id == draft.pk


def test_a_leftover_draft_can_be_deleted_so_that_its_version_can_be_published(author: Client) -> None:
    draft = RuleSet.objects.create(version="9.9.9", checksum="x" * 64)

    deleted = author.post(f"/admin/treatments/ruleset/{draft.pk}/delete/", {"post": "yes"})

    assert deleted.status_code == 302
    assert not RuleSet.objects.filter(version="9.9.9").exists()


def test_the_published_set_still_refuses_change_and_delete(author: Client, published: RuleSet) -> None:
    assert author.post(f"/admin/treatments/ruleset/{published.pk}/change/", {"title": "x"}).status_code == 403
    assert (
        author.post(f"/admin/treatments/ruleset/{published.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    published.refresh_from_db()
    assert published.status == RuleSet.Status.PUBLISHED and published.title != "x"
