"""Read and validate the knowledge-base document (fixtures/knowledge_base.yaml).

Pure Python: the loader command, the tests and the benchmark all use it. Validation is complete
before anything is published, and every problem names the file, the modality, the rule id and the
field, so that a rule author can find it.

Keys of a rule (see fixtures/README.md for the condition grammar): id, kind, title, when, reason,
source, evidence, verification, verification_note and if_unknown. `if_unknown: note` is allowed on
requirements, contraindications and (contract 1.2) cautions: an unknown fact then shows as a
"not checked" caution naming it, instead of holding the option at needs_data (requirements,
contraindications) or being dropped silently (cautions).

Keys of a modality added for contract 1.2, both optional and both display aids that never change a
status:

    guideline_lines:              # the first line whose `when` is met is shown on the option
      - when: {all: [{fact: primary_site, eq: pancreas}, {fact: disease_status, eq: progressive}]}
        label: "ENETS 2023 pNET: ..."          # at most 120 characters
        source: "ENETS 2023 pNET guidance ..."
    order_overrides:              # move the option up within its status group when `when` is met
      - when: {fact: prior_therapies, contains: platinum_etoposide}
        before: platinum_etoposide             # a modality key of this file, or `all` (= first)
        why: "NEC second line after platinum (review verdict (f), override 1)"

A guideline line's `when` may use only facts (it describes the patient's setting); an order
override's `when` may also use `option_status` (the statuses of the other options). Unknown counts
as not met for both. Conditions take sets and `$modality` as rules do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .conditions import Condition, condition_errors, parse_condition, uses_option_status
from .content import checksum_of, content_of
from .content import display_aids_from_content as display_aids_from_content
from .engine import (
    BEFORE_ALL,
    CompiledRuleSet,
    GuidelineLine,
    ModalitySpec,
    OrderOverride,
    RuleSetInfo,
    RuleSpec,
)
from .golden import GOLDEN_DIRECTORY, profile_problems, read_golden_directory
from .schema import SELF as SELF
from .schema import CommonRuleDoc as CommonRuleDoc
from .schema import GuidelineLineDoc as GuidelineLineDoc
from .schema import KnowledgeBaseDoc as KnowledgeBaseDoc
from .schema import ModalityDoc as ModalityDoc
from .schema import OrderOverrideDoc as OrderOverrideDoc
from .schema import RuleDoc as RuleDoc
from .vocabulary import CATEGORY_LABELS as CATEGORY_LABELS  # re-exported for models, forms, views
from .vocabulary import (
    MODALITY_CATEGORIES,
    MODALITY_KEYS,
    MODALITY_KEYS_V1,
)
from .vocabulary import VERIFICATIONS as VERIFICATIONS
from .vocabulary import Category as Category
from .vocabulary import Intent as Intent
from .vocabulary import Verification as Verification


@dataclass(frozen=True)
class Problem:
    """One mistake in the knowledge-base file, located for its author."""

    file: str
    message: str
    modality: str = ""
    rule_id: str = ""
    field: str = ""

    def __str__(self) -> str:
        where = [self.file]
        if self.modality:
            where.append(f"modality {self.modality}")
        if self.rule_id:
            where.append(f"rule {self.rule_id}")
        if self.field:
            where.append(f"field {self.field}")
        return ", ".join(where) + f": {self.message}"


class KnowledgeBaseError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass(frozen=True)
class KnowledgeBase:
    """A validated knowledge base: what the loader publishes and the engine compiles."""

    version: str
    title: str
    notes: str
    checksum: str
    modalities: tuple[ModalityDoc, ...]
    rules: tuple[RuleSpec, ...]
    content: dict[str, Any]
    guideline_lines: tuple[GuidelineLine, ...] = ()
    order_overrides: tuple[OrderOverride, ...] = ()

    def modality_specs(self) -> tuple[ModalitySpec, ...]:
        return tuple(modality_spec(doc) for doc in self.modalities)

    def compile(self) -> CompiledRuleSet:
        return CompiledRuleSet(
            RuleSetInfo(self.version, None, self.checksum),
            self.modality_specs(),
            self.rules,
            self.guideline_lines,
            self.order_overrides,
        )


def modality_spec(doc: ModalityDoc) -> ModalitySpec:
    return ModalitySpec(doc.key, doc.name, doc.category, tuple(doc.intents), doc.display_order)


def load_file(path: str | Path) -> KnowledgeBase:
    """Read, validate and normalise a knowledge-base file; raises KnowledgeBaseError.

    The golden cases in the `golden/` directory beside the file (fixtures/golden/) become the rule
    set's `tests`, after any the file holds itself: they travel with the rules and the checksum
    covers both.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeBaseError([Problem(str(path), f"cannot read the file: {exc}")]) from exc
    golden = path.parent / GOLDEN_DIRECTORY
    if not golden.is_dir():
        return parse_text(text, str(path))
    try:
        cases = read_golden_directory(golden)
    except ValueError as exc:
        raise KnowledgeBaseError([Problem(str(golden), str(exc))]) from exc
    return parse_text(text, str(path), extra_tests=cases)


