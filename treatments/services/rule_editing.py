"""Editing a draft rule set in the app: one rule or one modality at a time.

The loader decides what is valid (rules/authoring.py runs every edit through it); these services
lock the draft, refuse a published or retired rule set (NotADraft), and store the new content
through `ruleset_draft_set_content` (rows, authors, one audit event naming what changed). An edit
changes the draft's checksum, and with it everything bound to the old one: approvals, golden runs
and impact reports (docs/rule-governance.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db import transaction

from ..models import RuleSet
from ..rules import authoring
from ..rules.authoring import EditResult
from .audit import Actor
from .errors import InvalidChange, NotADraft, WorkflowError
from .governance import ruleset_draft_set_content


class RuleEditInvalid(InvalidChange):
    """The loader refused the edit; `errors` holds its messages by the editor's field names."""

    code = "invalid_rule_edit"
    title = "The edit was not saved"

    def __init__(self, errors: dict[str, list[str]]):
        first = next(iter(errors))
        super().__init__("; ".join(errors[first]), None if first == authoring.GENERAL else [first])
        self.errors = errors


class RuleChanged(WorkflowError):
    """The rule was saved by someone else since the editor showed it: nothing is overwritten."""

    code = "rule_changed"
    title = "Someone else changed this rule"

    def __init__(self, rule_id: str, current: str):
        super().__init__(
            f"rule {rule_id} was changed by someone else since you opened it: your changes were not "
            "saved. Check the rule below, then save again to replace theirs",
            ["based_on"],
        )
        self.current = current


Edit = Callable[[Mapping[str, Any]], EditResult]


def ruleset_rule_edit(
    *,
    rule_set: RuleSet,
    modality: str,
    rule_id: str,
    fields: Mapping[str, Any],
    actor: Actor,
    based_on: str = "",
) -> RuleSet:
    """Change fields of one rule of a draft (`condition` as data, e.g. {"fact": ..., "ge": 75}).

    `based_on`: the rule's fingerprint as the editor showed it (authoring.rule_fingerprint); when
    the rule has changed since, RuleChanged (409) and nothing is saved. Empty: no check.
    """

    def edit(content: Mapping[str, Any]) -> EditResult:
        current = authoring.rule_fingerprint(content, modality=modality, rule_id=rule_id)
        if based_on and current and based_on != current:
            raise RuleChanged(rule_id, current)
        return authoring.edit_rule(content, modality=modality, rule_id=rule_id, fields=fields)

    return _apply(
        rule_set,
        edit,
        actor=actor,
        what={"edit": "rule", "modality": modality, "rule_id": rule_id},
    )


def ruleset_rule_add(
    *, rule_set: RuleSet, modality: str, rule_id: str, fields: Mapping[str, Any], actor: Actor
) -> RuleSet:
    """Add a rule at the end of a draft's modality."""
    return _apply(
        rule_set,
        lambda content: authoring.add_rule(content, modality=modality, rule_id=rule_id, fields=fields),
        actor=actor,
        what={"edit": "rule_add", "modality": modality, "rule_id": rule_id},
    )


def ruleset_modality_edit(*, rule_set: RuleSet, key: str, fields: Mapping[str, Any], actor: Actor) -> RuleSet:
    """Change the descriptive fields of one modality of a draft."""
    return _apply(
        rule_set,
        lambda content: authoring.edit_modality(content, key=key, fields=fields),
        actor=actor,
        what={"edit": "modality", "modality": key},
    )


def ruleset_modality_add(
    *, rule_set: RuleSet, key: str, fields: Mapping[str, Any], indication: Mapping[str, Any], actor: Actor
) -> RuleSet:
    """Add a modality to a draft, with its first indication rule."""
    return _apply(
        rule_set,
        lambda content: authoring.add_modality(content, key=key, fields=fields, indication=indication),
        actor=actor,
        what={"edit": "modality_add", "modality": key, "indication": str(indication.get("rule_id", ""))},
    )


@transaction.atomic
def _apply(rule_set: RuleSet, edit: Edit, *, actor: Actor, what: dict[str, Any]) -> RuleSet:
    # Lock the draft: two authors saving at once would otherwise each edit the content they read,
    # and the second would silently undo the first.
    locked = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
    if locked.status != RuleSet.Status.DRAFT:
        raise NotADraft(locked)
    result = edit(locked.content)
    if result.knowledge_base is None:
        raise RuleEditInvalid(result.errors)
    content = result.knowledge_base.content
    if result.knowledge_base.checksum == locked.checksum:
        return locked  # nothing changed: no revision, nothing voided
    fields = _changed_fields(locked.content, content, what["modality"], str(what.get("rule_id", "")))
    return ruleset_draft_set_content(
        draft=locked,
        content=content,
        actor=actor,
        detail={**what, "fields": fields, "checksum_before": locked.checksum},
    )


def _changed_fields(
    before: Mapping[str, Any], after: Mapping[str, Any], modality: str, rule_id: str
) -> list[str]:
    """The names of the fields the edit changed, for the audit trail (all of them for a new item)."""

    def item(content: Mapping[str, Any]) -> Mapping[str, Any]:
        if rule_id:
            rules = content["rules"]
            return next((r for r in rules if r["modality"] == modality and r["rule_id"] == rule_id), {})
        return next((m for m in content["modalities"] if m["key"] == modality), {})

    old, new = item(before), item(after)
    return sorted(name for name in new if old.get(name) != new[name])
