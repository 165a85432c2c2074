"""The difference between two versions of the knowledge base (HL7 CRMI's `$artifact-diff`).

Pure: it compares two stored contents (RuleSet.content, any two versions, drafts included). The API,
the draft page and `manage.py ruleset_diff` all show `ruleset_diff(a, b).as_data()`, so they give
the same answer. Semantic changes come first; a changed condition is shown as canonical JSON and in
plain English, both sides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .conditions import describe, parse_condition
from .content import MODALITY_FIELDS as CONTENT_MODALITY_FIELDS
from .content import RULE_FIELDS as CONTENT_RULE_FIELDS

RULE_FIELDS = (*CONTENT_RULE_FIELDS, "position")
SEMANTIC_FIELDS = frozenset({"kind", "condition", "if_unknown"})
ORDER_FIELDS = frozenset({"position"})
MODALITY_FIELDS = (*CONTENT_MODALITY_FIELDS, "guideline_lines", "order_overrides")
METADATA_FIELDS = ("version", "title", "notes")
CLASS_ORDER = {"semantic": 0, "text": 1, "order": 2}
BUMPS = ("", "patch", "minor", "major")  # from no change to the largest step
ACTIONABLE = frozenset({"candidate", "trial_only"})


def larger_bump(*bumps: str) -> str:
    return max(bumps, key=BUMPS.index, default="")


def bump_for_status_change(before: str | None, after: str | None) -> str:
    """CRMI's major: a change of whether a recommendation applies (actionable <-> not); minor: any
    other status change (to or from needs_data)."""
    if before == after:
        return ""
    if (before in ACTIONABLE) != (after in ACTIONABLE):
        return "major"
    return "minor"


@dataclass
class RuleSetDiff:
    from_version: str
    to_version: str
    rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    modalities: dict[str, list[Any]] = field(default_factory=dict)
    golden: dict[str, list[Any]] = field(default_factory=dict)
    sets: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    required_bump: str = ""

    @property
    def is_empty(self) -> bool:
        parts = (*self.rules.values(), *self.modalities.values(), *self.golden.values())
        set_parts = (self.sets.get(name) for name in ("added", "removed", "changed"))
        return not any(parts) and not any(set_parts) and not self.metadata

    def as_data(self) -> dict[str, Any]:
        return {
            "from": self.from_version,
            "to": self.to_version,
            "required_bump": self.required_bump,
            "empty": self.is_empty,
            "rules": self.rules,
            "modalities": self.modalities,
            "golden": self.golden,
            "sets": self.sets,
            "metadata": self.metadata,
        }


def ruleset_diff(a: Mapping[str, Any], b: Mapping[str, Any]) -> RuleSetDiff:
    """What changed from content `a` to content `b`."""
    names = {m["key"]: m["name"] for m in (*a.get("modalities", ()), *b.get("modalities", ()))}
    diff = RuleSetDiff(str(a.get("version", "")), str(b.get("version", "")))
    diff.rules = _rules(a, b, names)
    diff.modalities = _modalities(a, b)
    diff.golden = _golden(a, b)
    diff.sets = _sets(a, b)
    _mark_rules_of_changed_sets(diff)
    # The version label differs between any two versions: it is not a change of content.
    diff.metadata = {
        name: {"from": a.get(name, ""), "to": b.get(name, "")}
        for name in METADATA_FIELDS
        if name != "version" and a.get(name, "") != b.get(name, "")
    }
    diff.required_bump = _bump(diff)
    return diff


def _rule_index(content: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    index: dict[tuple[str, str], dict[str, Any]] = {}
    positions: dict[str, int] = {}
    for rule in content.get("rules", ()):
        positions[rule["modality"]] = positions.get(rule["modality"], 0) + 1
        index[(rule["modality"], rule["rule_id"])] = {**rule, "position": positions[rule["modality"]]}
    return index


def _text(condition: Any, names: Mapping[str, str]) -> str:
    try:
        return describe(parse_condition(condition), names)
    except ValueError:
        return ""


def _rule_summary(rule: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    return {
        "modality": rule["modality"],
        "rule_id": rule["rule_id"],
        "kind": rule["kind"],
        "title": rule["title"],
        "condition": rule["condition"],
        "condition_text": _text(rule["condition"], names),
        "verification": rule.get("verification", ""),
    }


def _rules(
    a: Mapping[str, Any], b: Mapping[str, Any], names: Mapping[str, str]
) -> dict[str, list[dict[str, Any]]]:
    before, after = _rule_index(a), _rule_index(b)
    added = [_rule_summary(after[key], names) for key in sorted(after.keys() - before.keys())]
    removed = [_rule_summary(before[key], names) for key in sorted(before.keys() - after.keys())]
    changed = []
    for key in sorted(before.keys() & after.keys()):
        old, new = before[key], after[key]
        fields: dict[str, dict[str, Any]] = {}
        for name in RULE_FIELDS:
            if old.get(name) != new.get(name):
                fields[name] = {"from": old.get(name), "to": new.get(name)}
                if name == "condition":
                    fields[name]["from_text"] = _text(old[name], names)
                    fields[name]["to_text"] = _text(new[name], names)
        if fields:
            kind = (
                "semantic"
                if SEMANTIC_FIELDS & fields.keys()
                else "order"
                if fields.keys() <= ORDER_FIELDS
                else "text"
            )
            changed.append(
                {
                    "modality": key[0],
                    "rule_id": key[1],
                    "title": new["title"],
                    "class": kind,
                    "fields": fields,
                }
            )
    changed.sort(key=lambda item: (CLASS_ORDER[item["class"]], item["modality"], item["rule_id"]))
    return {"added": added, "removed": removed, "changed": changed}


def _modalities(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, list[Any]]:
    before = {m["key"]: m for m in a.get("modalities", ())}
    after = {m["key"]: m for m in b.get("modalities", ())}
    changed = []
    for key in sorted(before.keys() & after.keys()):
        fields = {
            name: {"from": before[key].get(name), "to": after[key].get(name)}
            for name in MODALITY_FIELDS
            if before[key].get(name) != after[key].get(name)
        }
        if fields:
            changed.append({"modality": key, "fields": fields})
    return {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": changed,
    }


def _golden(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, list[Any]]:
    before = {case["id"]: case for case in a.get("tests", ())}
    after = {case["id"]: case for case in b.get("tests", ())}
    expectation_changes = []
    other_changes = []
    for case_id in sorted(before.keys() & after.keys()):
        old, new = before[case_id], after[case_id]
        for modality in sorted(old["expect"].keys() | new["expect"].keys()):
            was, now = old["expect"].get(modality), new["expect"].get(modality)
            if was != now:
                expectation_changes.append({"case": case_id, "modality": modality, "from": was, "to": now})
        changed = [
            name
            for name in ("profile", "missing_facts", "title", "story", "why")
            if old.get(name) != new.get(name)
        ]
        if changed:
            other_changes.append({"case": case_id, "fields": changed})
    return {
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "expectation_changes": expectation_changes,
        "changed": other_changes,
    }


def _sets(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """The named sets whose members changed, were added or removed, each with every rule that
    uses it (on either side). The stored conditions hold the sets written out, so without this a
    changed set shows only as condition changes of its rules. A rule set stored before the sets
    were kept has none recorded: `recorded` is then false and nothing is listed."""
    recorded = "sets" in a and "sets" in b
    result: dict[str, Any] = {"recorded": recorded, "added": [], "removed": [], "changed": []}
    if not recorded:
        return result
    before, after = a["sets"], b["sets"]
    titles = {(r["modality"], r["rule_id"]): r["title"] for r in (*a.get("rules", ()), *b.get("rules", ()))}

    def users(name: str) -> list[dict[str, str]]:
        keys: list[tuple[str, str]] = []
        for content in (b, a):  # the newer use first; a rule that stopped using it is still listed
            for modality, rule_id in (content.get("set_usage") or {}).get(name, ()):
                if (modality, rule_id) not in keys:
                    keys.append((modality, rule_id))
        return [{"modality": m, "rule_id": r, "title": titles.get((m, r), "")} for m, r in keys]

    for name in sorted(after.keys() - before.keys()):
        result["added"].append({"set": name, "members": after[name], "rules": users(name)})
    for name in sorted(before.keys() - after.keys()):
        result["removed"].append({"set": name, "members": before[name], "rules": users(name)})
    for name in sorted(before.keys() & after.keys()):
        old, new = list(before[name]), list(after[name])
        if old != new:
            result["changed"].append(
                {
                    "set": name,
                    "from": old,
                    "to": new,
                    "members_added": [member for member in new if member not in old],
                    "members_removed": [member for member in old if member not in new],
                    "rules": users(name),
                }
            )
    return result


def _mark_rules_of_changed_sets(diff: RuleSetDiff) -> None:
    """Each changed rule names the changed sets it uses: the reason its condition changed."""
    via: dict[tuple[str, str], list[str]] = {}
    for item in diff.sets["changed"]:
        for rule in item["rules"]:
            via.setdefault((rule["modality"], rule["rule_id"]), []).append(item["set"])
    for change in diff.rules["changed"]:
        change["sets"] = via.get((change["modality"], change["rule_id"]), [])


def _bump(diff: RuleSetDiff) -> str:
    """The least version step the content changes need (the impact report adds what stored cases
    show): major when an option is added or removed or a golden expectation turns actionable <->
    not; minor for a semantic rule change; patch for text, order and metadata."""
    bumps = [""]
    if diff.modalities["added"] or diff.modalities["removed"]:
        bumps.append("major")
    bumps += [bump_for_status_change(c["from"], c["to"]) for c in diff.golden["expectation_changes"]]
    if diff.rules["added"] or diff.rules["removed"]:
        bumps.append("minor")
    bumps += ["minor" if c["class"] == "semantic" else "patch" for c in diff.rules["changed"]]
    if diff.modalities["changed"] or diff.metadata or diff.golden["added"] or diff.golden["removed"]:
        bumps.append("patch")
    if diff.golden["changed"]:
        bumps.append("patch")
    # A set change moves behaviour only through the conditions of its rules (counted above).
    if diff.sets["added"] or diff.sets["removed"] or diff.sets["changed"]:
        bumps.append("patch")
    return larger_bump(*bumps)


def diff_lines(data: Mapping[str, Any]) -> list[str]:
    """The diff (as_data) in lines of text for the command line: semantic changes first."""
    lines = [f"Rule set {data['from']} -> {data['to']}: required bump {data['required_bump'] or 'none'}"]
    if data["empty"]:
        return [*lines, "No changes."]
    sets = data.get("sets") or {}
    for item in sets.get("changed", ()):
        members = [f"+{m}" for m in item["members_added"]] + [f"-{m}" for m in item["members_removed"]]
        lines.append(f"[set changed] {item['set']}: {' '.join(members) or 'order of members'}")
        lines.append(f"    from: {', '.join(item['from'])}")
        lines.append(f"      to: {', '.join(item['to'])}")
        lines += [f"    used by {r['modality']} {r['rule_id']} ({r['title']})" for r in item["rules"]]
    for what in ("added", "removed"):
        for item in sets.get(what, ()):
            lines.append(f"[set {what}] {item['set']}: {', '.join(item['members'])}")
            lines += [f"    used by {r['modality']} {r['rule_id']} ({r['title']})" for r in item["rules"]]
    rules = data["rules"]
    for item in rules["changed"]:
        via = f" [set {', '.join(item['sets'])}]" if item.get("sets") else ""
        lines.append(f"[{item['class']}] {item['modality']} {item['rule_id']} ({item['title']}){via}")
        for name, change in item["fields"].items():
            if name == "condition":
                lines.append(f"    condition: {change['from_text']}")
                lines.append(f"            -> {change['to_text']}")
            else:
                lines.append(f"    {name}: {change['from']!r} -> {change['to']!r}")
    lines += [
        f"[added] {r['modality']} {r['rule_id']} ({r['kind']}): {r['condition_text']}" for r in rules["added"]
    ]
    lines += [
        f"[removed] {r['modality']} {r['rule_id']} ({r['kind']}): {r['condition_text']}"
        for r in rules["removed"]
    ]
    modalities = data["modalities"]
    lines += [f"[option added] {key}" for key in modalities["added"]]
    lines += [f"[option removed] {key}" for key in modalities["removed"]]
    lines += [f"[option changed] {m['modality']}: {', '.join(m['fields'])}" for m in modalities["changed"]]
    golden = data["golden"]
    lines += [
        f"[golden expectation] {c['case']} {c['modality']}: {c['from']} -> {c['to']}"
        for c in golden["expectation_changes"]
    ]
    lines += [f"[golden added] {case}" for case in golden["added"]]
    lines += [f"[golden removed] {case}" for case in golden["removed"]]
    lines += [f"[golden changed] {c['case']}: {', '.join(c['fields'])}" for c in golden["changed"]]
    lines += [f"[metadata] {name}: {c['from']!r} -> {c['to']!r}" for name, c in data["metadata"].items()]
    return lines
