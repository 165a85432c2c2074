"""Editing a rule set's content in the app: one rule or one modality at a time, validated by the
loader itself, and exported back to YAML that loads to the same checksum.

Pure Python, no Django. A rule set stores its normalised content (content.py: sets resolved, common
rules copied into each modality they apply to, `$modality` replaced by the key). That content is a
valid knowledge-base document once its rules are put back under their modalities, so an edit is:
content -> document -> change one rule or modality -> `parse_data` (every check of the loader, with
its messages) -> a new KnowledgeBase with its own checksum. Nothing here has a second set of rules
about what a rule may hold.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError

from .conditions import condition_errors, condition_to_data, describe, parse_condition
from .content import MODALITY_FIELDS as MODALITY_FIELDS
from .content import RULE_FIELDS as RULE_FIELDS
from .content import SET_KEYS, checksum_of
from .document import KnowledgeBase, KnowledgeBaseError, Problem, parse_data
from .profile import FACT_NAMES
from .vocabulary import MODALITY_KEYS

# Problems that belong to no field of the form are shown above it under this key (as Django does).
GENERAL = "__all__"

_RULE_CONTENT_ONLY = ("rule_id", "modality")
_LOADER_NAMES = {"id": "rule_id", "when": "condition"}


@dataclass(frozen=True)
class EditResult:
    """The outcome of one edit: the knowledge base it makes, or the loader's problems by field."""

    knowledge_base: KnowledgeBase | None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.knowledge_base is not None


# --- content back to a document, and to YAML ------------------------------------------------------


def document_from_content(content: Mapping[str, Any]) -> dict[str, Any]:
    """The knowledge-base document of a stored content: `parse_data` of it gives the same checksum.

    Every rule goes back under its modality in the stored order (common rules included, as the
    copies the rule set holds), with its condition as stored (sets already resolved). Top-level keys
    other than the modalities and rules (version, title, notes, golden cases, ...) pass through.
    Keys come in the order of the hand-written file, whatever order the database kept them in
    (PostgreSQL's jsonb does not keep it).
    """
    sets = content.get("sets") or {}
    users = _set_users(content)
    rules_by_modality: dict[str, list[dict[str, Any]]] = {}
    for rule in content.get("rules", ()):
        written = _rule_document(rule)
        names = users.get((rule["modality"], rule["rule_id"]))
        if names:
            written["when"] = _named_sets(
                written["when"], {name: sets[name] for name in names if name in sets}
            )
        rules_by_modality.setdefault(rule["modality"], []).append(written)
    passed = {key: value for key, value in content.items() if key not in ("modalities", "rules", *SET_KEYS)}
    if sets:  # by name: PostgreSQL's jsonb does not keep the written order
        passed["sets"] = {name: list(sets[name]) for name in sorted(sets)}
    document = _ordered(copy.deepcopy(passed), _TOP_ORDER)
    document["modalities"] = [
        {**_modality_document(modality), "rules": rules_by_modality.get(modality["key"], [])}
        for modality in content.get("modalities", ())
    ]
    if "tests" in document:  # the golden cases read best after the rules they test
        document["tests"] = [_golden_document(case) for case in document.pop("tests")]
    return document


def _set_users(content: Mapping[str, Any]) -> dict[tuple[str, str], list[str]]:
    """(modality, rule_id) -> the names of the sets that rule was written with."""
    users: dict[tuple[str, str], list[str]] = {}
    for name, rules in (content.get("set_usage") or {}).items():
        for modality, rule_id in rules:
            users.setdefault((modality, rule_id), []).append(name)
    return users


def _named_sets(node: Any, sets: Mapping[str, list[str]]) -> Any:
    """The condition with each `in`/`not_in` list that is exactly one of these sets' members
    written as the set's name again, as the rule was written: loading it gives the same rule and
    the same record of which rules use which set."""
    if isinstance(node, list):
        return [_named_sets(item, sets) for item in node]
    if not isinstance(node, dict):
        return node
    named: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("in", "not_in") and isinstance(value, list):
            named[key] = next((name for name, members in sets.items() if list(members) == value), value)
        else:
            named[key] = _named_sets(value, sets)
    return named


