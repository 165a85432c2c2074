"""Golden clinical cases: fictional patients whose expected options were worked out by hand from
knowledge-base.md, rule by rule (see fixtures/golden/README.md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from treatments.rules.document import load_file
from treatments.rules.engine import STATUS_ORDER, CompiledRuleSet
from treatments.rules.profile import MODALITY_KEYS, PatientProfile

TESTS = Path(__file__).parents[1]
GOLDEN = TESTS.parent / "fixtures" / "golden"
KNOWLEDGE_BASE = TESTS.parent / "fixtures" / "knowledge_base.yaml"
KNOWLEDGE_BASE_1_1_1 = TESTS / "data" / "knowledge_base_1.1.1.yaml"
FIRST_1_2_CASE = 46  # cases 46 onwards were written for knowledge base 1.2.0 (see golden/README.md)
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


RULE_ID = re.compile(
    r"\b(?:common|surg_cur|surg_debulk|ssta|evero|suni|captem|stz|pe|folf|ifn|prrt|embo|abl|olt|trial|tel|cabo|as|er|bsc)\.[a-z0-9_]+\b"
)


def _rule_ids(path: Path) -> set[str]:
    return {rule.rule_id for rule in load_file(path).rules}


def test_the_rule_ids_a_case_names_exist() -> None:
    """A case's `why` names real rules: those of 1.2.0, or (for history notes) of 1.1.1."""
    known = _rule_ids(KNOWLEDGE_BASE) | _rule_ids(KNOWLEDGE_BASE_1_1_1)
    for path in CASES:
        named = set(RULE_ID.findall(load(path).get("why", "")))
        assert named <= known, (path.name, sorted(named - known))


def test_every_case_written_for_1_2_names_the_rules_it_exercises() -> None:
    current = _rule_ids(KNOWLEDGE_BASE)
    for path in CASES:
        if int(path.name[:2]) >= FIRST_1_2_CASE:
            assert set(RULE_ID.findall(load(path)["why"])) & current, path.name
