"""Editing a draft rule set in the app (services/rule_editing.py): an edit is validated by the loader,
stored with its rows and a new checksum in one transaction, audited, and refused on a published or
retired rule set."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from treatments.models import AuditEvent, Rule, RuleSet
from treatments.rules.authoring import content_to_yaml
from treatments.rules.document import parse_text
from treatments.services import (
    NotADraft,
    RuleEditInvalid,
    ruleset_modality_edit,
    ruleset_rule_add,
    ruleset_rule_edit,
)

MARROW = {"modality": "prrt_lu177", "rule_id": "prrt.marrow"}


def test_editing_a_threshold_changes_the_drafts_content_rows_and_checksum(
    draft: RuleSet, rule_author: User
) -> None:
    before = draft.checksum
    edited = ruleset_rule_edit(
        rule_set=draft,
        **MARROW,
        fields={"condition": {"fact": "platelets_10e9_l", "ge": 100}},
        actor=rule_author,
    )
    assert edited.checksum != before
    row = Rule.objects.get(rule_set=draft, modality__key="prrt_lu177", rule_id="prrt.marrow")
    assert row.condition == {"fact": "platelets_10e9_l", "ge": 100}
    assert Rule.objects.filter(rule_set=draft).count() == len(edited.content["rules"])
    assert parse_text(content_to_yaml(edited.content)).checksum == edited.checksum
    event = AuditEvent.objects.filter(action="ruleset.draft").latest("pk")
    assert event.actor == rule_author and event.payload["edit"] == "rule"
    assert event.payload["rule_id"] == "prrt.marrow" and event.payload["fields"] == ["condition"]
    assert event.payload["checksum_before"] == before and event.payload["checksum"] == edited.checksum


def test_a_refused_edit_changes_nothing_and_names_the_field(draft: RuleSet, rule_author: User) -> None:
    before = (draft.checksum, Rule.objects.filter(rule_set=draft).count())
    with pytest.raises(RuleEditInvalid) as refused:
        ruleset_rule_edit(
            rule_set=draft,
            **MARROW,
            fields={"condition": {"fact": "platelets", "ge": 1}, "title": ""},
            actor=rule_author,
        )
    # the loader's first phase (the schema) stops before conditions are read, as for a file
    assert set(refused.value.errors) == {"title"}
    assert refused.value.status == 400 and refused.value.loc
    draft.refresh_from_db()
    assert (draft.checksum, Rule.objects.filter(rule_set=draft).count()) == before
    assert not AuditEvent.objects.filter(payload__edit="rule").exists()


def test_an_edit_that_changes_nothing_is_not_audited(draft: RuleSet, rule_author: User) -> None:
    reason = next(r for r in draft.content["rules"] if r["rule_id"] == "prrt.marrow")["reason"]
    ruleset_rule_edit(rule_set=draft, **MARROW, fields={"reason": reason}, actor=rule_author)
    assert not AuditEvent.objects.filter(payload__edit="rule").exists()


@pytest.mark.parametrize("status", ["published", "retired"])
def test_a_published_or_retired_rule_set_refuses_edits(
    published: RuleSet, rule_author: User, status: str
) -> None:
    rule_set = published
    if status == "retired":
        rule_set = RuleSet.objects.get(pk=published.pk)
        rule_set.status = RuleSet.Status.RETIRED
        rule_set.save()
    with pytest.raises(NotADraft, match=f"{rule_set.version} \\({status}\\) is not a draft"):
        ruleset_rule_edit(rule_set=rule_set, **MARROW, fields={"reason": "x"}, actor=rule_author)
    with pytest.raises(NotADraft):
        ruleset_modality_edit(rule_set=rule_set, key="prrt_lu177", fields={"agents": "x"}, actor=rule_author)


def test_a_rule_and_a_modality_edit_are_stored_as_rows(draft: RuleSet, rule_author: User) -> None:
    fields: dict[str, Any] = {
        "kind": "caution",
        "title": "High bilirubin",
        "condition": {"fact": "bilirubin_umol_l", "gt": 50},
        "reason": "High bilirubin predicts toxicity.",
        "source": "Unit judgement",
        "evidence": "expert opinion",
        "verification": "judgement",
    }
    ruleset_rule_add(
        rule_set=draft, modality="prrt_lu177", rule_id="prrt.bilirubin_high", fields=fields, actor=rule_author
    )
    ruleset_modality_edit(rule_set=draft, key="prrt_lu177", fields={"agents": "Lutathera"}, actor=rule_author)
    rows = list(Rule.objects.filter(rule_set=draft, modality__key="prrt_lu177").order_by("position"))
    assert rows[-1].rule_id == "prrt.bilirubin_high" and rows[-1].kind == "caution"
    assert rows[-1].modality.agents == "Lutathera"
    edits = [e.payload.get("edit") for e in AuditEvent.objects.filter(action="ruleset.draft").order_by("pk")]
    assert edits[-2:] == ["rule_add", "modality"]
    assert draft.authors.filter(pk=rule_author.pk).exists()