def _modality_document(modality: Mapping[str, Any]) -> dict[str, Any]:
    written = _ordered(copy.deepcopy(dict(modality)), ("key", *MODALITY_FIELDS))
    for name, order in _AID_ORDER.items():
        if name in written:
            written[name] = [_ordered(item, order) for item in written.pop(name)]
    return written


_TOP_ORDER = ("version", "title", "notes", "sets")
_AID_ORDER = {"guideline_lines": ("when", "label", "source"), "order_overrides": ("when", "before", "why")}
_GOLDEN_ORDER = ("id", "title", "story", "profile", "expect", "missing_facts", "why")


def _golden_document(case: Mapping[str, Any]) -> dict[str, Any]:
    """A golden case with its facts in contract order and its modalities in the contract's."""
    written = _ordered(case, _GOLDEN_ORDER)
    for name, order in (("profile", FACT_NAMES), ("expect", MODALITY_KEYS), ("missing_facts", MODALITY_KEYS)):
        if isinstance(written.get(name), Mapping):
            written[name] = _ordered(written[name], tuple(order))
    return written


def _ordered(mapping: Mapping[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    """The mapping with the named keys first, in that order, then the others as they come."""
    return {**{key: mapping[key] for key in order if key in mapping}, **mapping}


def _rule_document(rule: Mapping[str, Any]) -> dict[str, Any]:
    written = {"id": rule["rule_id"]}
    for name in (*RULE_FIELDS, *rule):
        if name == "condition":
            written["when"] = _canonical_condition(rule[name])
        elif name in rule and name not in _RULE_CONTENT_ONLY:
            written[name] = copy.deepcopy(rule[name])
    return written


def _canonical_condition(condition: Any) -> Any:
    """A valid condition with its keys in the written order (fact first); anything else as it is."""
    try:
        return condition_to_data(parse_condition(condition))
    except (ValidationError, RecursionError):
        return copy.deepcopy(condition)


def content_to_yaml(content: Mapping[str, Any]) -> str:
    """The content as a knowledge-base YAML file that `load_knowledge_base` reads back unchanged."""
    version = content.get("version", "")
    header = (
        f"# NETcare knowledge base {version}, exported from the app. Common rules appear under each\n"
        "# modality they apply to, as the rule set stores them, and a rule uses a named set where it\n"
        "# was written with one; loading this file gives the rule set's checksum.\n\n"
    )
    return header + yaml.dump(
        _flow_conditions(document_from_content(content)),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )


class _Flow(dict[str, Any]):
    """A mapping written on one line, as conditions are in the hand-written file."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


def _represent_text(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(_Flow, _represent_flow)
_Dumper.add_representer(str, _represent_text)


def _flow_conditions(document: dict[str, Any]) -> dict[str, Any]:
    for modality in document["modalities"]:
        for item in [
            *modality["rules"],
            *modality.get("guideline_lines", ()),
            *modality.get("order_overrides", ()),
        ]:
            item["when"] = _flow(_canonical_condition(item["when"]))
    return document


def _flow(node: Any) -> Any:
    """Comparisons on one line; all/any/not keep one child per line when they nest further."""
    if isinstance(node, list):
        return [_flow(item) for item in node]
    if not isinstance(node, dict):
        return node
    if all(not isinstance(value, dict | list) or _is_flat_list(value) for value in node.values()):
        return _Flow(node)
    return {key: _flow(value) for key, value in node.items()}


def _is_flat_list(value: Any) -> bool:
    return isinstance(value, list) and not any(isinstance(item, dict | list) for item in value)


# --- editing one rule or one modality -------------------------------------------------------------


def condition_from_text(text: str) -> Any:
    """A condition typed as YAML or JSON (JSON is YAML); raises ValueError with a message for the field."""
    if not text.strip():
        raise ValueError("write the condition, e.g. {fact: platelets_10e9_l, ge: 75}")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ValueError(f"not valid YAML or JSON{where}: {getattr(exc, 'problem', None) or exc}") from None
    except RecursionError:
        raise ValueError("the condition is nested too deeply") from None


def condition_to_text(condition: Any) -> str:
    """A stored condition as the editor shows it: compact JSON (valid YAML too)."""
    return json.dumps(_canonical_condition(condition), ensure_ascii=False)


def condition_in_words(
    condition: Any, names: Mapping[str, str] | None = None, sets: Mapping[str, list[str]] | None = None
) -> str:
    """The plain-English reading of a condition (conditions.describe); ValueError naming the problems.

    With the rule set's named `sets`, a set name typed in `in`/`not_in` reads as its members."""
    if sets:
        condition = _sets_written_out(condition, sets)
    try:
        return describe(parse_condition(condition), names)
    except ValidationError as exc:
        raise ValueError("; ".join(f"{path}: {message}" for path, message in condition_errors(exc))) from None
    except RecursionError:
        raise ValueError("the condition is nested too deeply") from None


def _sets_written_out(node: Any, sets: Mapping[str, list[str]]) -> Any:
    if isinstance(node, list):
        return [_sets_written_out(item, sets) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: list(sets[value])
        if key in ("in", "not_in") and isinstance(value, str) and value in sets
        else _sets_written_out(value, sets)
        for key, value in node.items()
    }


def rule_fingerprint(content: Mapping[str, Any], *, modality: str, rule_id: str) -> str:
    """A short hash of one rule as stored ("" if there is none): the editor sends back the one it
    showed, so that a save over someone else's newer change of the same rule is caught."""
    rule = next(
        (r for r in content.get("rules", ()) if r["modality"] == modality and r["rule_id"] == rule_id), None
    )
    return checksum_of(rule)[:16] if rule is not None else ""


def edit_rule(
    content: Mapping[str, Any], *, modality: str, rule_id: str, fields: Mapping[str, Any]
) -> EditResult:
    """Change the named fields of one rule of a modality (`condition` is the condition as data)."""
    document = document_from_content(content)
    target = _modality(document, modality)
    rule = next((rule for rule in target["rules"] if rule["id"] == rule_id), None) if target else None
    if rule is None:
        return EditResult(None, {GENERAL: [f"modality {modality} has no rule {rule_id}"]})
    changes = _loader_rule_fields(fields)
    if "when" in changes:
        # The editor shows the condition with its sets written out: a list that is still exactly one
        # of the sets the rule was written with keeps that set's name (and its place in the diff).
        sets = content.get("sets") or {}
        names = _set_users(content).get((modality, rule_id), [])
        changes["when"] = _named_sets(changes["when"], {name: sets[name] for name in names if name in sets})
    rule.update(changes)
    return _validated(document, modality=modality, rule_id=rule_id)


def add_rule(
    content: Mapping[str, Any], *, modality: str, rule_id: str, fields: Mapping[str, Any]
) -> EditResult:
    """Add a rule at the end of a modality's rules."""
    document = document_from_content(content)
    target = _modality(document, modality)
    if target is None:
        return EditResult(None, {GENERAL: [f"the rule set has no modality {modality}"]})
    if any(rule["id"] == rule_id for rule in target["rules"]):
        return EditResult(None, {"rule_id": [f"modality {modality} already has a rule {rule_id}"]})
    target["rules"].append({"id": rule_id, **_loader_rule_fields(fields)})
    return _validated(document, modality=modality, rule_id=rule_id)


def edit_modality(content: Mapping[str, Any], *, key: str, fields: Mapping[str, Any]) -> EditResult:
    """Change the named descriptive fields of one modality (its rules are edited one by one)."""
    document = document_from_content(content)
    target = _modality(document, key)
    if target is None:
        return EditResult(None, {GENERAL: [f"the rule set has no modality {key}"]})
    target.update(_modality_fields(fields))
    return _validated(document, modality=key)


def add_modality(
    content: Mapping[str, Any], *, key: str, fields: Mapping[str, Any], indication: Mapping[str, Any]
) -> EditResult:
    """Add a modality with its first indication rule (the loader wants one in every modality).

    `indication` holds `rule_id` and the rule fields; its problems come back prefixed `indication.`.
    """
    document = document_from_content(content)
    if _modality(document, key) is not None:
        return EditResult(None, {"key": [f"the rule set already has a modality {key}"]})
    rule_id = str(indication.get("rule_id", ""))
    first_rule = {"id": rule_id, **_loader_rule_fields({**indication, "kind": "indication"})}
    document["modalities"].append({"key": key, **_modality_fields(fields), "rules": [first_rule]})
    result = _validated(document, modality=key, rule_id=rule_id, rule_prefix="indication.")
    return result


def _modality(document: dict[str, Any], key: str) -> dict[str, Any] | None:
    return next((modality for modality in document["modalities"] if modality.get("key") == key), None)


def _loader_rule_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    written = {}
    for name, value in fields.items():
        if name == "rule_id":
            continue
        written["when" if name == "condition" else name] = value
    return written


def _modality_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if name != "key"}


def _validated(
    document: dict[str, Any], *, modality: str, rule_id: str = "", rule_prefix: str = ""
) -> EditResult:
    try:
        return EditResult(parse_data(document, "the edit"))
    except KnowledgeBaseError as exc:
        return EditResult(
            None, errors_by_field(exc.problems, modality=modality, rule_id=rule_id, rule_prefix=rule_prefix)
        )
    except RecursionError:
        return EditResult(None, {"condition": ["the condition is nested too deeply"]})


def errors_by_field(
    problems: list[Problem], *, modality: str, rule_id: str = "", rule_prefix: str = ""
) -> dict[str, list[str]]:
    """The loader's problems keyed by the editor's field names.

    A problem of the edited rule goes to its field (`when.all[0].fact` -> `condition`, with the path
    kept in the message); one of the edited modality to its field; anything else (a rule elsewhere
    that the edit broke, e.g. a duplicate display order) to GENERAL, in the loader's own words.
    """
    errors: dict[str, list[str]] = {}
    for problem in problems:
        name, message = _field_of(problem, modality, rule_id, rule_prefix)
        errors.setdefault(name, []).append(message)
    return errors


def _field_of(problem: Problem, modality: str, rule_id: str, rule_prefix: str) -> tuple[str, str]:
    if problem.modality != modality:
        return GENERAL, _located(problem)
    head, _, rest = problem.field.partition(".")
    head, bracket, index = head.partition("[")
    # A new modality's first rule may have no id yet: its fields are told apart by their names.
    first_rule = bool(rule_prefix) and not problem.rule_id and head in ("id", "when", *RULE_FIELDS)
    if (rule_id and problem.rule_id == rule_id) or first_rule:
        name = _LOADER_NAMES.get(head, head) or GENERAL
        detail = problem.field if rest or bracket else ""
        message = f"{detail}: {problem.message}" if detail and name == "condition" else problem.message
        return (rule_prefix + name if name != GENERAL else GENERAL), message
    if not problem.rule_id and head in MODALITY_FIELDS + ("key",):
        return head, problem.message if not rest else f"{problem.field}: {problem.message}"
    return GENERAL, _located(problem)


def _located(problem: Problem) -> str:
    """The problem without the file name (the editor has no file): modality, rule, field, message."""
    return str(problem).removeprefix(f"{problem.file}, ").removeprefix(f"{problem.file}: ")
