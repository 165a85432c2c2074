"""Golden clinical cases: fictional patients whose expected options were worked out by hand from
knowledge-base.md, rule by rule (see tests/golden/README.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from treatments.rules.engine import STATUS_ORDER, CompiledRuleSet
from treatments.rules.profile import MODALITY_KEYS, PatientProfile

GOLDEN = Path(__file__).parents[1] / "golden"
CASES = sorted(GOLDEN.glob("*.yaml"))


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_there_are_at_least_thirty_golden_cases() -> None:
    assert len(CASES) >= 30


def test_the_golden_cases_cover_every_modality_and_every_status() -> None:
    reached = {(modality, status) for path in CASES for modality, status in load(path)["expect"].items()}
    for modality in MODALITY_KEYS:
        assert (modality, "candidate") in reached, modality
    for status in STATUS_ORDER:
        assert any(s == status for _, s in reached), status


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_golden_case(path: Path, compiled: CompiledRuleSet) -> None:
    case = load(path)
    result = compiled.evaluate(PatientProfile.model_validate(case["profile"]))
    statuses = result.statuses()
    wrong = {
        modality: f"expected {expected}, got {statuses[modality]}"
        for modality, expected in case["expect"].items()
        if statuses[modality] != expected
    }
    assert not wrong, f"{case['title']}: {wrong}"
    for modality, facts in (case.get("missing_facts") or {}).items():
        assert set(result.verdict(modality).missing_facts) == set(facts), modality
