"""The engine's answer worded as CDS Hooks cards (docs/cds-hooks.md, "Cards").

Nothing here decides anything about a patient: statuses, reasons, sources and the facts to obtain
all come from the engine's result (rules/explain.py gathers them, as for the pages). This module
only chooses the card layout the specification asks for: one summary card, and one card per
candidate option with an action-less suggestion and the reasons an EHR user may give for
overriding it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from ..rules import explain
from ..rules.engine import EvaluationResult, Verdict
from ..rules.profile import FACT_NAMES, PatientProfile, fact_label
from ..templatetags.netcare import fact_value

SUMMARY_LIMIT = 139  # CDS Hooks §Card Attributes: summary SHALL be shorter than 140 characters
TOPIC_SYSTEM = "https://netcare.example.nhs.uk/fhir/CodeSystem/netcare-card-topic"
SUMMARY_TOPIC = "net-options-summary"
SUGGESTION_LABEL = "Mark as an option for the NET MDT"
LINK_LABEL = "Open in NETcare (review facts, add to MDT)"
DISCLAIMER = "_Decision support for the NET MDT; not medical advice._"
NON_ADHERENCE = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"
# The five reasons offered on every option card (HL7 non-adherence reason codes, CDS Hooks 3.0 ballot).
OVERRIDE_REASONS: tuple[dict[str, str], ...] = tuple(
    {"system": NON_ADHERENCE, "code": code, "display": display}
    for code, display in (
        ("patient-contraindication", "Patient has contraindication to recommended action"),
        ("prefers-alternative", "Patient prefers an alternative approach or treatment"),
        (
            "comorbidity-disability",
            "Patient has co-morbidity or disability that hinders them from completing recommended action",
        ),
        ("service-not-available", "Treatment or service is not practically available"),
        (
            "need-more-info",
            "Could not address recommended action due to need for more information/pending "
            "results/pending consult",
        ),
    )
)
# Facts about the tumour and its course, as the patient form groups them; fitness, safety and
# funding facts alone cannot place a patient on any NET pathway.
TUMOUR_GROUPS = frozenset({"tumour", "tumour_detail", "extent", "liver", "imaging", "syndrome", "course"})
MIN_TUMOUR_FACTS = 3
MAX_FACTS_TO_OBTAIN = 10  # the most decisive first; NETcare's page lists them all


def _group(name: str) -> str:
    extra = PatientProfile.model_fields[name].json_schema_extra
    return str(extra.get("group", "")) if isinstance(extra, dict) else ""


TUMOUR_FACTS: frozenset[str] = frozenset(name for name in FACT_NAMES if _group(name) in TUMOUR_GROUPS)


def shorten(text: str, limit: int = SUMMARY_LIMIT) -> str:
    """`text` if it fits in `limit` characters, else cut at a word boundary with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:—-")
    return cut + "…"


def _in_sentence(fact: str) -> str:
    """A fact's label inside a sentence: "Resectable" -> "resectable", "eGFR" and "WHO grade" kept."""
    label = fact_label(fact)
    return label if label[:2].isupper() or label[:1].islower() else label[:1].lower() + label[1:]


def too_little_data(profile: PatientProfile) -> bool:
    """Fewer than three tumour facts known: listing every option as "needs data" would say nothing."""
    known = profile.model_dump(exclude_none=True)
    return sum(1 for name in known if name in TUMOUR_FACTS) < MIN_TUMOUR_FACTS


