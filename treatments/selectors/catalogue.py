"""The catalogue: the modalities of a rule set with their rules, filtered and searched."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from ..models import Modality, Rule, RuleSet
from .ruleset import current_ruleset


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
