"""Publishing the knowledge base: read and validate the YAML in fixtures/, then publish it as a new
RuleSet version (the previous one is retired). The file is "the knowledge base", rules/document.py
its schema, and a RuleSet one published version of it."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import selectors
from ..models import Modality, Rule, RuleSet
from ..rules.conditions import condition_to_data
from ..rules.document import KnowledgeBase, load_file
from .audit import Actor, audit_record


class VersionConflict(Exception):
    """A version label is already used by different content."""


class ConcurrentPublish(VersionConflict):
    """Another process published the same version while this one was publishing it."""


@transaction.atomic
def ruleset_publish(*, knowledge_base: KnowledgeBase, actor: Actor = None) -> RuleSet | None:
    """Publish a validated knowledge base as a new rule-set version and retire the previous one.

    Returns None when the published rule set already has this content (nothing to do). Raises
    VersionConflict when the version label is taken by different content.
    """
    current = RuleSet.objects.select_for_update().published().first()
    if current is not None and current.checksum == knowledge_base.checksum:
        return None
    if RuleSet.objects.filter(version=knowledge_base.version).exists():
        raise VersionConflict(
            f"version {knowledge_base.version} already exists with different content: "
            "bump `version` in the knowledge-base file"
        )
    rule_set = _create_version(knowledge_base)
    _store_content(rule_set, knowledge_base)
    if current is not None:
        current.status = RuleSet.Status.RETIRED
        current.save()
    rule_set.status = RuleSet.Status.PUBLISHED
    rule_set.published_at = timezone.now()
    rule_set.published_by = actor if isinstance(actor, User) else None
    rule_set.save()
    audit_record(
        actor=actor,
        action="ruleset.publish",
        obj=rule_set,
        payload={
            "version": rule_set.version,
            "checksum": rule_set.checksum,
            "rules": len(knowledge_base.rules),
            "retired": current.version if current else None,
        },
    )
    transaction.on_commit(selectors.forget_published_ruleset)
    return rule_set


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


def _store_content(rule_set: RuleSet, knowledge_base: KnowledgeBase) -> None:
    modalities = Modality.objects.bulk_create(
        Modality(
            rule_set=rule_set,
            key=doc.key,
            name=doc.name,
            category=doc.category,
            intents=list(doc.intents),
            description=doc.description,
            agents=doc.agents,
            hospital_page=doc.hospital_page,
            patient_summary=doc.patient_summary,
            patient_page_url=doc.patient_page_url,
            notes=doc.notes,
            display_order=doc.display_order,
        )
        for doc in knowledge_base.modalities
    )
    by_key = {modality.key: modality for modality in modalities}
    positions: dict[str, int] = {}
    rules = []
    for spec in knowledge_base.rules:
        positions[spec.modality] = positions.get(spec.modality, 0) + 1
        rules.append(
            Rule(
                rule_set=rule_set,
                modality=by_key[spec.modality],
                rule_id=spec.rule_id,
                kind=spec.kind,
                title=spec.title,
                condition=condition_to_data(spec.condition),
                reason=spec.reason,
                source=spec.source,
                evidence=spec.evidence,
                verification=spec.verification,
                verification_note=spec.verification_note,
                if_unknown=spec.if_unknown,
                position=positions[spec.modality],
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