def parse_text(
    text: str, filename: str = "<knowledge base>", extra_tests: list[dict[str, Any]] | None = None
) -> KnowledgeBase:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise KnowledgeBaseError([Problem(filename, f"not valid YAML{where}: {problem}")]) from exc
    except RecursionError:
        # The YAML parser recurses once per level: thousands of "[" were a traceback (security
        # review F12). No real knowledge base is nested more than a few dozen levels.
        raise KnowledgeBaseError([Problem(filename, "not valid YAML: nested too deeply")]) from None
    if extra_tests and isinstance(data, dict):
        data = {**data, "tests": [*(data.get("tests") or []), *extra_tests]}
    try:
        return parse_data(data, filename)
    except RecursionError:
        raise KnowledgeBaseError([Problem(filename, "a condition is nested too deeply")]) from None


def parse_data(data: Any, filename: str = "<knowledge base>") -> KnowledgeBase:
    if not isinstance(data, Mapping):
        raise KnowledgeBaseError(
            [Problem(filename, "the file must hold a mapping with version, modalities, ...")]
        )
    try:
        doc = KnowledgeBaseDoc.model_validate(data)
    except ValidationError as exc:
        raise KnowledgeBaseError(
            [_locate(filename, data, error) for error in exc.errors(include_url=False)]
        ) from exc
    return _build(doc, filename)


def _build(doc: KnowledgeBaseDoc, filename: str) -> KnowledgeBase:
    problems: list[Problem] = []
    problems += _check_sets(doc, filename)
    problems += _check_modalities(doc, filename)
    rules: list[RuleSpec] = []
    seen: dict[str, set[str]] = {modality.key: set() for modality in doc.modalities}
    for modality in doc.modalities:
        own = [(rule, modality.key) for rule in modality.rules]
        common = [(rule, modality.key) for rule in doc.common_rules if modality.key in rule.applies_to]
        for rule, key in own + common:
            if rule.id in seen[key]:
                problems.append(Problem(filename, "duplicate rule id in this modality", key, rule.id, "id"))
                continue
            seen[key].add(rule.id)
            spec = _rule_spec(rule, key, doc.sets, filename, problems)
            if spec is not None:
                rules.append(spec)
        if not any(rule.kind == "indication" for rule in modality.rules):
            message = "a modality needs at least one indication rule"
            problems.append(Problem(filename, message, modality.key, field="rules"))
    lines, overrides = _display_aids(doc, filename, problems)
    problems += _check_tests(doc, filename)
    if problems:
        raise KnowledgeBaseError(problems)
    content = content_of(doc, rules, lines, overrides)
    checksum = checksum_of(content)
    return KnowledgeBase(
        doc.version,
        doc.title,
        doc.notes,
        checksum,
        tuple(doc.modalities),
        tuple(rules),
        content,
        tuple(lines),
        tuple(overrides),
    )


def _display_aids(
    doc: KnowledgeBaseDoc, filename: str, problems: list[Problem]
) -> tuple[list[GuidelineLine], list[OrderOverride]]:
    """The guideline lines and order overrides of every modality, validated."""
    keys = {modality.key for modality in doc.modalities}
    lines: list[GuidelineLine] = []
    overrides: list[OrderOverride] = []
    for modality in doc.modalities:
        key = modality.key
        for n, line in enumerate(modality.guideline_lines):
            where = f"guideline_lines[{n}]"
            condition = _aid_condition(line.when, key, doc.sets, (filename, key, where), problems)
            if condition is not None and uses_option_status(condition):
                message = "a guideline line describes the patient's setting: use facts, not option_status"
                problems.append(Problem(filename, message, key, field=f"{where}.when"))
            elif condition is not None:
                lines.append(GuidelineLine(key, condition, line.label, line.source))
        for n, override in enumerate(modality.order_overrides):
            where = f"order_overrides[{n}]"
            if override.before not in keys | {BEFORE_ALL} or override.before == key:
                message = f"before must be another modality of this file or {BEFORE_ALL!r}"
                problems.append(Problem(filename, message, key, field=f"{where}.before"))
            condition = _aid_condition(override.when, key, doc.sets, (filename, key, where), problems)
            if condition is not None:
                overrides.append(OrderOverride(key, condition, override.before, override.why))
    return lines, overrides


def _aid_condition(
    when: Any, modality: str, sets: dict[str, list[str]], where: tuple[str, str, str], problems: list[Problem]
) -> Condition | None:
    filename, key, field = where
    try:
        return parse_condition(_resolve(when, modality, sets))
    except ValueError as exc:  # pydantic's ValidationError is a ValueError too
        if isinstance(exc, ValidationError):
            for path, message in condition_errors(exc):
                problems.append(Problem(filename, message, key, field=f"{field}.{path}"))
        else:
            problems.append(Problem(filename, str(exc), key, field=f"{field}.when"))
        return None


