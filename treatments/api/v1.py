"""The /api/v1/ edge: keep v1 true to its published document while the server holds contract 1.2.

The document is saved as published (openapi/v1.yaml and v1.json, generated at commit c19f7d3) and is
the only source of what v1 accepts: request bodies are checked against its schemas before the 1.2
validation runs, so a 1.2-only fact, a 1.2 enum value or a string portal-vein thrombosis is refused
as any unknown input was in v1. Answers are reduced to what the document allows: the 15 v1
modalities, v1 facts in `missing_facts` and cautions' `facts`, portal-vein thrombosis as a boolean.

Unknown is never silent (docs/contract.md 4.1): an option whose decision hinges on a 1.2-only fact
keeps its status (needs_data stays needs_data) and gets a `not_checked` caution naming those facts
in words; an outcome that chose a 1.2 option says so in its plan text and cannot be overwritten
through v1.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError as SchemaError  # type: ignore[import-untyped]

from treatments import selectors
from treatments.rules.profile import V1_BOOLEAN_VALUES, fact_label
from treatments.rules.serialize import as_contract_1_1, result_to_dict
from treatments.rules.vocabulary import CATEGORIES_V1, FACT_NAMES_V1, MODALITY_KEYS_V1

OPENAPI_DIR: Final = Path(__file__).parent / "openapi"
V1_YAML: Final = OPENAPI_DIR / "v1.yaml"
V1_JSON: Final = OPENAPI_DIR / "v1.json"
V1_FACTS: Final = frozenset(FACT_NAMES_V1)
V1_MODALITIES: Final = frozenset(MODALITY_KEYS_V1)
V1_CATEGORIES: Final = frozenset(CATEGORIES_V1)
SUNSET: Final = "Tue, 30 Jun 2027 23:59:59 GMT"
V2_DOCS: Final = "/api/v2/docs/"

ErrorItem = dict[str, Any]
Loc = tuple[str | int, ...]


# --- requests: checked against the saved document ---------------------------------------------------


@functools.cache
def _components() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(V1_JSON.read_text(encoding="utf-8"))
    return document["components"]  # type: ignore[no-any-return]


@functools.cache
def _validator(component: str) -> Draft202012Validator:
    schema = {"$ref": f"#/components/schemas/{component}", "components": _components()}
    return Draft202012Validator(schema)


def request_errors(component: str, data: Any, prefix: Loc = ()) -> list[ErrorItem]:
    """What the v1 document's schema `component` refuses in `data`, one error per field path."""
    errors: list[ErrorItem] = []
    for error in _validator(component).iter_errors(data):
        errors += _items(error, [*prefix, *error.absolute_path])
    return sorted(errors, key=lambda item: [str(part) for part in item["loc"]])


def _items(error: SchemaError, loc: list[Any]) -> list[ErrorItem]:
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        return [
            {"loc": [*loc, key], "msg": "Extra inputs are not permitted"}
            for key in error.instance
            if key not in known
        ]
    return [{"loc": loc, "msg": _message(error)}]


def _message(error: SchemaError) -> str:
    if error.validator in ("anyOf", "oneOf") and error.context:
        error = min(error.context, key=lambda sub: (len(sub.absolute_path), sub.validator == "type"))
    return error.message[:300]


def combined(errors: list[ErrorItem], extra: list[ErrorItem]) -> list[ErrorItem]:
    """The 1.2 validation's errors (worded as v1 worded them), then what only v1's document refuses."""
    return errors + [item for item in extra if not any(_related(item["loc"], e["loc"]) for e in errors)]


def _related(one: list[Any], other: list[Any]) -> bool:
    shorter = min(len(one), len(other))
    return list(one[:shorter]) == list(other[:shorter])


def merged_profile(stored: Mapping[str, Any], sent: Mapping[str, Any]) -> dict[str, Any]:
    """A v1 profile sent to replace a stored one, keeping what v1 cannot say: the 1.2-only facts
    already recorded, and a recorded branch or main thrombosis when v1 sends `true` (which means
    either)."""
    merged = {name: value for name, value in stored.items() if name not in V1_FACTS}
    merged.update(sent)
    for name, meaning in V1_BOOLEAN_VALUES.items():
        if merged.get(name) is True and stored.get(name) not in (None, meaning[False]):
            merged[name] = stored[name]
    return merged


# --- answers: only what the document allows ---------------------------------------------------------


def eligibility_dict(result: Any) -> dict[str, Any]:
    """A fresh evaluation in v1's shape (serialize.as_contract_1_1), then the 1.2 facts in words."""
    body = result_to_dict(as_contract_1_1(result))
    body["options"] = options(body["options"])
    return body


