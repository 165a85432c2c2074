"""Patient matching by NHS number (treatments/fhir/identity.py, hazard H-11)."""

from __future__ import annotations

import pytest

from treatments.fhir.identity import patient_match


@pytest.mark.parametrize(
    ("bundle_number", "case_number", "state"),
    [
        ("943 476 5919", "9434765919", "matched"),
        ("9434765919", "4010232137", "mismatch"),
        (None, "4010232137", "not_matched"),
        ("9434765919", "", "not_matched"),
        ("9434765919", None, "not_matched"),
        (None, None, "not_matched"),
    ],
)
def test_the_nhs_numbers_are_compared_without_spaces(
    bundle_number: str | None, case_number: str | None, state: str
) -> None:
    assert patient_match({"nhs_number": bundle_number}, case_number).state == state


def test_a_mismatch_names_both_numbers() -> None:
    match = patient_match({"nhs_number": "9434765919"}, "4010232137")
    assert "9434765919" in match.message and "4010232137" in match.message
    assert match.as_json() == {
        "match": "mismatch",
        "bundle_nhs_number": "9434765919",
        "case_nhs_number": "4010232137",
    }


def test_not_matched_says_which_side_has_no_number() -> None:
    assert "Bundle's Patient has no NHS number" in patient_match({}, "4010232137").message
    assert "the case has no NHS number" in patient_match({"nhs_number": "9434765919"}, "").message