def build_cards(
    result: EvaluationResult,
    *,
    link_url: str,
    app_url: str,
    fact_sources: Mapping[str, Any],
    issues: list[Any],
    option_cards: bool = True,
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """(cards, {card uuid: modality key, "" for the summary card})."""
    version = result.ruleset.version
    link = {"label": LINK_LABEL, "url": link_url, "type": "absolute"}
    if too_little_data(result.profile):
        card = _summary_card(result, version, app_url, link, fact_sources, issues, little=True)
        return [card], {card["uuid"]: ""}
    cards = [_summary_card(result, version, app_url, link, fact_sources, issues, little=False)]
    owners = {cards[0]["uuid"]: ""}
    if option_cards:
        for verdict in result.verdicts:
            if verdict.status == "candidate":
                card = _option_card(verdict, version, app_url, link)
                cards.append(card)
                owners[card["uuid"]] = verdict.modality.key
    return cards, owners


def _source(version: str, url: str, code: str, display: str) -> dict[str, Any]:
    return {
        "label": f"NETcare NET rules {version}",
        "url": url,
        "topic": {"system": TOPIC_SYSTEM, "code": code, "display": display},
    }


# --- the summary card ----------------------------------------------------------------------------


def _summary_card(
    result: EvaluationResult,
    version: str,
    app_url: str,
    link: dict[str, str],
    fact_sources: Mapping[str, Any],
    issues: list[Any],
    *,
    little: bool,
) -> dict[str, Any]:
    to_obtain = explain.data_to_obtain(result)
    if little:
        summary = f"NETcare: too little structured data to assess NET options (rules {version})"
        sections = [_obtain_section(to_obtain, heading="**Facts to obtain first**")]
    else:
        summary = summary_text(result, [item.fact for item in to_obtain])
        sections = [_status_section(result), _obtain_section(to_obtain, heading="**Data to obtain**")]
    sections += [_facts_section(result, fact_sources), _issues_section(issues), DISCLAIMER]
    return {
        "uuid": str(uuid.uuid4()),
        "summary": shorten(summary),
        "indicator": "info",
        "detail": "\n\n".join(section for section in sections if section),
        "source": _source(version, f"{app_url}/catalogue/", SUMMARY_TOPIC, "NET treatment options summary"),
        "links": [link],
    }


def summary_text(result: EvaluationResult, missing: list[str]) -> str:
    """`NET options (rules v): n candidate, m need data, k not suitable. Missing: facts` - as many
    missing facts (most decisive first) as fit in the summary's 139 characters."""
    statuses = list(result.statuses().values())
    text = (
        f"NET options (rules {result.ruleset.version}): {statuses.count('candidate')} candidate, "
        f"{statuses.count('needs_data')} need data, {statuses.count('not_suitable')} not suitable."
    )
    named: list[str] = []
    for fact in missing:
        attempt = f"{text} Missing: {', '.join([*named, _in_sentence(fact)])}"
        if len(attempt) > SUMMARY_LIMIT:
            break
        named.append(_in_sentence(fact))
    return f"{text} Missing: {', '.join(named)}" if named else text


def _status_section(result: EvaluationResult) -> str:
    lines: list[str] = []
    for group in explain.group_by_status(result):
        if not group.verdicts or group.status in ("not_suitable", "not_indicated"):
            continue
        lines.append(f"**{explain.STATUS_LABELS[group.status]}**")  # type: ignore[index]
        for verdict in group.verdicts:
            lines.append(f"- {verdict.modality.name}{_why(verdict)}")
        lines.append("")
    counts = result.statuses()
    hidden = [
        f"{sum(1 for s in counts.values() if s == status)} {explain.STATUS_LABELS[status].lower()}"  # type: ignore[index]
        for status in ("not_suitable", "not_indicated")
        if status in counts.values()
    ]
    if hidden:
        lines.append(f"Also: {', '.join(hidden)} (see NETcare).")
    return "\n".join(lines).strip()


def _why(verdict: Verdict) -> str:
    if verdict.status == "needs_data":
        return f": needs {', '.join(_in_sentence(fact) for fact in verdict.missing_facts)}"
    indication = _met_indication(verdict)
    return f" — {indication.rule.spec.title} (rule `{indication.rule.rule_id}`)" if indication else ""


def _met_indication(verdict: Verdict) -> Any:
    return next(
        (reason for reason in verdict.reasons if reason.rule.kind == "indication" and reason.outcome is True),
        None,
    )


def _obtain_section(to_obtain: list[explain.FactToObtain], *, heading: str) -> str:
    if not to_obtain:
        return ""
    rows = [heading, "| fact | decides |", "|---|---|"]
    for item in to_obtain[:MAX_FACTS_TO_OBTAIN]:
        names = [modality.name for modality in item.modalities]
        decides = ", ".join(names) if len(names) <= 3 else f"{len(names)} options"
        rows.append(f"| {fact_label(item.fact)} | {decides} |")
    return "\n".join(rows)


def _facts_section(result: EvaluationResult, fact_sources: Mapping[str, Any]) -> str:
    profile = result.profile
    names = {verdict.modality.key: verdict.modality.name for verdict in result.verdicts}
    known = profile.model_dump(mode="json", exclude_none=True, exclude={"funding"})
    if not known:
        return ""
    parts = []
    for name, value in known.items():
        text = f"{fact_label(name)} {fact_value(name, value, names)}"
        effective = _effective(fact_sources.get(name))
        parts.append(f"{text} ({effective})" if effective else text)
    return "**Facts used** (from the EHR): " + "; ".join(parts) + "."


def _effective(provenance: Any) -> str:
    """The date of the first source of a fact's provenance, if the mapping recorded one."""
    if not isinstance(provenance, Mapping):
        return ""
    sources = provenance.get("sources") or []
    first = sources[0] if sources and isinstance(sources[0], Mapping) else {}
    return str(first.get("effective") or "")


def _issues_section(issues: list[Any]) -> str:
    lines = []
    for issue in issues:
        if isinstance(issue, Mapping):
            text = issue.get("message") or issue.get("code")
            if text:
                lines.append(f"- {text}")
        elif issue:
            lines.append(f"- {issue}")
    return "**Notes on the EHR data**\n" + "\n".join(lines) if lines else ""


# --- one card per candidate option ---------------------------------------------------------------


def _option_card(verdict: Verdict, version: str, app_url: str, link: dict[str, str]) -> dict[str, Any]:
    modality = verdict.modality
    indication = _met_indication(verdict)
    title = indication.rule.spec.title if indication else "see the rules"
    return {
        "uuid": str(uuid.uuid4()),
        "summary": shorten(f"{modality.name}: candidate — {title}"),
        "indicator": "info",
        "detail": _option_detail(verdict),
        "source": _source(version, f"{app_url}/catalogue/{modality.key}/", modality.key, modality.name),
        "selectionBehavior": "at-most-one",
        "suggestions": [{"label": SUGGESTION_LABEL, "uuid": str(uuid.uuid4())}],
        "overrideReasons": [dict(reason) for reason in OVERRIDE_REASONS],
        "links": [link],
    }


def _option_detail(verdict: Verdict) -> str:
    lines = ["**Why it is a candidate**"]
    for reason in verdict.reasons:
        if reason.outcome is False and not reason.decisive:
            continue
        spec = reason.rule.spec
        word = explain.OUTCOME_LABELS.get(reason.outcome_word, reason.outcome_word)  # type: ignore[call-overload]
        lines.append(
            f"- {word}: {spec.title} (`{spec.rule_id}`) — {spec.reason} "
            f"Source: {spec.source}; evidence {spec.evidence}."
        )
    if verdict.cautions:
        lines += ["", "**Cautions**"] + [f"- {caution.text}" for caution in verdict.cautions]
    lines += ["", DISCLAIMER]
    return "\n".join(lines)