def options(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Options (fresh or stored, contract 1.1 or 1.2) as v1 shows them."""
    return [_option(item) for item in items if item.get("modality") in V1_MODALITIES]


def _option(option: Mapping[str, Any]) -> dict[str, Any]:
    shown = {key: value for key, value in option.items() if key != "guideline_line"}
    shown["reasons"] = [{**reason, "values": _values(reason["values"])} for reason in option["reasons"]]
    shown["missing_facts"] = [name for name in option["missing_facts"] if name in V1_FACTS]
    cautions = [_caution(caution) for caution in option["cautions"]]
    beyond = [name for name in option["missing_facts"] if name not in V1_FACTS]
    if beyond:
        cautions += _beyond_v1(option, beyond)
    shown["cautions"] = cautions
    return shown


def _values(values: Mapping[str, Any]) -> dict[str, Any]:
    shown = dict(values)
    for name, meaning in V1_BOOLEAN_VALUES.items():
        if isinstance(shown.get(name), str):
            shown[name] = shown[name] != meaning[False]
    return shown


def _caution(caution: Mapping[str, Any]) -> dict[str, Any]:
    beyond = [name for name in caution["facts"] if name not in V1_FACTS]
    if not beyond:
        return dict(caution)
    return {
        **caution,
        "facts": [name for name in caution["facts"] if name in V1_FACTS],
        "text": f"{caution['text']} (Also depends on {_words(beyond)}: {_ONLY_V2}.)",
    }


def _beyond_v1(option: Mapping[str, Any], beyond: list[str]) -> list[dict[str, Any]]:
    """One `not_checked` caution per rule left unknown by a 1.2-only fact, naming the facts."""
    found = []
    for reason in option["reasons"]:
        facts = [name for name in reason["values"] if name in beyond]
        if reason["outcome"] == "unknown" and facts:
            found.append(_not_checked(reason["rule_id"], facts))
    return found or [_not_checked(f"{option['modality']}.facts_beyond_v1", beyond)]


def _not_checked(rule_id: str, facts: list[str]) -> dict[str, Any]:
    return {
        "rule_id": rule_id,
        "type": "not_checked",
        "facts": [],
        "text": f"Not checked: {_words(facts)} unknown ({_ONLY_V2}); the option cannot be decided "
        "without them.",
    }


_ONLY_V2 = "facts of contract 1.2 that only /api/v2/ can send and show"


def _words(names: Iterable[str]) -> str:
    return ", ".join(f"{fact_label(name)} ({name})" for name in names)


def profile(facts: Mapping[str, Any]) -> dict[str, Any]:
    """A stored profile with the v1 facts only, portal-vein thrombosis as v1's boolean."""
    return _values({name: value for name, value in facts.items() if name in V1_FACTS})


def hidden_choices(outcome: Mapping[str, Any]) -> list[str]:
    return [key for key in outcome["chosen_modalities"] if key not in V1_MODALITIES]


def outcome(item: Mapping[str, Any]) -> dict[str, Any]:
    """An outcome in v1: the v1 options chosen, and any 1.2 option chosen named in the plan text
    (v1 published no next steps: they are left out)."""
    item = {key: value for key, value in item.items() if key != "next_steps"}
    hidden = hidden_choices(item)
    if not hidden:
        return dict(item)
    names = selectors.modality_names()
    listed = ", ".join(f"{names.get(key, key)} ({key})" for key in hidden)
    return {
        **item,
        "chosen_modalities": [key for key in item["chosen_modalities"] if key in V1_MODALITIES],
        "statuses": {key: value for key, value in item["statuses"].items() if key in V1_MODALITIES},
        "plan": f"{item['plan']}\n\n[Also chosen, shown only by /api/v2/: {listed}.]",
    }


def to_obtain(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Data to obtain: v1 facts for v1 options (the options' cautions name the 1.2 facts)."""
    shown = []
    for item in items:
        modalities = [key for key in item["modalities"] if key in V1_MODALITIES]
        if item["fact"] in V1_FACTS and modalities:
            shown.append({**item, "modalities": modalities})
    return shown


def fact_changes(items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**item, "old": _value(item["fact"], item["old"]), "new": _value(item["fact"], item["new"])}
        for item in items
        if item["fact"] in V1_FACTS
    ]


def _value(name: str, value: Any) -> Any:
    return _values({name: value})[name]


_NOT_IN_V1: Final = frozenset({"warnings", "schema_version", "guideline_line", "fact_sources"})
# Each key of an MDT answer that can hold 1.2 values, and how v1 shows it.
_FIELDS: Final = {
    "profile": lambda value: profile(value) if isinstance(value, dict) else value,
    "data_to_obtain": to_obtain,
    "reviews": lambda items: [item for item in items if item["modality"] in V1_MODALITIES],
}


def body(data: Any) -> Any:
    """Any MDT answer (case, evaluation, changes, summary, worklist, outcome, meeting, conflict) as
    v1 shows it: walks the JSON and rewrites the fields that can hold 1.2 values."""
    if isinstance(data, list):
        return [body(item) for item in data]
    if not isinstance(data, dict):
        return data
    if "chosen_modalities" in data and "plan" in data:
        data = outcome(data)
    if "concordance" in data and "cases" in data:  # a meeting: v1 published it without a version
        data = {key: value for key, value in data.items() if key != "version"}
    shown: dict[str, Any] = {}
    for key, value in data.items():
        if key in _NOT_IN_V1:
            continue
        if key in _FIELDS and value is not None:
            shown[key] = _FIELDS[key](value)
        elif key == "options" and isinstance(value, list):
            shown[key] = _options_or_changes(value)
        elif key == "facts" and isinstance(value, list) and all(_is_change(v) for v in value):
            shown[key] = fact_changes(value)
        else:
            shown[key] = body(value)
    return shown


def _is_change(item: Any) -> bool:
    return isinstance(item, dict) and {"fact", "old", "new"} <= set(item)


def _options_or_changes(items: list[Any]) -> list[Any]:
    if all(isinstance(item, dict) and "reasons" in item for item in items):
        return options(items)
    return [body(item) for item in items if item.get("modality") in V1_MODALITIES]


def deprecation_headers() -> dict[str, str]:
    """RFC 8594 (Sunset) and the Deprecation header: v1 is deprecated; its successor is v2."""
    return {
        "Deprecation": "true",
        "Sunset": SUNSET,
        "Link": f'<{V2_DOCS}>; rel="successor-version", <{V2_DOCS}>; rel="deprecation"',
    }
