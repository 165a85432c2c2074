"""Reads: the published rule set (compiled, cached per process), eligibility and the catalogue."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet

from .models import Modality, Rule, RuleSet
from .rules.conditions import parse_condition
from .rules.engine import CompiledRuleSet, EvaluationResult, ModalitySpec, RuleSetInfo, RuleSpec
from .rules.profile import PatientProfile


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
    return CompiledRuleSet(info, [modality_spec(m) for m in modalities], [rule_spec(r) for r in rules])


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


def current_ruleset() -> RuleSet | None:
    return RuleSet.objects.published().first()


def catalogue(
    rule_set: RuleSet | None = None, *, category: str | None = None, search: str | None = None
) -> list[Modality]:
    """The modalities of a rule set (the published one by default) with their rules, in display order.

    `category` keeps one category; `search` keeps modalities whose key, name, description, agents,
    hospital-page text or rule titles, reasons and sources contain every word (case-insensitive).
    """
    rule_set = rule_set or current_ruleset()
    if rule_set is None:
        return []
    modalities = rule_set.modalities.all()
    if category:
        modalities = modalities.filter(category=category)
    for word in (search or "").split():
        modalities = modalities.filter(
            Q(key__icontains=word)
            | Q(name__icontains=word)
            | Q(description__icontains=word)
            | Q(agents__icontains=word)
            | Q(hospital_page__icontains=word)
            | Q(rules__title__icontains=word)
            | Q(rules__reason__icontains=word)
            | Q(rules__source__icontains=word)
        )
    return list(_with_rules(modalities.distinct()))


def modality_detail(key: str, rule_set: RuleSet | None = None) -> Modality | None:
    """One modality of a rule set (the published one by default) with its rules, or None."""
    rule_set = rule_set or current_ruleset()
    if rule_set is None:
        return None
    return _with_rules(rule_set.modalities.filter(key=key)).first()


def _with_rules(modalities: QuerySet[Modality]) -> QuerySet[Modality]:
    rules = Rule.objects.order_by("position")
    return modalities.prefetch_related(Prefetch("rules", queryset=rules)).order_by("display_order")
