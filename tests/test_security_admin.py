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

from treatments import services
from treatments.models import Rule, RuleSet

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


def test_a_draft_is_read_only_in_the_admin_too(author: Client, published: RuleSet) -> None:
    """A draft changes through the governance services (checksum, authors, audit), never here: no
    write can reach a database constraint as a raw error (if_unknown: note on an indication was one)."""
    draft = services.ruleset_draft_clone(actor=None, version="9.9.9")
    rule = draft.rules.filter(kind="indication").first()
    assert rule is not None

    page = author.get(f"/admin/treatments/rule/{rule.pk}/change/")
    posted = author.post(f"/admin/treatments/rule/{rule.pk}/change/", _rule_form(rule, if_unknown="note"))
    deleted = author.post(f"/admin/treatments/ruleset/{draft.pk}/delete/", {"post": "yes"})

    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert posted.status_code == 403 and deleted.status_code == 403
    rule.refresh_from_db()
    assert rule.if_unknown == "hold"


def test_a_withdrawn_draft_frees_its_version_label(author: Client, rule_author: User) -> None:
    draft = services.ruleset_draft_clone(actor=rule_author, version="9.9.9")
    with pytest.raises(services.VersionTaken, match="already a draft"):
        services.ruleset_draft_clone(actor=None, version="9.9.9")

    services.ruleset_withdraw(draft=draft, actor=rule_author)

    assert services.ruleset_draft_clone(actor=None, version="9.9.9").status == RuleSet.Status.DRAFT


def test_the_published_set_still_refuses_change_and_delete(author: Client, published: RuleSet) -> None:
    assert author.post(f"/admin/treatments/ruleset/{published.pk}/change/", {"title": "x"}).status_code == 403
    assert (
        author.post(f"/admin/treatments/ruleset/{published.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    published.refresh_from_db()
    assert published.status == RuleSet.Status.PUBLISHED and published.title != "x"
