"""The condition tree a rule is written in, validated by pydantic, and its three-valued meaning.

A condition is written as in fixtures/README.md: ``{fact: ki67_percent, ge: 10}``,
``{all: [...]}``, ``{any: [...]}``, ``{not: ...}`` or ``{option_status: trial_only}``. Outcomes are
three-valued: True (met), False (not met) and None (unknown), combined with Kleene logic.

This module holds the reference interpreter (`outcome`, `unknown_facts`); engine.py compiles the same
meaning into fast Python and the tests check that the two agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Set
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_serializer,
    model_validator,
)

from .profile import (
    FACT_NAMES,
    V1_BOOLEAN_VALUES,
    fact_choices,
    fact_kind,
    fact_label,
    fact_unit,
    value_label,
)
from .vocabulary import STATUSES as STATUSES  # re-exported: the API schema settings import it here
from .vocabulary import Status as Status

Op = Literal["eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "contains", "is_known"]
OPS: tuple[str, ...] = ("eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "contains", "is_known")

# Which operators make sense for which shape of fact.
_OPS_BY_KIND: dict[str, frozenset[str]] = {
    "enum": frozenset({"eq", "ne", "in", "not_in", "is_known"}),
    "bool": frozenset({"eq", "ne", "is_known"}),
    "int": frozenset({"eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "is_known"}),
    "number": frozenset({"lt", "le", "gt", "ge", "is_known"}),
    "list": frozenset({"contains", "is_known"}),
    # Details of prior therapies are for people to read; no rule looks into them (yet).
    "records": frozenset(),
}

Outcome = bool | None

_FROZEN = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Compare(BaseModel):
    """A comparison on one fact: ``{fact: F, <op>: value}``."""

    model_config = _FROZEN

    fact: str
    op: Op
    value: Any
    # A comparison written for contract 1.1 (`portal_vein_thrombosis eq true`) is evaluated in its
    # 1.2 meaning but kept as written, so that the content and checksum of a 1.1 rule set stay as
    # they were published.
    written: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_compact(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or "op" in data:
            return data
        ops = [key for key in data if key != "fact"]
        if "fact" not in data:
            raise ValueError("a comparison needs 'fact'")
        if len(ops) != 1 or ops[0] not in OPS:
            found = ", ".join(repr(key) for key in ops) or "none"
            raise ValueError(
                f"a comparison needs exactly one operator out of {', '.join(OPS)} (found {found})"
            )
        return {"fact": data["fact"], "op": ops[0], "value": data[ops[0]]}

    @model_validator(mode="after")
    def _fits_the_fact(self) -> Compare:
        if self.fact not in FACT_NAMES:
            raise ValueError(f"'{self.fact}' is not a fact of the contract")
        kind = fact_kind(self.fact)
        if not _OPS_BY_KIND[kind]:
            raise ValueError(f"'{self.fact}' cannot be used in a rule condition")
        if self.op not in _OPS_BY_KIND[kind]:
            allowed = ", ".join(sorted(_OPS_BY_KIND[kind]))
            raise ValueError(
                f"operator '{self.op}' does not apply to {kind} fact '{self.fact}' (use {allowed})"
            )
        if self.op == "is_known":
            if not isinstance(self.value, bool):
                raise ValueError("is_known takes true or false")
            return self
        if self.fact in V1_BOOLEAN_VALUES and isinstance(self.value, bool) and self.op in ("eq", "ne"):
            self._read_as_1_2()
        values = self.value if self.op in ("in", "not_in") else [self.value]
        if self.op in ("in", "not_in"):
            if not isinstance(self.value, list | tuple) or not self.value:
                raise ValueError(f"'{self.op}' needs a non-empty list of values")
            object.__setattr__(self, "value", tuple(self.value))
        for value in values:
            _check_value(self.fact, kind, value)
        return self

    def _read_as_1_2(self) -> None:
        """`eq true` on a fact that was boolean in 1.1 means "any value but the one false stands for"."""
        false_value = V1_BOOLEAN_VALUES[self.fact][False]
        present = tuple(value for value in fact_choices(self.fact) or () if value != false_value)
        written = {"fact": self.fact, self.op: self.value}
        op, value = ("in", present) if self.value is (self.op == "eq") else ("eq", false_value)
        for name, new in (("op", op), ("value", value), ("written", written)):
            object.__setattr__(self, name, new)

    @model_serializer
    def _to_compact(self) -> dict[str, Any]:
        if self.written is not None:
            return dict(self.written)
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"fact": self.fact, self.op: value}


def _check_value(fact: str, kind: str, value: Any) -> None:
    choices = fact_choices(fact)
    if choices is not None:
        if value not in choices:
            raise ValueError(f"{value!r} is not a value of '{fact}' (allowed: {', '.join(choices)})")
    elif kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"'{fact}' is true or false, not {value!r}")
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"'{fact}' is compared with a number, not {value!r}")
    elif not math.isfinite(value):
        # YAML reads .inf and .nan as numbers; no fact can be compared with them.
        raise ValueError(f"'{fact}' is compared with a finite number, not {value!r}")
    elif kind == "int" and not float(value).is_integer():
        raise ValueError(f"'{fact}' is a whole number, not {value!r}")


class AllOf(BaseModel):
    model_config = _FROZEN
    all: tuple[Condition, ...] = Field(min_length=1)


class AnyOf(BaseModel):
    model_config = _FROZEN
    any: tuple[Condition, ...] = Field(min_length=1)


class NotOf(BaseModel):
    model_config = _FROZEN
    not_: Condition = Field(alias="not")

    @model_serializer
    def _to_compact(self) -> dict[str, Any]:
        return {"not": self.not_.model_dump(mode="json", by_alias=True)}


class OptionStatus(BaseModel):
    """Met when another option of the same evaluation has this status (the clinical-trial meta-rule)."""

    model_config = _FROZEN
    option_status: Status


def _condition_tag(data: Any) -> str | None:
    if isinstance(data, BaseModel):
        return type(data).__name__
    if not isinstance(data, Mapping):
        return None
    for key, tag in (("all", "AllOf"), ("any", "AnyOf"), ("not", "NotOf"), ("option_status", "OptionStatus")):
        if key in data:
            return tag
    return "Compare" if "fact" in data else None


Condition = Annotated[
    Annotated[Compare, Tag("Compare")]
    | Annotated[AllOf, Tag("AllOf")]
    | Annotated[AnyOf, Tag("AnyOf")]
    | Annotated[NotOf, Tag("NotOf")]
    | Annotated[OptionStatus, Tag("OptionStatus")],
    Discriminator(
        _condition_tag,
        custom_error_type="condition",
        custom_error_message="a condition is an object with 'fact', 'all', 'any', 'not' or 'option_status'",
    ),
]

AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()


class _Holder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    condition: Condition


def parse_condition(data: Any) -> Condition:
    """Validate a condition written as data; raises pydantic.ValidationError."""
    return _Holder.model_validate({"condition": data}).condition


_TAGS = {"Compare", "AllOf", "AnyOf", "NotOf", "OptionStatus"}


def condition_errors(exc: ValidationError) -> list[tuple[str, str]]:
    """(path, message) for each error of parse_condition, e.g. ("when.all[0]", "'x' is not a fact ...")."""
    problems = []
    for error in exc.errors(include_url=False):
        if error["type"] == "too_short" and error.get("input"):
            # pydantic also calls a list "too short" when all its parts failed; the parts say why.
            continue
        path = "when"
        for part in error["loc"][1:]:
            if part not in _TAGS:
                path += f"[{part}]" if isinstance(part, int) else f".{part}"
        problems.append((path, str(error["msg"]).removeprefix("Value error, ")))
    return problems


def condition_to_data(condition: Condition) -> dict[str, Any]:
    """The compact, JSON-ready form of a condition (as written in the knowledge base)."""
    return condition.model_dump(mode="json", by_alias=True)


def walk(condition: Condition) -> Iterator[Condition]:
    """Every node of the tree, depth first, parents before children."""
    yield condition
    for child in children(condition):
        yield from walk(child)


def children(condition: Condition) -> tuple[Condition, ...]:
    if isinstance(condition, AllOf):
        return condition.all
    if isinstance(condition, AnyOf):
        return condition.any
    if isinstance(condition, NotOf):
        return (condition.not_,)
    return ()


def condition_facts(condition: Condition) -> tuple[str, ...]:
    """The facts a condition looks at, in contract order."""
    used = {node.fact for node in walk(condition) if isinstance(node, Compare)}
    return tuple(name for name in FACT_NAMES if name in used)


def uses_option_status(condition: Condition) -> bool:
    return any(isinstance(node, OptionStatus) for node in walk(condition))


# --- three-valued meaning (reference interpreter) -------------------------------------------------


def outcome(condition: Condition, facts: Mapping[str, Any], statuses: Set[str] = frozenset()) -> Outcome:
    """Met (True), not met (False) or unknown (None) for these facts.

    `statuses` holds the statuses of the other options, for `option_status` conditions.
    """
    return unknown_facts(condition, facts, statuses)[0]


def unknown_facts(
    condition: Condition, facts: Mapping[str, Any], statuses: Set[str] = frozenset()
) -> tuple[Outcome, frozenset[str]]:
    """The outcome and, when it is unknown, exactly the unknown facts it hinges on.

    A fact that is unknown but cannot change the outcome (because a sibling already decides an
    `all` or `any`) is not named.
    """
    if isinstance(condition, Compare):
        value = facts.get(condition.fact)
        if condition.op == "is_known":
            return (value is not None) is condition.value, frozenset()
        if value is None:
            return None, frozenset({condition.fact})
        return _compare(condition.op, value, condition.value), frozenset()
    if isinstance(condition, OptionStatus):
        return condition.option_status in statuses, frozenset()
    if isinstance(condition, NotOf):
        result, missing = unknown_facts(condition.not_, facts, statuses)
        return (None if result is None else not result), missing
    parts = [unknown_facts(child, facts, statuses) for child in children(condition)]
    decisive = isinstance(condition, AnyOf)
    # For `any`, one True decides; for `all`, one False decides.
    if any(result is decisive for result, _ in parts):
        return decisive, frozenset()
    unknown = [missing for result, missing in parts if result is None]
    if unknown:
        return None, frozenset().union(*unknown)
    return not decisive, frozenset()


def _compare(op: str, value: Any, target: Any) -> bool:
    if op == "eq":
        return bool(value == target)
    if op == "ne":
        return bool(value != target)
    if op == "in":
        return value in target
    if op == "not_in":
        return value not in target
    if op == "lt":
        return bool(value < target)
    if op == "le":
        return bool(value <= target)
    if op == "gt":
        return bool(value > target)
    if op == "ge":
        return bool(value >= target)
    if op == "contains":
        return target in value
    raise ValueError(f"unknown operator {op!r}")


# --- plain English --------------------------------------------------------------------------------

_WORDS = {"lt": "<", "le": "≤", "gt": ">", "ge": "≥"}


def describe(condition: Condition, names: Mapping[str, str] | None = None) -> str:
    """The condition in plain English, e.g. "Ki-67 index ≥ 10 % and Disease status is progressive".

    `names` gives the display names of modality keys (for prior therapies).
    """
    return _describe(condition, names or {}, top=True)


def _describe(condition: Condition, names: Mapping[str, str], top: bool = False) -> str:
    if isinstance(condition, Compare):
        return _describe_compare(condition, names)
    if isinstance(condition, OptionStatus):
        return f"another option is {condition.option_status.replace('_', ' ')}"
    if isinstance(condition, NotOf):
        return f"not ({_describe(condition.not_, names, top=True)})"
    joiner = " and " if isinstance(condition, AllOf) else " or "
    text = joiner.join(_describe(child, names) for child in children(condition))
    return text if top or len(children(condition)) == 1 else f"({text})"


def _describe_compare(node: Compare, names: Mapping[str, str]) -> str:
    label = fact_label(node.fact)
    unit = fact_unit(node.fact)
    if node.op == "is_known":
        return f"{label} is {'known' if node.value else 'unknown'}"
    if node.op == "contains":
        return f"{label} include {names.get(node.value, display_value(node.value))}"
    if node.op in ("in", "not_in"):
        values = ", ".join(_value_words(value, node.fact) for value in node.value)
        return f"{label} is {'one of' if node.op == 'in' else 'none of'} ({values})"
    if node.op in _WORDS:
        suffix = f" {unit}" if unit else ""
        return f"{label} {_WORDS[node.op]} {display_value(node.value)}{suffix}"
    verb = "is" if node.op == "eq" else "is not"
    return f"{label} {verb} {_value_words(node.value, node.fact)}"


def _value_words(value: Any, fact: str) -> str:
    """A value inside a sentence: enumerated values by their label, lower-cased unless an acronym."""
    if not isinstance(value, str):
        return display_value(value)
    label = value_label(value, fact)
    return label[0].lower() + label[1:] if label[1:2].islower() else label


def display_value(value: Any) -> str:
    """A fact value as a clinician reads it: yes/no, words without underscores, numbers without .0."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ", ".join(display_value(item) for item in value) or "none"
    return str(value).replace("_", " ")
