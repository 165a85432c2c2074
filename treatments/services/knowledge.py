"""Publishing the knowledge base: read and validate the YAML in fixtures/, then publish it as a new
RuleSet version (the previous one is retired). The file is "the knowledge base", rules/document.py
its schema, and a RuleSet one published version of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import selectors
from ..models import Modality, Rule, RuleSet
from ..rules.content import RULE_FIELDS, checksum_of, compile_content, without_tests
from ..rules.document import KnowledgeBase, load_file
from ..rules.golden import run_golden
from .audit import Actor, audit_record


class VersionConflict(Exception):
    """A version label is already used by different content."""


class ConcurrentPublish(VersionConflict):
    """Another process published the same version while this one was publishing it."""


class GoldenCasesFail(VersionConflict):
    """Direct publication (DEBUG seeding) still needs every golden case to pass."""


@transaction.atomic
def ruleset_publish(*, knowledge_base: KnowledgeBase, actor: Actor = None) -> RuleSet | None:
    """Publish a validated knowledge base directly, without review: for development and demo
    seeding only (`load_knowledge_base --no-approval`, allowed when DEBUG is on), and the tests.
    The golden gate still applies. Everyone else publishes a draft through the gates
    (services/governance.py).

    Returns None when the published rule set already has this content (nothing to do). Raises
    VersionConflict when the version label is taken by different content, GoldenCasesFail when a
    golden case fails.
    """
    current = RuleSet.objects.select_for_update().published().first()
    if current is not None and _same_content(current, knowledge_base):
        return None
    failures = golden_failures(knowledge_base.content)
    if failures:
        raise GoldenCasesFail(f"golden cases fail, nothing was published: {'; '.join(failures)}")
    existing = RuleSet.objects.select_for_update().filter(version=knowledge_base.version).first()
    if existing is not None and not (
        existing.status == RuleSet.Status.DRAFT and existing.checksum == knowledge_base.checksum
    ):
        raise VersionConflict(
            f"version {knowledge_base.version} already exists with different content: "
            "bump `version` in the knowledge-base file"
        )
    rule_set = existing or _create_version(knowledge_base)
    if existing is None:
        store_content(rule_set, knowledge_base.content)
    activate(rule_set, current=current, actor=actor)
    audit_record(
        actor=actor,
        action="ruleset.publish",
        obj=rule_set,
        payload={
            "version": rule_set.version,
            "checksum": rule_set.checksum,
            "rules": len(knowledge_base.rules),
            "retired": current.version if current else None,
            "without_review": True,
        },
    )
    return rule_set


def _same_content(current: RuleSet, knowledge_base: KnowledgeBase) -> bool:
    """Whether the version in force has this content. A version published before the golden cases
    travelled with the rules has the checksum of its content without them: it is the same."""
    if current.checksum == knowledge_base.checksum:
        return True
    legacy = checksum_of(without_tests(knowledge_base.content))
    return current.version == knowledge_base.version and current.checksum == legacy


def golden_failures(content: dict[str, Any]) -> list[str]:
    """Each failing golden case of the content, in words (empty when all pass)."""
    result = run_golden(compile_content(content), content.get("tests", ()))
    return [
        f"{case.id}: "
        + (
            case.invalid
            or ", ".join(f"{m.modality} expected {m.expected}, got {m.actual}" for m in case.mismatches)
        )
        for case in result.failed
    ]


def activate(rule_set: RuleSet, *, current: RuleSet | None, actor: Actor) -> None:
    """Retire the version in force and publish this one (the caller holds the lock on `current`)."""
    if current is not None:
        current.status = RuleSet.Status.RETIRED
        current.save()
    rule_set.status = RuleSet.Status.PUBLISHED
    rule_set.published_at = timezone.now()
    rule_set.published_by = actor if isinstance(actor, User) else None
    rule_set.save()
    transaction.on_commit(selectors.forget_published_ruleset)


def _create_version(knowledge_base: KnowledgeBase) -> RuleSet:
    """The new RuleSet row. On an empty database the lock above holds no row, so two loads can
    both get here; the second insert then breaks the unique version and is refused cleanly (it was
    an IntegrityError traceback, security review F12)."""
    try:
        with transaction.atomic():
            return RuleSet.objects.create(
                version=knowledge_base.version,
                title=knowledge_base.title,
                notes=knowledge_base.notes,
                checksum=knowledge_base.checksum,
                content=knowledge_base.content,
            )
    except IntegrityError:
        raise ConcurrentPublish(
            f"another load published version {knowledge_base.version} at the same time; "
            "nothing was loaded by this one (run it again to check what is published)"
        ) from None


_MODALITY_FIELDS = (
    "key",
    "name",
    "category",
    "description",
    "agents",
    "hospital_page",
    "patient_summary",
    "patient_page_url",
    "notes",
    "display_order",
)
_RULE_FIELDS = ("rule_id", *RULE_FIELDS)


def store_content(rule_set: RuleSet, content: dict[str, Any]) -> None:
    """The modality and rule rows of a rule set, from its normalised content."""
    modalities = Modality.objects.bulk_create(
        Modality(
            rule_set=rule_set, intents=list(doc["intents"]), **{f: doc.get(f, "") for f in _MODALITY_FIELDS}
        )
        for doc in content["modalities"]
    )
    by_key = {modality.key: modality for modality in modalities}
    positions: dict[str, int] = {}
    rules = []
    for spec in content["rules"]:
        positions[spec["modality"]] = positions.get(spec["modality"], 0) + 1
        rules.append(
            Rule(
                rule_set=rule_set,
                modality=by_key[spec["modality"]],
                position=positions[spec["modality"]],
                **{f: spec.get(f, "") for f in _RULE_FIELDS},
            )
        )
    Rule.objects.bulk_create(rules)


def default_path() -> Path:
    return Path(settings.NETCARE_KNOWLEDGE_BASE)


def knowledge_base_read(path: str | Path | None = None) -> KnowledgeBase:
    """Read and validate the whole file; raises rules.document.KnowledgeBaseError on any mistake."""
    return load_file(path or default_path())


def knowledge_base_publish(path: str | Path | None = None, *, actor: Actor = None) -> RuleSet | None:
    """Validate the file and publish it; None when the published rule set already has this content."""
    return ruleset_publish(knowledge_base=knowledge_base_read(path), actor=actor)
