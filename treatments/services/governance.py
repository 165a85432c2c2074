"""Rule governance: drafts of the knowledge base, their review by a second person, their golden runs
and impact reports, and publication through six gates (docs/rule-governance.md).

A draft comes from the YAML file (`load_knowledge_base`), from an upload (API), or from a clone of the
version in force. Each revision replaces its content and so its checksum, which voids the reviews,
golden runs and impact reports made for the old checksum (they stay, bound to it). Nobody approves
or publishes a draft they authored.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from ..models import RuleSet
from ..rules.content import checksum_of
from ..rules.document import KnowledgeBase
from .audit import Actor, audit_record, display_name
from .errors import NotADraft, NotAllowed, VersionTaken
from .knowledge import store_content

SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")


def _user(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) else None


def _taken(version: str) -> VersionTaken | None:
    existing = RuleSet.objects.filter(version=version).select_related("created_by").first()
    if existing is None:
        return None
    if existing.status == RuleSet.Status.DRAFT:
        who = f" by {display_name(existing.created_by)}" if existing.created_by else ""
        return VersionTaken(
            f"version {version} is already a draft{who}: revise that draft, have it withdrawn, "
            "or give this one another version"
        )
    return VersionTaken(f"version {version} is already {existing.status}: choose a higher version")


@transaction.atomic
def ruleset_draft_create(*, knowledge_base: KnowledgeBase, actor: Actor, change_note: str = "") -> RuleSet:
    """A new draft from a validated knowledge base (the YAML file or an upload)."""
    return _new_draft(
        version=knowledge_base.version,
        title=knowledge_base.title,
        notes=knowledge_base.notes,
        content=knowledge_base.content,
        actor=actor,
        change_note=change_note,
        source="upload",
    )


@transaction.atomic
def ruleset_draft_clone(*, actor: Actor, version: str = "", change_note: str = "") -> RuleSet:
    """A new draft with the content of the version in force, to be edited in the app.

    Its version label is `version`, or the next patch of the one in force.
    """
    current = RuleSet.objects.published().first()
    if current is None:
        raise VersionTaken("no rule set is published yet: load the knowledge base first")
    version = version or next_patch(current.version)
    content = {**current.content, "version": version}
    return _new_draft(
        version=version,
        title=current.title,
        notes=current.notes,
        content=content,
        actor=actor,
        change_note=change_note,
        source=f"clone of {current.version}",
    )


def _new_draft(
    *,
    version: str,
    title: str,
    notes: str,
    content: dict[str, Any],
    actor: Actor,
    change_note: str,
    source: str,
    authored: bool = True,
    restores: RuleSet | None = None,
) -> RuleSet:
    taken = _taken(version)
    if taken is not None:
        raise taken
    based_on = RuleSet.objects.published().first()
    try:
        with transaction.atomic():
            draft = RuleSet.objects.create(
                version=version,
                title=title,
                notes=notes,
                checksum=checksum_of(content),
                content=content,
                created_by=_user(actor),
                based_on=based_on,
                change_note=change_note,
                restores=restores,
            )
    except IntegrityError:  # another request took the label between the check and the insert
        raise VersionTaken(f"version {version} was taken at the same time: choose another") from None
    store_content(draft, content)
    user = _user(actor)
    if user is not None and authored:
        draft.authors.add(user)
    draft.required_bump = _required_bump(draft)
    draft.save(update_fields=["required_bump"])
    audit_record(
        actor=actor,
        action="ruleset.draft",
        obj=draft,
        payload={"version": version, "checksum": draft.checksum, "source": source, "revision": 1},
    )
    return draft


def _locked_draft(draft: RuleSet) -> RuleSet:
    locked = RuleSet.objects.select_for_update().get(pk=draft.pk)
    if locked.status != RuleSet.Status.DRAFT:
        raise NotADraft(locked)
    return locked


@transaction.atomic
def ruleset_draft_revise(
    *, draft: RuleSet, knowledge_base: KnowledgeBase, actor: Actor, change_note: str | None = None
) -> RuleSet:
    """Replace a draft's content (and its change note, if given). A new checksum voids the reviews,
    golden runs and impact reports made for the old one; the reviser becomes one of its authors."""
    draft = _locked_draft(draft)
    if knowledge_base.version != draft.version:
        raise VersionTaken(
            f"the document's version is {knowledge_base.version}, the draft's {draft.version}: "
            "a revision keeps the draft's version (make a new draft for another)"
        )
    changed = knowledge_base.checksum != draft.checksum
    if changed:
        draft.modalities.all().delete()  # the rules go with their modality
        draft.content = knowledge_base.content
        draft.checksum = knowledge_base.checksum
        draft.title, draft.notes = knowledge_base.title, knowledge_base.notes
        store_content(draft, knowledge_base.content)
    if change_note is not None:
        draft.change_note = change_note
    draft.required_bump = _required_bump(draft)
    draft.save()
    user = _user(actor)
    if user is not None:
        draft.authors.add(user)
    audit_record(
        actor=actor,
        action="ruleset.draft",
        obj=draft,
        payload={
            "version": draft.version,
            "checksum": draft.checksum,
            "revision": "revise",
            "changed": changed,
        },
    )
    return draft


@transaction.atomic
def ruleset_draft_set_content(
    *, draft: RuleSet, content: dict[str, Any], actor: Actor, detail: dict[str, Any] | None = None
) -> RuleSet:
    """Replace a draft's content with content the caller built (the in-app editor, a new golden case).

    The content must already be valid (the loader's normal form); the version stays the draft's.
    `detail` goes into the audit event (e.g. which rule the editor changed, and which fields).
    """
    draft = _locked_draft(draft)
    content = {**content, "version": draft.version}
    checksum = checksum_of(content)
    if checksum != draft.checksum:
        draft.modalities.all().delete()
        draft.content, draft.checksum = content, checksum
        store_content(draft, content)
    draft.required_bump = _required_bump(draft)
    draft.save()
    user = _user(actor)
    if user is not None:
        draft.authors.add(user)
    audit_record(
        actor=actor,
        action="ruleset.draft",
        obj=draft,
        payload={"version": draft.version, "checksum": draft.checksum, "revision": "edit", **(detail or {})},
    )
    return draft


@transaction.atomic
def ruleset_withdraw(*, draft: RuleSet, actor: Actor) -> None:
    """Delete a never-published draft (with its reviews, golden runs and impact reports): its
    version label is free again. Only its authors and clinical safety officers withdraw a draft."""
    draft = _locked_draft(draft)
    user = _user(actor)
    if user is not None and not _may_withdraw(user, draft):
        raise NotAllowed("only an author of this draft or a clinical safety officer may withdraw it")
    audit_record(
        actor=actor,
        action="ruleset.withdraw",
        obj=draft,
        payload={"version": draft.version, "checksum": draft.checksum},
    )
    draft.delete()


def _may_withdraw(user: User, draft: RuleSet) -> bool:
    from .. import roles

    return (
        draft.created_by_id == user.pk
        or draft.authors.filter(pk=user.pk).exists()
        or roles.can(user, "publish_ruleset")
    )


def _required_bump(draft: RuleSet) -> str:
    """The least version step the draft's changes need, from the diff with its baseline (the impact
    report adds the status part at publication)."""
    return ""  # the diff (rules/diff.py) fills this in


def semver(version: str) -> tuple[int, int, int] | None:
    match = SEMVER.match(version)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def next_patch(version: str) -> str:
    parts = semver(version)
    if parts is None:
        return f"{version}.1"
    major, minor, patch = parts
    candidate = f"{major}.{minor}.{patch + 1}"
    while RuleSet.objects.filter(version=candidate).exists():
        patch += 1
        candidate = f"{major}.{minor}.{patch + 1}"
    return candidate
