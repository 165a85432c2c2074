"""Readable validation errors: pydantic's errors as `[{"loc": [...], "msg": "..."}]` in words for people.

One message per pydantic error type that an input can raise, so that no user ever reads pydantic's
internal wording (tests/test_profile.py fails if an error type reaches the fallback). Inside a
patient profile the words are about facts, and null is a valid answer (unknown).

This module knows nothing of particular inputs: the profile registers its facts and units, and an
input model that uses a `pattern` registers what the pattern asks for in words
(`register_pattern_message`), so that the engine holds no regexes of the MDT forms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

_MESSAGES: dict[str, str] = {
    "extra_forbidden": "is not a known field",
    "missing": "is required",
    "literal_error": "must be one of: {choices}",
    "bool_type": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "list_type": "must be a list",
    "greater_than_equal": "must be at least {ge}{unit}",
    "greater_than": "must be more than {gt}{unit}",
    "less_than_equal": "must be at most {le}{unit}",
    "less_than": "must be less than {lt}{unit}",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "int_from_float": "must be a whole number",
    "string_type": "must be text",
    "string_too_short": "must not be empty",
    "string_too_long": "must be at most {max_length} characters",
    "string_pattern_mismatch": "is not in the expected form",
    "too_long": "must have at most {max_length} items",
    "date_type": "must be a date as YYYY-MM-DD",
    "date_from_datetime_parsing": "must be a date as YYYY-MM-DD",
    "date_parsing": "must be a date as YYYY-MM-DD",
    "value_error": "{error}",
    "invalid_key": "field names must be text",
    "json_invalid": "is not valid JSON ({error})",
    # Raised by the profile's consistency checks (profile.py), already in words.
    "inconsistent_facts": "{message}",
}
_FACT_MESSAGES: dict[str, str] = {
    "extra_forbidden": "is not a known fact (see contract.md section 1 for the list of facts)",
    "bool_type": "must be true or false (or null when unknown)",
    "int_type": "must be a whole number (or null when unknown)",
    "float_type": "must be a number (or null when unknown)",
    "list_type": "must be a list (an empty list means none)",
    "model_type": "must be an object of facts",
    "model_attributes_type": "must be an object of facts",
    "dict_type": "must be an object of facts",
    "invalid_key": "fact names must be text",
}
# A list fact may say more precisely what its items are (e.g. "a list of modality keys").
_LIST_MESSAGES: dict[str, str] = {}
_PROFILE_KEYS = frozenset({"profile", "profiles"})
# What each pattern used in an input model asks for, in words (see register_pattern_message).
_PATTERN_MESSAGES: dict[str, str] = {r"\S": "must not be blank"}
_FACT_MODELS: set[str] = set()
_UNITS: dict[str, str] = {}


def register_facts(model_name: str, units: Mapping[str, str], list_messages: Mapping[str, str]) -> None:
    """Make errors of `model_name` read as errors about facts, with each fact's unit in bounds.

    `list_messages` says, per list fact, what a wrong type should be told it must be.
    """
    _FACT_MODELS.add(model_name)
    _UNITS.update(units)
    _LIST_MESSAGES.update(list_messages)


def register_pattern_message(pattern: str, message: str) -> None:
    """Say in words what a `pattern` of an input model asks for ("may hold only letters ...")."""
    _PATTERN_MESSAGES[pattern] = message


def error_list(exc: ValidationError, prefix: tuple[str | int, ...] = ()) -> list[dict[str, Any]]:
    """Turn a pydantic ValidationError into [{"loc": [...], "msg": "..."}] with readable messages."""
    whole_profile = exc.title in _FACT_MODELS
    errors = []
    for error in exc.errors(include_url=False):
        loc = list(prefix) + list(error["loc"])
        about_facts = whole_profile or any(part in _PROFILE_KEYS for part in loc)
        errors.append({"loc": loc, "msg": readable_message(error, about_facts=about_facts)})
    return errors


def readable_message(error: Any, *, about_facts: bool = True) -> str:
    kind = error["type"]
    fact = next((part for part in reversed(error["loc"]) if isinstance(part, str)), "")
    template = _fact_template(kind, fact) if about_facts else None
    template = template or _MESSAGES.get(kind)
    if template is None:
        return str(error["msg"])
    ctx = {key: _plain(value) for key, value in (error.get("ctx") or {}).items()}
    unit = _UNITS.get(fact, "")
    ctx["unit"] = f" {unit}" if unit else ""
    if kind == "literal_error":
        ctx["choices"] = str(ctx.get("expected", "")).replace("'", "")
    if kind == "string_pattern_mismatch":
        return _PATTERN_MESSAGES.get(str(ctx.get("pattern")), template)
    if kind == "string_too_short" and ctx.get("min_length", 1) > 1:
        return f"must be at least {ctx['min_length']} characters"
    return template.format(**ctx)


def _fact_template(kind: str, fact: str) -> str | None:
    if kind == "list_type" and fact in _LIST_MESSAGES:
        return _LIST_MESSAGES[fact]
    return _FACT_MESSAGES.get(kind)


def _plain(value: Any) -> Any:
    """100.0 -> 100, so that messages read "at most 100 %"."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def has_readable_message(error_type: str) -> bool:
    return error_type in _MESSAGES
