"""Code generation for compiled rule sets: each rule set becomes one straight-line Python function
that computes every rule's three-valued outcome for a profile.

Justified by speed (tens of thousands of profiles a second with full explanations) and guarded by
a reference interpreter: a property test checks that both agree on generated profiles
(tests/rules/test_conditions.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .conditions import (
    AllOf,
    AnyOf,
    Compare,
    Condition,
    NotOf,
    OptionStatus,
    children,
    condition_to_data,
)
from .vocabulary import OUTCOMES as OUTCOMES  # re-exported: other modules import these from here
from .vocabulary import RULE_KINDS as RULE_KINDS
from .vocabulary import RuleKind as RuleKind

_PY_OPS = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "in": "in",
    "not_in": "not in",
}


class Codegen:
    """Turns conditions into one straight-line function `(facts, statuses) -> tuple of slots`.

    Identical sub-conditions (the common rules appear in many modalities) are computed once.
    """

    def __init__(self) -> None:
        self._facts: dict[str, str] = {}
        self._nodes: dict[str, str] = {}
        self._lines: list[str] = []
        self._constants: dict[str, Any] = {}
        self._results: list[str] = []

    def add(self, condition: Condition) -> int:
        self._results.append(self._node(condition))
        return len(self._results) - 1

    def add_group(self, conditions: Sequence[Condition]) -> int:
        """A slot holding the tuple of the conditions' outcomes (one option's rules, in order)."""
        nodes = "".join(f"{self._node(condition)}, " for condition in conditions)
        self._results.append(f"({nodes})")
        return len(self._results) - 1

    def add_first_met(self, conditions: Sequence[Condition], answers: Sequence[Any]) -> int:
        """A slot holding the answer of the first condition that is met (None if none is)."""
        nodes = [self._node(condition) for condition in conditions]
        choices = " else ".join(
            f"{self._constant(answer)} if {node} is True" for answer, node in zip(answers, nodes, strict=True)
        )
        self._results.append(f"({choices} else None)" if choices else "None")
        return len(self._results) - 1

    def build(self) -> Callable[[Mapping[str, Any], frozenset[str]], tuple[Any, ...]]:
        """The function; each slot holds what its add_* method says (an outcome, a tuple of them, ...)."""
        body = [f"    {var} = facts[{name!r}]" for name, var in self._facts.items()]
        body += [f"    {line}" for line in self._lines]
        body.append(f"    return ({''.join(result + ', ' for result in self._results)})")
        source = "def evaluate(facts, statuses):\n" + "\n".join(body) + "\n"
        namespace: dict[str, Any] = dict(self._constants)
        exec(compile(source, "<compiled rule set>", "exec"), namespace)  # noqa: S102 - our own generated code
        return namespace["evaluate"]  # type: ignore[no-any-return]

    def _node(self, condition: Condition) -> str:
        key = json.dumps(condition_to_data(condition), sort_keys=True)
        if key in self._nodes:
            return self._nodes[key]
        expression = self._expression(condition)
        var = f"n{len(self._nodes)}"
        self._lines.append(f"{var} = {expression}")
        self._nodes[key] = var
        return var

    def _expression(self, condition: Condition) -> str:
        if isinstance(condition, Compare):
            return self._compare(condition)
        if isinstance(condition, OptionStatus):
            return f"({condition.option_status!r} in statuses)"
        if isinstance(condition, NotOf):
            child = self._node(condition.not_)
            return f"(None if {child} is None else not {child})"
        parts = [
            self._node(child) for child in (condition.all if isinstance(condition, AllOf) else condition.any)
        ]
        if isinstance(condition, AnyOf):
            decisive, other = "True", "False"
        else:
            decisive, other = "False", "True"
        decided = " or ".join(f"{part} is {decisive}" for part in parts)
        unknown = " or ".join(f"{part} is None" for part in parts)
        return f"({decisive} if ({decided}) else (None if ({unknown}) else {other}))"

    def _compare(self, node: Compare) -> str:
        var = self._facts.setdefault(node.fact, f"f{len(self._facts)}")
        return _compare_expression(node, var, self._constant)

    def _constant(self, value: Any) -> str:
        name = f"K{len(self._constants)}"
        self._constants[name] = value
        return name


def _compare_expression(node: Compare, var: str, constant: Callable[[Any], str]) -> str:
    """A comparison as a Python expression on the local `var` holding the fact (None: unknown)."""
    if node.op == "is_known":
        return f"({var} is {'not ' if node.value else ''}None)"
    if node.op == "contains":
        return f"(None if {var} is None else {node.value!r} in {var})"
    if node.op in ("in", "not_in"):
        return f"(None if {var} is None else {var} {_PY_OPS[node.op]} {constant(frozenset(node.value))})"
    return f"(None if {var} is None else {var} {_PY_OPS[node.op]} {node.value!r})"


UnknownFacts = Callable[[Mapping[str, Any], frozenset[str]], frozenset[str]]


def unknown_facts_functions(conditions: Sequence[Condition]) -> tuple[UnknownFacts, ...]:
    """For each condition, a function naming the unknown facts its outcome hinges on.

    The generated twin of conditions.unknown_facts (same answer, property-tested), for the rules
    a verdict leaves undecided: one compile for the whole rule set, straight-line code per rule.
    """
    constants: dict[str, Any] = {"EMPTY": frozenset()}

    def constant(value: Any) -> str:
        name = f"K{len(constants)}"
        constants[name] = value
        return name

    sources = [
        _unknown_facts_source(index, condition, constant) for index, condition in enumerate(conditions)
    ]
    names = "".join(f"unknown_{index}, " for index in range(len(conditions)))
    source = "\n".join(sources) + f"\nFUNCTIONS = ({names})\n"
    exec(compile(source, "<compiled unknown facts>", "exec"), constants)  # noqa: S102 - our own generated code
    return constants["FUNCTIONS"]  # type: ignore[no-any-return]


def _unknown_facts_source(index: int, condition: Condition, constant: Callable[[Any], str]) -> str:
    facts: dict[str, str] = {}
    lines: list[str] = []

    def node(condition: Condition) -> tuple[str, str]:
        """(the variable holding the outcome, the variable holding the facts it hinges on)."""
        if isinstance(condition, Compare):
            var = facts.setdefault(condition.fact, f"f{len(facts)}")
            value = _compare_expression(condition, var, constant)
            if condition.op == "is_known":
                hinges = "EMPTY"
            else:
                hinges = f"({constant(frozenset({condition.fact}))} if {var} is None else EMPTY)"
        elif isinstance(condition, OptionStatus):
            value, hinges = f"({condition.option_status!r} in statuses)", "EMPTY"
        elif isinstance(condition, NotOf):
            child, hinges = node(condition.not_)
            value = f"(None if {child} is None else not {child})"
        else:
            parts = [node(child) for child in children(condition)]
            decisive, other = ("True", "False") if isinstance(condition, AnyOf) else ("False", "True")
            decided = " or ".join(f"{part} is {decisive}" for part, _ in parts)
            unknown = " or ".join(f"{part} is None" for part, _ in parts)
            value = f"({decisive} if ({decided}) else (None if ({unknown}) else {other}))"
            # A part that is known holds EMPTY, so the union names the unknown parts' facts only.
            union = " | ".join(hinges for _, hinges in parts)
            hinges = f"(EMPTY if v{len(lines)} is not None else {union})"  # v{len(lines)}: this node
        number = len(lines)
        lines.append(f"v{number} = {value}")
        lines.append(f"m{number} = {hinges}")
        return f"v{number}", f"m{number}"

    _, result = node(condition)
    body = [f"    {var} = facts.get({name!r})" for name, var in facts.items()]
    body += [f"    {line}" for line in lines]
    return f"def unknown_{index}(facts, statuses):\n" + "\n".join(body) + f"\n    return {result}\n"
