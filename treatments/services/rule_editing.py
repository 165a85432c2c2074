"""Editing a draft rule set in the app: one rule or one modality at a time.

The loader decides what is valid (rules/authoring.py runs every edit through it); these services
lock the draft, refuse a published or retired rule set, store the new content and its rows in one
transaction, and audit the edit. An edit changes the draft's checksum, and with it everything that
was bound to the old one (approvals, golden runs, impact reports: governance spec C.2).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from ..models import RuleSet
from ..rules import authoring
from ..rules.authoring import EditResult
from .audit import Actor, audit_record
from .errors import InvalidChange, WorkflowError
from .knowledge import ruleset_store_content


class RuleSetNotEditable(WorkflowError):
    code = "ruleset_not_editable"
    title = "This rule set cannot be edited"

    def __init__(self, rule_set: RuleSet):
        super().__init__(
            f"rule set {rule_set.version} is {rule_set.get_status_display().lower()} and read-only: "
            "clone it as a new draft to change it"
        )


class RuleEditInvalid(InvalidChange):
    """The loader refused the edit; `errors` holds its messages by the editor's field names."""

    code = "invalid_rule_edit"
    title = "The edit was not saved"

    def __init__(self, errors: dict[str, list[str]]):
        first = next(iter(errors))
        super().__init__("; ".join(errors[first]), None if first == authoring.GENERAL else [first])
        self.errors = errors


Edit = Callable[[Mapping[str, Any]], EditResult]


def ruleset_rule_edit(
    *, rule_set: RuleSet, modality: str, rule_id: str, fields: Mapping[str, Any], actor: Actor
) -> RuleSet:
    """Change fields of one rule of a draft (`condition` as data, e.g. {"fact": ..., "ge": 75})."""
    return _apply(
        rule_set,
        lambda content: authoring.edit_rule(content, modality=modality, rule_id=rule_id, fields=fields),
        actor=actor,
        action="ruleset.rule_edit",
        what={"modality": modality, "rule_id": rule_id},
    )


def ruleset_rule_add(
    *, rule_set: RuleSet, modality: str, rule_id: str, fields: Mapping[str, Any], actor: Actor
) -> RuleSet:
    """Add a rule at the end of a draft's modality."""
    return _apply(
        rule_set,
        lambda content: authoring.add_rule(content, modality=modality, rule_id=rule_id, fields=fields),
        actor=actor,
        action="ruleset.rule_add",
        what={"modality": modality, "rule_id": rule_id},
    )


def ruleset_modality_edit(*, rule_set: RuleSet, key: str, fields: Mapping[str, Any], actor: Actor) -> RuleSet:
    """Change the descriptive fields of one modality of a draft."""
    return _apply(
        rule_set,
        lambda content: authoring.edit_modality(content, key=key, fields=fields),
        actor=actor,
        action="ruleset.modality_edit",
        what={"modality": key},
    )


def ruleset_modality_add(
    *, rule_set: RuleSet, key: str, fields: Mapping[str, Any], indication: Mapping[str, Any], actor: Actor
) -> RuleSet:
    """Add a modality to a draft, with its first indication rule."""
    return _apply(
        rule_set,
        lambda content: authoring.add_modality(content, key=key, fields=fields, indication=indication),
        actor=actor,
        action="ruleset.modality_add",
        what={"modality": key, "indication": str(indication.get("rule_id", ""))},
    )


@transaction.atomic
def _apply(rule_set: RuleSet, edit: Edit, *, actor: Actor, action: str, what: dict[str, Any]) -> RuleSet:
    # Lock the draft: two authors saving at once would otherwise each edit the content they read,
    # and the second would silently undo the first.
    locked = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
    if locked.is_frozen:
        raise RuleSetNotEditable(locked)
    result = edit(locked.content)
    if result.knowledge_base is None:
        raise RuleEditInvalid(result.errors)
    knowledge_base = result.knowledge_base
    before, before_content = locked.checksum, locked.content
    if knowledge_base.checksum == before:
        return locked
    locked.content = knowledge_base.content
    locked.checksum = knowledge_base.checksum
    locked.save()
    locked.modalities.all().delete()  # the rules go with their modality (CASCADE)
    ruleset_store_content(locked, knowledge_base)
    _note_author(locked, actor)
    audit_record(
        actor=actor,
        action=action,
        obj=locked,
        payload={
            "version": locked.version,
            **what,
            "fields": _changed_fields(
                before_content, locked.content, what["modality"], what.get("rule_id", "")
            ),
            "checksum_before": before,
            "checksum": locked.checksum,
        },
    )
    return locked


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


def _note_author(rule_set: RuleSet, actor: Actor) -> None:
    """Whoever edits a draft is one of its authors, so cannot approve or publish it (spec C.2)."""
    authors = getattr(rule_set, "authors", None)
    if authors is not None and isinstance(actor, User):
        authors.add(actor)
