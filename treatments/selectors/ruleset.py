"""The published rule set, compiled and cached per process: the one stateful read.

Evaluation costs no query once the rule set is cached; a newly published version reaches every
process within NETCARE_RULESET_RECHECK_SECONDS, without a restart.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings

from ..models import Modality, Rule, RuleSet
from ..rules.conditions import parse_condition
from ..rules.document import display_aids_from_content
from ..rules.engine import CompiledRuleSet, EvaluationResult, ModalitySpec, RuleSetInfo, RuleSpec
from ..rules.profile import PatientProfile


class NoPublishedRuleSet(Exception):
    """No rule set has been published yet: run `python manage.py load_knowledge_base`."""

    def __str__(self) -> str:
        return "No rule set has been published yet: run `python manage.py load_knowledge_base`."


@dataclass
class _Cache:
    compiled: CompiledRuleSet | None = None
    checked_at: float = float("-inf")


_cache = _Cache()


_lock = threading.Lock()


def published_ruleset() -> CompiledRuleSet:
    """The compiled published rule set.

    It is compiled once per version and re-checked against the database at most every
    NETCARE_RULESET_RECHECK_SECONDS, so evaluation usually costs no query at all, and a newly
    published version reaches every process without a restart.
    """
    now = time.monotonic()
    compiled = _cache.compiled
    if compiled is not None and now - _cache.checked_at < settings.NETCARE_RULESET_RECHECK_SECONDS:
        return compiled
    with _lock:
        current = RuleSet.objects.published().values("id", "version", "published_at", "checksum").first()
        if current is None:
            raise NoPublishedRuleSet()
        if compiled is None or compiled.info.version != current["version"]:
            compiled = _compile(current["id"])
        _cache.compiled, _cache.checked_at = compiled, time.monotonic()
    return compiled


def forget_published_ruleset() -> None:
    """Drop this process's cached rule set (after a publication, and between tests)."""
    _cache.compiled, _cache.checked_at = None, float("-inf")


def _compile(rule_set_id: int) -> CompiledRuleSet:
    rule_set = RuleSet.objects.get(pk=rule_set_id)
    modalities = list(rule_set.modalities.all())
    rules = Rule.objects.filter(rule_set=rule_set).select_related("modality").order_by("modality", "position")
    info = RuleSetInfo(rule_set.version, rule_set.published_at, rule_set.checksum)
    # Guideline lines and order overrides are display aids kept in the stored content, not in rows.
    lines, overrides = display_aids_from_content(rule_set.content or {})
    specs = [rule_spec(r) for r in rules]
    return CompiledRuleSet(info, [modality_spec(m) for m in modalities], specs, lines, overrides)


def modality_spec(modality: Modality) -> ModalitySpec:
    return ModalitySpec(
        modality.key, modality.name, modality.category, tuple(modality.intents), modality.display_order
    )


def rule_spec(rule: Rule) -> RuleSpec:
    return RuleSpec(
        rule_id=rule.rule_id,
        modality=rule.modality.key,
        kind=rule.kind,  # type: ignore[arg-type]
        title=rule.title,
        condition=parse_condition(rule.condition),
        reason=rule.reason,
        source=rule.source,
        evidence=rule.evidence,
        verification=rule.verification,
        verification_note=rule.verification_note,
        if_unknown=rule.if_unknown,  # type: ignore[arg-type]
    )


def modality_names() -> dict[str, str]:
    """Modality key -> display name in the rule set in force ({} before one is published)."""
    try:
        return published_ruleset().names
    except NoPublishedRuleSet:
        return {}


def eligibility(profile: PatientProfile) -> EvaluationResult:
    """Evaluate a profile against the published rule set (no database query once cached)."""
    return published_ruleset().evaluate(profile)


RuleSetRef = tuple[int, str]  # (id, version) of a rule set


def published_ruleset_ref() -> RuleSetRef | None:
    """(id, version) of the rule set in force, in one small query; None before one is published."""
    return RuleSet.objects.published().values_list("pk", "version").first()


def current_ruleset() -> RuleSet | None:
    return RuleSet.objects.published().first()
