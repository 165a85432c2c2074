"""The catalogue: the modalities of a rule set with their rules, filtered and searched."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from ..models import Modality, Rule, RuleSet
from ..rules.profile import MODALITY_KEYS
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
        modalities = modalities.filter(_matches(word))
    return list(_with_rules(modalities))


def modality_detail(key: str, rule_set: RuleSet | None = None) -> Modality | None:
    """One modality of a rule set (the published one by default) with its rules, or None."""
    if key not in MODALITY_KEYS:  # no query for a key that cannot exist (nor for one with a NUL)
        return None
    rule_set = rule_set or current_ruleset()
    if rule_set is None:
        return None
    return _with_rules(rule_set.modalities.filter(key=key)).first()


def _matches(word: str) -> Q:
    """One search word, in the modality's own text or in any of its rules.

    The rules are searched in a subquery (EXISTS): a join per word multiplied the rows by the rules
    per modality for every word, so a few words ran for seconds (security review F1). One query,
    whatever the number of words, and the same matches.
    """
    in_rules = Rule.objects.filter(modality=OuterRef("pk")).filter(
        Q(title__icontains=word) | Q(reason__icontains=word) | Q(source__icontains=word)
    )
    return (
        Q(key__icontains=word)
        | Q(name__icontains=word)
        | Q(description__icontains=word)
        | Q(agents__icontains=word)
        | Q(hospital_page__icontains=word)
        | Q(Exists(in_rules))
    )


def _with_rules(modalities: QuerySet[Modality]) -> QuerySet[Modality]:
    rules = Rule.objects.order_by("position")
    return modalities.prefetch_related(Prefetch("rules", queryset=rules)).order_by("display_order")


def patient_texts(rule_set: RuleSet | None = None) -> list[Modality]:
    """Every modality of a rule set (the published one by default) in display order, with what the
    patient options sheet shows: name, text for patients and the unit's page. No rules."""
    rule_set = rule_set or current_ruleset()
    if rule_set is None:
        return []
    fields = ("key", "name", "display_order", "patient_summary", "patient_page_url", "rule_set__version")
    return list(rule_set.modalities.select_related("rule_set").only(*fields))