def _check_tests(doc: KnowledgeBaseDoc, filename: str) -> list[Problem]:
    """Golden cases: unique ids, and profiles the contract accepts."""
    problems = []
    seen: set[str] = set()
    for n, case in enumerate(doc.tests):
        where = f"tests[{n}] ({case.id})"
        if case.id in seen:
            problems.append(Problem(filename, f"duplicate golden case id {case.id!r}", field=f"{where}.id"))
        seen.add(case.id)
        for path, message in profile_problems(case.model_dump()):
            problems.append(Problem(filename, message, field=f"{where}.profile.{path}"))
    return problems


def _check_sets(doc: KnowledgeBaseDoc, filename: str) -> list[Problem]:
    problems = []
    for name in doc.sets:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
            problems.append(
                Problem(filename, f"set name {name!r} must be upper case (e.g. GEP)", field=f"sets.{name}")
            )
    return problems


def _check_modalities(doc: KnowledgeBaseDoc, filename: str) -> list[Problem]:
    problems = []
    keys = [modality.key for modality in doc.modalities]
    for key in sorted(set(_required_keys(keys)) - set(keys)):
        problems.append(
            Problem(filename, "modality is missing (every contract modality key must be present)", key)
        )
    for modality in doc.modalities:
        expected = MODALITY_CATEGORIES[modality.key]
        if modality.category != expected:
            message = f"the category of {modality.key} is {expected!r} (vocabulary.MODALITY_CATEGORIES)"
            problems.append(Problem(filename, message, modality.key, field="category"))
    for key in sorted({key for key in keys if keys.count(key) > 1}):
        problems.append(Problem(filename, "modality appears more than once", key))
    orders = [modality.display_order for modality in doc.modalities]
    for modality in doc.modalities:
        if orders.count(modality.display_order) > 1:
            problems.append(
                Problem(filename, "display_order must be unique", modality.key, field="display_order")
            )
    return problems


def _required_keys(keys: Sequence[str]) -> tuple[str, ...]:
    """The contract keys a knowledge base must describe.

    A 1.1 knowledge base (no 1.2 modality at all) still loads, so that stored rule sets and the
    data of 1.1.1 keep working; one that describes any 1.2 modality must describe them all.
    """
    written_for_1_2 = any(key not in MODALITY_KEYS_V1 for key in keys)
    return MODALITY_KEYS if written_for_1_2 else MODALITY_KEYS_V1


def _rule_spec(
    rule: RuleDoc, modality: str, sets: dict[str, list[str]], filename: str, problems: list[Problem]
) -> RuleSpec | None:
    try:
        resolved = _resolve(rule.when, modality, sets)
    except ValueError as exc:
        problems.append(Problem(filename, str(exc), modality, rule.id, "when"))
        return None
    try:
        condition = parse_condition(resolved)
    except ValidationError as exc:
        for field, message in condition_errors(exc):
            problems.append(Problem(filename, message, modality, rule.id, field))
        return None
    return RuleSpec(
        rule_id=rule.id,
        modality=modality,
        kind=rule.kind,
        title=rule.title,
        condition=condition,
        reason=rule.reason,
        source=rule.source,
        evidence=rule.evidence,
        verification=rule.verification,
        verification_note=rule.verification_note,
        if_unknown=rule.if_unknown,
    )


def _resolve(node: Any, modality: str, sets: dict[str, list[str]]) -> Any:
    """Replace set names in `in`/`not_in` by their members and `$modality` by the modality key."""
    if isinstance(node, list):
        return [_resolve(item, modality, sets) for item in node]
    if not isinstance(node, Mapping):
        return node
    resolved: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("in", "not_in") and isinstance(value, str):
            if value not in sets:
                raise ValueError(f"unknown set {value!r} (defined sets: {', '.join(sets) or 'none'})")
            value = list(sets[value])
        elif value == SELF:
            value = modality
        resolved[key] = _resolve(value, modality, sets)
    return resolved


def _locate(filename: str, data: Mapping[str, Any], error: Any) -> Problem:
    """Name the modality and rule of a pydantic error by looking up the indices in the raw data."""
    loc = list(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    modality = rule_id = ""
    try:
        if loc[:1] == ["modalities"] and len(loc) > 1:
            raw = data["modalities"][loc[1]]
            modality = str(raw.get("key", f"#{loc[1] + 1}"))
            if loc[2:3] == ["rules"] and len(loc) > 3:
                rule_id = str(raw["rules"][loc[3]].get("id", f"#{loc[3] + 1}"))
                loc = loc[4:]
            else:
                loc = loc[2:]
        elif loc[:1] == ["common_rules"] and len(loc) > 1:
            rule_id = str(data["common_rules"][loc[1]].get("id", f"common rule #{loc[1] + 1}"))
            loc = loc[2:]
    except (AttributeError, IndexError, KeyError, TypeError):
        pass
    field = ".".join(str(part) for part in loc)
    return Problem(filename, message, modality, rule_id, field)
