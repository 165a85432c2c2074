"""Golden cases: fictional patients with the statuses the rules must give them, kept with the rule
set (its content's `tests`, covered by its checksum) and run against it before it is published.

Pure Python. The same comparison as the pytest golden test (tests/rules/test_golden_cases.py): every
`expect` status equal, and `missing_facts` equal as sets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .engine import CompiledRuleSet, EvaluationResult
from .errors import error_list
from .profile import PatientProfile

GOLDEN_DIRECTORY = "golden"  # beside the knowledge-base file: fixtures/golden/


def read_golden_directory(directory: Path) -> list[dict[str, Any]]:
    """The golden cases of a directory, one YAML file each, with the file's stem as `id`, in order.

    Raises ValueError naming the file when one cannot be read.
    """
    cases = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ValueError(f"{path}: cannot read the golden case: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path}: a golden case must be a mapping with title, profile and expect")
        cases.append({"id": path.stem, **data})
    return cases


def profile_problems(case: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(field path, message) for each fact of a golden case's profile that the contract refuses."""
    try:
        PatientProfile.model_validate(case.get("profile") or {})
    except ValidationError as exc:
        return [(".".join(str(part) for part in item["loc"]), item["msg"]) for item in error_list(exc)]
    return []


@dataclass(frozen=True)
class Mismatch:
    modality: str
    expected: Any
    actual: Any
    what: str = "status"  # or "missing_facts"


@dataclass(frozen=True)
class CaseResult:
    id: str
    title: str
    statuses: dict[str, str]
    mismatches: tuple[Mismatch, ...] = field(default=())
    invalid: str = ""  # the profile no longer validates (a contract change)

    @property
    def passed(self) -> bool:
        return not self.mismatches and not self.invalid


@dataclass(frozen=True)
class GoldenResult:
    cases: tuple[CaseResult, ...]

    @property
    def passed(self) -> bool:
        return all(case.passed for case in self.cases)

    @property
    def failed(self) -> tuple[CaseResult, ...]:
        return tuple(case for case in self.cases if not case.passed)

    def as_data(self) -> list[dict[str, Any]]:
        """Per case: passed, the statuses, and each mismatch as expected vs actual (JSON-ready)."""
        return [
            {
                "id": case.id,
                "title": case.title,
                "passed": case.passed,
                "invalid": case.invalid,
                "statuses": case.statuses,
                "mismatches": [
                    {"modality": m.modality, "what": m.what, "expected": m.expected, "actual": m.actual}
                    for m in case.mismatches
                ],
            }
            for case in self.cases
        ]


def evaluate_case(compiled: CompiledRuleSet, case: Mapping[str, Any]) -> EvaluationResult | str:
    """The case's evaluation, or why its profile cannot be evaluated."""
    try:
        profile = PatientProfile.model_validate(case.get("profile") or {})
    except ValidationError as exc:
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error_list(exc))
    return compiled.evaluate(profile)


def run_case(compiled: CompiledRuleSet, case: Mapping[str, Any]) -> CaseResult:
    result = evaluate_case(compiled, case)
    if isinstance(result, str):
        return CaseResult(str(case["id"]), str(case.get("title", "")), {}, (), result)
    statuses = result.statuses()
    mismatches = [
        Mismatch(modality, expected, statuses.get(modality))
        for modality, expected in case["expect"].items()
        if statuses.get(modality) != expected
    ]
    for modality, facts in (case.get("missing_facts") or {}).items():
        actual = sorted(result.verdict(modality).missing_facts) if modality in statuses else None
        if actual is None or set(actual) != set(facts):
            mismatches.append(Mismatch(modality, sorted(facts), actual, "missing_facts"))
    return CaseResult(str(case["id"]), str(case.get("title", "")), statuses, tuple(mismatches))


def run_golden(compiled: CompiledRuleSet, cases: Iterable[Mapping[str, Any]]) -> GoldenResult:
    """Run every golden case against a compiled rule set."""
    return GoldenResult(tuple(run_case(compiled, case) for case in cases))


def golden_ids(cases: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(case["id"]) for case in cases]
