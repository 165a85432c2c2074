"""What a published rule set stores: the knowledge base's normalised content (what its checksum
covers), and the display aids read back from it when a rule set is compiled from the database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from .conditions import condition_to_data, parse_condition
from .engine import (
    CompiledRuleSet,
    GuidelineLine,
    ModalitySpec,
    OrderOverride,
    RuleSetInfo,
    RuleSpec,
)
from .schema import KnowledgeBaseDoc, ModalityDoc

# The named sets of the file and which rules were written with each: an authoring record kept in
# the content beside the rules (whose conditions hold the sets written out), so that a diff can name
# a set whose members changed and every rule that uses it. The checksum leaves them out: the
# behaviour is all in the conditions, and rule sets stored before the sets were kept (and every file
# loaded before) keep the checksum they were published with.
SET_KEYS = ("sets", "set_usage")

# The fields of a rule and of a modality in the content, besides their keys (rule_id and modality;
# key) and a modality's display aids: what the in-app editor edits.
RULE_FIELDS = (
    "kind",
    "title",
    "condition",
    "reason",
    "source",
    "evidence",
    "verification",
    "verification_note",
    "if_unknown",
)
MODALITY_FIELDS = (
    "name",
    "category",
    "intents",
    "display_order",
    "description",
    "agents",
    "hospital_page",
    "patient_summary",
    "patient_page_url",
    "notes",
)
# The texts for patients (knowledge base 1.2.1): optional, and absent from the content when empty.
_PATIENT_FIELDS = ("patient_summary", "patient_page_url")


def content_of(
    doc: KnowledgeBaseDoc,
    rules: list[RuleSpec],
    lines: list[GuidelineLine],
    overrides: list[OrderOverride],
) -> dict[str, Any]:
    """The normalised content: what the checksum covers and what a rule set stores.

    The display aids of 1.2 are written only when a modality has some, and the golden cases
    (`tests`) only when there are some, so that a file without them keeps the checksum it was
    published with.
    """
    content: dict[str, Any] = {
        "version": doc.version,
        "title": doc.title,
        "notes": doc.notes,
        "modalities": [_modality_content(modality, lines, overrides) for modality in doc.modalities],
        "rules": [
            {
                "rule_id": rule.rule_id,
                "modality": rule.modality,
                "kind": rule.kind,
                "title": rule.title,
                "condition": condition_to_data(rule.condition),
                "reason": rule.reason,
                "source": rule.source,
                "evidence": rule.evidence,
                "verification": rule.verification,
                "verification_note": rule.verification_note,
                "if_unknown": rule.if_unknown,
            }
            for rule in rules
        ],
    }
    if doc.sets:
        content["sets"] = {name: list(members) for name, members in doc.sets.items()}
        content["set_usage"] = set_usage(doc)
    if doc.tests:
        content["tests"] = [case.model_dump(exclude_defaults=True) for case in doc.tests]
    return content


def set_usage(doc: KnowledgeBaseDoc) -> dict[str, list[list[str]]]:
    """Each set's users as [modality, rule_id], in the rules' stored order (common rules under each
    modality they apply to, after its own rules, as content_of stores them); only sets in use."""
    usage: dict[str, list[list[str]]] = {}
    for modality in doc.modalities:
        common = [rule for rule in doc.common_rules if modality.key in rule.applies_to]
        for rule in [*modality.rules, *common]:
            for name in sorted(set_names(rule.when)):
                usage.setdefault(name, []).append([modality.key, rule.id])
    return usage


def set_names(node: Any) -> set[str]:
    """The set names an unresolved condition uses (`in`/`not_in` given a name, not a list)."""
    if isinstance(node, list):
        return set().union(*(set_names(item) for item in node))
    if not isinstance(node, Mapping):
        return set()
    names = {value for key, value in node.items() if key in ("in", "not_in") and isinstance(value, str)}
    return names.union(*(set_names(value) for value in node.values()))


def _modality_content(
    doc: ModalityDoc, lines: list[GuidelineLine], overrides: list[OrderOverride]
) -> dict[str, Any]:
    content = doc.model_dump(exclude={"rules", "guideline_lines", "order_overrides"})
    for name in _PATIENT_FIELDS:  # written only when given: older files keep their checksums
        if not content[name]:
            del content[name]
    own_lines = [line for line in lines if line.modality == doc.key]
    own_overrides = [override for override in overrides if override.modality == doc.key]
    if own_lines:
        content["guideline_lines"] = [
            {"when": condition_to_data(line.condition), "label": line.label, "source": line.source}
            for line in own_lines
        ]
    if own_overrides:
        content["order_overrides"] = [
            {"when": condition_to_data(item.condition), "before": item.before, "why": item.why}
            for item in own_overrides
        ]
    return content


def display_aids_from_content(
    content: Mapping[str, Any],
) -> tuple[tuple[GuidelineLine, ...], tuple[OrderOverride, ...]]:
    """The guideline lines and order overrides of a stored rule set's content (RuleSet.content).

    For building a CompiledRuleSet from the database: the rule rows hold the rules, the content
    holds these (already validated and resolved when the file was loaded).
    """
    lines: list[GuidelineLine] = []
    overrides: list[OrderOverride] = []
    for modality in content.get("modalities", ()):
        key = modality["key"]
        for line in modality.get("guideline_lines", ()):
            lines.append(GuidelineLine(key, parse_condition(line["when"]), line["label"], line["source"]))
        for item in modality.get("order_overrides", ()):
            overrides.append(OrderOverride(key, parse_condition(item["when"]), item["before"], item["why"]))
    return tuple(lines), tuple(overrides)


def checksum_of(content: Mapping[str, Any]) -> str:
    """SHA-256 of the content in canonical JSON: the same knowledge base always has the same sum.

    The set names (SET_KEYS) are left out: the conditions hold their members, so the sum covers
    everything the engine reads."""
    covered = {key: value for key, value in content.items() if key not in SET_KEYS}
    return hashlib.sha256(json.dumps(covered, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def without_tests(content: Mapping[str, Any]) -> dict[str, Any]:
    """The content without its golden cases: what rule sets published before they travelled with
    the rules stored, and so what their checksum covers."""
    return {key: value for key, value in content.items() if key != "tests"}


def compile_content(content: Mapping[str, Any], info: RuleSetInfo | None = None) -> CompiledRuleSet:
    """A compiled rule set from stored content alone (a draft's or any version's), without its rows:
    for golden runs, impact analysis and diffs of versions that are not in force."""
    modalities = [
        ModalitySpec(m["key"], m["name"], m["category"], tuple(m["intents"]), m["display_order"])
        for m in content.get("modalities", ())
    ]
    rules = [
        RuleSpec(
            rule_id=r["rule_id"],
            modality=r["modality"],
            kind=r["kind"],
            title=r["title"],
            condition=parse_condition(r["condition"]),
            reason=r["reason"],
            source=r["source"],
            evidence=r["evidence"],
            verification=r["verification"],
            verification_note=r.get("verification_note", ""),
            if_unknown=r.get("if_unknown", "hold"),
        )
        for r in content.get("rules", ())
    ]
    lines, overrides = display_aids_from_content(content)
    info = info or RuleSetInfo(str(content.get("version", "")), None, checksum_of(content))
    return CompiledRuleSet(info, modalities, rules, lines, overrides)
