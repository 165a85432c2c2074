"""The quick structural check (treatments/fhir/fastcheck.py) never accepts what the R4B models refuse.

Every resource of every example bundle is mutated element by element (removed, nulled, emptied,
retyped, wrapped in a list, given an unknown sibling, a second choice of a `[x]` element, a date
that does not exist, ...). Whenever the quick check says "certainly valid", the R4B model must
accept the mutated resource: the check may be more cautious than the models, never less.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from treatments.fhir.fastcheck import certainly_valid

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "fhir"
BUNDLES = sorted(FIXTURES.glob("*.json"))

REPLACEMENTS: tuple[Any, ...] = (
    None,
    "",
    " ",
    "a  b",
    " lead",
    "x",
    "urn:uuid:1",
    "has space",
    0,
    -1,
    2**31,
    1.5,
    1e-7,
    True,
    False,
    [],
    {},
    [None],
    {"unknown": 1},
    {"text": "t"},
    {"coding": [{"code": "x"}]},
    "2021",
    "2021-13",
    "2021-02-30",
    "2021-02-28",
    "2021-02-28T10:00:00",
    "2021-02-28T10:00:00Z",
    "2021-02-28T10:00:60Z",
    "2021-02-28T10:00:00.1234567+01:00",
    "2021-02-28T24:00:00Z",
)
# A second member of a choice group, or an element a resource might wrongly carry.
ADDITIONS: tuple[tuple[str, Any], ...] = (
    ("unknownElement", 1),
    ("valueString", "x"),
    ("valueBoolean", True),
    ("effectiveInstant", "2021-01-01T00:00:00Z"),
    ("effectivePeriod", {"end": "2021-01-01"}),
    ("onsetString", "x"),
    ("deceasedBoolean", False),
    ("medicationReference", {"reference": "Medication/x"}),
    ("performedString", "x"),
    ("_status", {"extension": [{"url": "http://x", "valueString": "y"}]}),
    ("contained", [{"resourceType": "Medication", "id": "m"}]),
    ("fhir_comments", "c"),
    ("resourceType", "Basic"),
)


def resources() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in BUNDLES:
        bundle = json.loads(path.read_text(encoding="utf-8"))
        for index, entry in enumerate(bundle.get("entry") or []):
            yield f"{path.stem}[{index}]", entry["resource"]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every element path below a resource (dict keys and list indexes)."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


def parent_of(resource: dict[str, Any], path: tuple[Any, ...]) -> Any:
    node: Any = resource
    for part in path[:-1]:
        node = node[part]
    return node


def mutations(resource: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in paths(resource):
        if path == ("resourceType",):
            continue
        removed = copy.deepcopy(resource)
        parent = parent_of(removed, path)
        del parent[path[-1]]
        yield f"{path} removed", removed
        original = parent_of(resource, path)[path[-1]]
        for replacement in (*REPLACEMENTS, [original]):
            changed = copy.deepcopy(resource)
            parent_of(changed, path)[path[-1]] = copy.deepcopy(replacement)
            yield f"{path} = {replacement!r}", changed
        if isinstance(original, list) and original:
            unwrapped = copy.deepcopy(resource)
            parent_of(unwrapped, path)[path[-1]] = copy.deepcopy(original[0])
            yield f"{path} unwrapped", unwrapped
        if isinstance(original, dict):
            for key, value in ADDITIONS:
                added = copy.deepcopy(resource)
                parent_of(added, path)[path[-1]][key] = copy.deepcopy(value)
                yield f"{path}.{key} added", added
    for key, value in ADDITIONS:
        added = copy.deepcopy(resource)
        added[key] = copy.deepcopy(value)
        yield f"{key} added", added


def model_accepts(model: type, resource: dict[str, Any]) -> bool:
    try:
        model.model_validate(resource)  # type: ignore[attr-defined]
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(("name", "resource"), list(resources()), ids=[name for name, _ in resources()])
def test_the_quick_check_accepts_the_example_resources(name: str, resource: dict[str, Any]) -> None:
    # Otherwise the API would pay for the full validation of every ordinary resource.
    assert certainly_valid(resource, get_fhir_model_class(resource["resourceType"]))


@pytest.mark.parametrize(("name", "resource"), list(resources()), ids=[name for name, _ in resources()])
def test_the_quick_check_never_accepts_what_the_models_refuse(name: str, resource: dict[str, Any]) -> None:
    model = get_fhir_model_class(resource["resourceType"])
    wrong = [
        what
        for what, mutated in mutations(resource)
        if certainly_valid(mutated, model) and not model_accepts(model, mutated)
    ]
    assert wrong == []


def test_the_quick_check_leaves_what_it_does_not_judge_to_the_models() -> None:
    patient = get_fhir_model_class("Patient")
    # Valid FHIR, but outside what the quick check reads: the models decide (and accept).
    for resource in (
        {"resourceType": "Patient", "_gender": {"extension": [{"url": "http://x", "valueString": "y"}]}},
        {"resourceType": "Patient", "contained": [{"resourceType": "Organization", "id": "o"}]},
        {"resourceType": "Patient", "birthDate": "1962-03-02", "fhir_comments": "c"},
    ):
        assert not certainly_valid(resource, patient)
        assert model_accepts(patient, resource)
