"""The published rule set, compiled and cached per process: the one stateful read.

Evaluation costs no query once the rule set is cached. A newly published version reaches every
process without a restart: with a shared cache (NETCARE_RULESET_BROADCAST, i.e. REDIS_URL set) on
each process's next request, through a generation stamp the publication renews in the cache; without
one, within NETCARE_RULESET_RECHECK_SECONDS.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from ..models import Modality, Rule, RuleSet
from ..rules.conditions import parse_condition
from ..rules.document import display_aids_from_content
from ..rules.engine import CompiledRuleSet, EvaluationResult, ModalitySpec, RuleSetInfo, RuleSpec
from ..rules.profile import PatientProfile


class NoPublishedRuleSet(Exception):
    """No rule set has been published yet."""

    def __str__(self) -> str:
        return (
            "No rule set has been published yet: run `python manage.py load_knowledge_base` and publish "
            "the draft through review (docs/rule-governance.md; in development: --no-approval)."
        )


logger = logging.getLogger(__name__)

# The shared cache key whose value changes with every publication (a random token, not a version:
# a rule set can be published again under the same process lifetime after a retirement).
GENERATION_KEY = "netcare:ruleset-generation"


@dataclass
class _Cache:
    compiled: CompiledRuleSet | None = None
    checked_at: float = float("-inf")
    generation: str | None = None


_cache = _Cache()


_lock = threading.Lock()


def published_ruleset() -> CompiledRuleSet:
    """The compiled published rule set.

    It is compiled once per version. Evaluation usually costs no query at all: with a shared cache
    one cache read per call tells whether a publication happened since; without one the database is
    re-checked at most every NETCARE_RULESET_RECHECK_SECONDS.
    """
    compiled = _cache.compiled
    generation = _shared_generation() if settings.NETCARE_RULESET_BROADCAST else None
    if compiled is not None and _still_current(generation):
        return compiled
    with _lock:
        current = RuleSet.objects.published().values("id", "version", "published_at", "checksum").first()
        if current is None:
            raise NoPublishedRuleSet()
        if compiled is None or compiled.info.version != current["version"]:
            compiled = _compile(current["id"])
        # The generation was read before the database: a publication committed after that read
        # renews it, so the next call looks again.
        _cache.compiled, _cache.checked_at, _cache.generation = compiled, time.monotonic(), generation
    return compiled


def _still_current(generation: str | None) -> bool:
    if generation is not None:
        return generation == _cache.generation
    return time.monotonic() - _cache.checked_at < settings.NETCARE_RULESET_RECHECK_SECONDS


def _shared_generation() -> str | None:
    """The publication generation in the shared cache (created if missing), or None if the cache
    cannot be read: then the time-based re-check applies, so a cache outage never stops evaluation."""
    try:
        value = cache.get(GENERATION_KEY)
        if value is None:  # first use, or evicted: any process may start it, once
            cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
            value = cache.get(GENERATION_KEY)
    except Exception as exc:  # the cache client's own errors (redis.ConnectionError, timeouts)
        logger.warning("rule-set generation unreadable, re-checking by time: %s", type(exc).__name__)
        return None
    return None if value is None else str(value)


def forget_published_ruleset() -> None:
    """Drop this process's cached rule set (after a publication, and between tests), and with a
    shared cache tell every other process to look again on its next request."""
    _cache.compiled, _cache.checked_at, _cache.generation = None, float("-inf"), None
    if settings.NETCARE_RULESET_BROADCAST:
        announce_publication()


def announce_publication() -> None:
    """Renew the shared generation stamp: each process re-reads the rule set in force once."""
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception as exc:  # see _shared_generation; the time-based re-check still applies
        logger.warning("rule-set publication not announced in the cache: %s", type(exc).__name__)


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
