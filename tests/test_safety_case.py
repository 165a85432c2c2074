"""The clinical safety case names the tests that verify each control: every one must exist.

A hazard-log control whose test was renamed or deleted would be a control nobody checks, so a
reference to a missing test fails here (docs/clinical-safety/hazard-log.md and the other docs).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").rglob("*.md"))
REFERENCE = re.compile(r"`(tests/[A-Za-z0-9_/]+\.py)::(test_[A-Za-z0-9_]+)`")


def _references() -> list[tuple[str, str, str]]:
    found = []
    for doc in DOCS:
        for path, name in REFERENCE.findall(doc.read_text(encoding="utf-8")):
            found.append((str(doc.relative_to(ROOT)), path, name))
    return found


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_the_hazard_log_names_tests_for_its_controls() -> None:
    hazard_log = ROOT / "docs" / "clinical-safety" / "hazard-log.md"
    assert len(REFERENCE.findall(hazard_log.read_text(encoding="utf-8"))) >= 30


@pytest.mark.parametrize(("doc", "path", "name"), _references(), ids=lambda value: str(value))
def test_every_test_a_document_names_exists(doc: str, path: str, name: str) -> None:
    test_file = ROOT / path
    assert test_file.is_file(), f"{doc} names {path}, which does not exist"
    assert name in _test_names(test_file), f"{doc} names {path}::{name}, which does not exist"
