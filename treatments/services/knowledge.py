"""Load, validate and publish the knowledge base from fixtures/ into a RuleSet."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from ..models import RuleSet
from ..rules.document import KnowledgeBase, load_file
from .cases import Actor, ruleset_publish


def default_path() -> Path:
    return Path(settings.NETCARE_KNOWLEDGE_BASE)


def knowledge_base_read(path: str | Path | None = None) -> KnowledgeBase:
    """Read and validate the whole file; raises rules.document.KnowledgeBaseError on any mistake."""
    return load_file(path or default_path())


def knowledge_base_publish(path: str | Path | None = None, *, actor: Actor = None) -> RuleSet | None:
    """Validate the file and publish it; None when the published rule set already has this content."""
    return ruleset_publish(knowledge_base=knowledge_base_read(path), actor=actor)
