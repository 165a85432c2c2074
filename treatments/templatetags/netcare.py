"""Template helpers of the clinician pages: words and icons for statuses and outcomes, fact values
with their units, rules in plain English, and the user's role. Display only: no decisions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from django import template
from django.contrib.auth.models import AnonymousUser, User
from django.forms import BoundField
from django.utils.html import format_html
from django.utils.safestring import SafeString

from treatments import roles, selectors
from treatments.fhir.provenance import code_words as code_words_of
from treatments.fhir.provenance import describe as describe_source
from treatments.models import Rule
from treatments.rules import explain
from treatments.rules.conditions import describe, display_value
from treatments.rules.document import CATEGORY_LABELS
from treatments.rules.engine import CompiledRule, Reason, Verdict
from treatments.rules.profile import fact_kind, fact_label, fact_unit, value_label
from treatments.rules.vocabulary import MDT_ROLE_LABELS
from treatments.services import display_name

register = template.Library()

# Icons are decorative (aria-hidden): the text label next to them always says the same thing.
# Shapes differ as well as colours, so that status never rests on colour alone.
_ICON_PATHS = {
    "candidate": '<path d="M4 10.5l4 4 8-9" fill="none" stroke="currentColor" stroke-width="2.6"/>',
    "trial_only": (
        '<path d="M7.5 2.5h5M8.5 2.5v5L3.8 15.3a1.4 1.4 0 0 0 1.2 2.2h10a1.4 1.4 0 0 0 1.2-2.2L11.5 7.5v-5"'
        ' fill="none" stroke="currentColor" stroke-width="1.8"/>'
    ),
    "needs_data": (
        '<path d="M7 7.2a3 3 0 1 1 4.3 2.7c-.9.5-1.3 1.1-1.3 2.1v.8" fill="none" stroke="currentColor"'
        ' stroke-width="2.2"/><circle cx="10" cy="16.3" r="1.4" fill="currentColor"/>'
    ),
    "not_suitable": '<path d="M5 5l10 10M15 5L5 15" fill="none" stroke="currentColor" stroke-width="2.6"/>',
    "not_indicated": '<path d="M4 10h12" fill="none" stroke="currentColor" stroke-width="2.6"/>',
    "caution": (
        '<path d="M10 2.5l8 14.5H2z" fill="none" stroke="currentColor" stroke-width="1.8"'
        ' stroke-linejoin="round"/><path d="M10 8v4.2" stroke="currentColor" stroke-width="2"/>'
        '<circle cx="10" cy="14.6" r="1.1" fill="currentColor"/>'
    ),
}
_OUTCOME_ICONS = {"met": "candidate", "not_met": "not_suitable", "unknown": "needs_data"}


def _svg(name: str) -> SafeString:
    return format_html(
        '<svg class="icon" viewBox="0 0 20 20" width="20" height="20" aria-hidden="true" focusable="false">'
        "{}</svg>",
        SafeString(_ICON_PATHS[name]),
    )


def _word(table: Mapping[Any, str], key: str, default: str | None = None) -> str:
    """A label from one of the vocabulary's tables, looked up by a value a template passes."""
    return table.get(key, key if default is None else default)


@register.simple_tag
def icon(name: str) -> SafeString:
    return _svg(name)


@register.simple_tag
def status_badge(status: str) -> SafeString:
    """The status as an icon and its words, e.g. [✓] Candidate."""
    return format_html(
        '<span class="status status-{}">{}<span class="status-text">{}</span></span>',
        status,
        _svg(status),
        _word(explain.STATUS_LABELS, status),
    )


@register.filter
def status_label(status: str) -> str:
    return _word(explain.STATUS_LABELS, status, status)


@register.filter
def status_meaning(status: str) -> str:
    return _word(explain.STATUS_MEANINGS, status, "")


@register.simple_tag
def outcome_badge(outcome_word: str) -> SafeString:
    """A rule's outcome for this patient (met / not met / unknown) as an icon and words."""
    return format_html(
        '<span class="outcome outcome-{}">{}<span>{}</span></span>',
        outcome_word,
        _svg(_OUTCOME_ICONS[outcome_word]),
        _word(explain.OUTCOME_LABELS, outcome_word),
    )


@register.filter
def kind_label(kind: str) -> str:
    return _word(explain.RULE_KIND_LABELS, kind, kind)


@register.filter
def kind_meaning(kind: str) -> str:
    return _word(explain.RULE_KIND_MEANINGS, kind, "")


@register.filter
def intent_labels(intents: Any) -> str:
    return ", ".join(_word(explain.INTENT_LABELS, intent, intent) for intent in intents or ())


@register.filter
def category_label(category: str) -> str:
    return _word(CATEGORY_LABELS, category, category)


@register.filter
def unverified(rule: Rule | CompiledRule) -> bool:
    spec = rule.spec if isinstance(rule, CompiledRule) else rule
    return explain.is_unverified(spec.verification)


@register.filter
def rule_text(rule: Rule) -> str:
    """A stored rule's condition in plain English."""
    return describe(rule.condition_tree, selectors.modality_names())


@register.filter
def other_reasons(verdict: Verdict) -> tuple[Reason, ...]:
    """The rules of a verdict that did not decide it (the deciding ones are shown first)."""
    return tuple(reason for reason in verdict.reasons if not reason.decisive)


# The statuses of the headline box ("Options to consider now"); the others are listed under it,
# folded by status. Which option has which status, and their order, come from the engine.
HEADLINE_STATUSES = ("candidate", "trial_only")


class Headline(NamedTuple):
    """An evaluation's options for the headline box: those to consider now, in the engine's order,
    and the other status groups that have options."""

    now: tuple[Verdict, ...]
    rest: tuple[explain.StatusGroup, ...]


@register.filter
def headline(result: Any) -> Headline:
    groups = explain.group_by_status(result)
    now = tuple(verdict for verdict in result.verdicts if verdict.status in HEADLINE_STATUSES)
    rest = tuple(group for group in groups if group.status not in HEADLINE_STATUSES and group.verdicts)
    return Headline(now, rest)


@register.filter
def value_in(facts: Any, name: str) -> Any:
    """One fact's value from explain.facts_by_group rows (None when unknown)."""
    return next((value for _, _, rows in facts for fact, value in rows if fact == name), None)


@register.filter
def timeline(details: Any) -> list[Any]:
    """Prior-treatment details as a timeline: the longest ago first, the most recent last (by months
    since the last dose); those without that figure come at the end, in the order entered."""
    items = list(details or ())
    dated = sorted(
        (item for item in items if item.months_since_last_dose is not None),
        key=lambda item: -item.months_since_last_dose,
    )
    return dated + [item for item in items if item.months_since_last_dose is None]


@register.filter
def error_parts(message: Any) -> tuple[str, str]:
    """A field error as (what is wrong, why): a contradiction's message ("X contradicts Y (v): why")
    reads as its first part in bold and the reason in plain type; other messages have no reason."""
    text = str(message)
    at = text.find(" contradicts ")
    colon = text.find(": ", at) if at >= 0 else -1
    if colon < 0:
        return text, ""
    return text[:colon], text[colon + 2 :]


@register.filter
def value_word(value: str) -> str:
    """An enumerated value in words: "not_assessed" -> "Not assessed"."""
    return value_label(str(value))


@register.filter
def fact_labels(facts: Any) -> str:
    """Fact names as their labels: "Ki-67 index and WHO grade"."""
    labels = [fact_label(str(fact)) for fact in facts]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


@register.filter
def label_of(fact: str) -> str:
    return fact_label(fact)


@register.filter
def unit_of(fact: str) -> str:
    return fact_unit(fact)


@register.simple_tag
def fact_value(fact: str, value: Any, names: Mapping[str, str] | None = None) -> str:
    """A patient's value with its unit: "8 %", "yes", "unknown" (never "no" for unknown).

    `names` turns the modality keys of prior therapies into their names.
    """
    if value is None:
        return "unknown"
    if fact_kind(fact) == "records":
        count = len(value)
        return (
            f"{count} treatment{'s' if count != 1 else ''} (see the treatment timeline)" if count else "none"
        )
    if fact_kind(fact) == "list":
        if not value:
            return "none"
        return ", ".join((names or {}).get(key, display_value(key)) for key in value)
    unit = fact_unit(fact)
    text = display_value(value)
    if fact_kind(fact) == "enum":
        text = value_label(str(value))
    return f"{text} {unit}" if unit else text


@register.simple_tag
def fact_source(fact: str, sources: Mapping[str, Any] | None) -> str:
    """Where a known fact came from and its date, e.g. "from FHIR Observation/egfr (LOINC 98979-8),
    2026-11-10", as a small line under the value; nothing when no source was kept."""
    text = describe_source((sources or {}).get(fact))
    if not text:
        return ""
    return format_html('<span class="fact-source" data-fact="{}">{}</span>', fact, text)


@register.filter
def code_words(code: str | None) -> str:
    """'http://loinc.org|98979-8' -> 'LOINC 98979-8'."""
    return code_words_of(code)


@register.filter
def role_label(user: User | AnonymousUser) -> str:
    return roles.role_label(user)


@register.filter
def can(user: User | AnonymousUser, capability: str) -> bool:
    return roles.can(user, capability)


@register.simple_tag
def fact_widget(field: BoundField, *describers: str) -> SafeString:
    """The field's control, described by its hint and error (ids passed in), marked invalid on error."""
    attrs: dict[str, str | bool] = {}
    ids = " ".join(item for item in describers if item)
    if ids:
        attrs["aria-describedby"] = ids
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.filter
def nhs_number(value: str) -> str:
    """An NHS number as it is written: 943 476 5919 (3-3-4); empty stays empty."""
    digits = "".join(str(value or "").split())
    if len(digits) != 10 or not digits.isdigit():
        return digits
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


@register.filter
def lookup(mapping: Mapping[str, Any] | None, key: str) -> Any:
    """mapping[key] in a template (None when absent)."""
    return (mapping or {}).get(key)


@register.simple_tag
def who(user: Any) -> str:
    """A user's full name, else the username; "system" for none."""
    return "system" if user is None else display_name(user)


@register.filter
def mdt_role(role: str) -> str:
    """An MDT role in words (vocabulary MDT_ROLE_LABELS)."""
    return MDT_ROLE_LABELS.get(role, role)  # type: ignore[call-overload, no-any-return]
