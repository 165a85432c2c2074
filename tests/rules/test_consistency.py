"""Contract 1.2 consistency: known facts that contradict each other are refused at every fact
involved; values that are usually a unit slip are accepted with a warning. No database."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from treatments.rules.consistency import (
    CONTRADICTIONS,
    UNIT_SLIPS,
    contradictions,
    grade_from_ki67,
    unit_slips,
)
from treatments.rules.profile import PatientProfile, error_list


def refusal(**facts: Any) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        PatientProfile.model_validate(facts)
    return error_list(caught.value, ("profile",))


def places(errors: list[dict[str, Any]]) -> list[list[Any]]:
    return [error["loc"] for error in errors]


# --- contradictions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ki67", "grade"), [(0.5, "G1"), (2.9, "G1"), (3, "G2"), (20, "G2"), (20.1, "G3"), (80, "G3")]
)
def test_ki67_implies_the_who_2019_grade(ki67: float, grade: str) -> None:
    assert grade_from_ki67(ki67) == grade


@pytest.mark.parametrize("grade", ["G1", "G2", "G3"])
def test_the_grade_check_refuses_exactly_a_grade_below_what_ki67_implies(grade: str) -> None:
    # The check is a rule condition (compiled as rule sets are); it must say what grade_from_ki67 says.
    for ki67 in [0, 0.5, 2.9, 2.99, 3, 3.01, 10, 19.9, 20, 20.01, 20.1, 55, 100]:
        found = [
            c.check
            for c in contradictions({**PatientProfile().__dict__, "who_grade": grade, "ki67_percent": ki67})
        ]
        below = "G1G2G3".index(grade) < "G1G2G3".index(grade_from_ki67(ki67))
        assert ("grade_below_ki67" in found) is below, (grade, ki67)


@pytest.mark.parametrize(("grade", "ki67"), [("G1", 2.9), ("G2", 3), ("G2", 1), ("G3", 10), ("G3", 25)])
def test_a_grade_as_high_as_or_higher_than_ki67_implies_is_accepted(grade: str, ki67: float) -> None:
    # The grade is the higher of Ki-67 and mitotic count, so a higher grade is no contradiction.
    assert PatientProfile.model_validate({"who_grade": grade, "ki67_percent": ki67}).who_grade == grade


@pytest.mark.parametrize(("grade", "ki67"), [("G1", 3), ("G2", 22), ("G1", 40)])
def test_a_grade_lower_than_ki67_implies_is_refused_at_both_facts(grade: str, ki67: float) -> None:
    errors = refusal(who_grade=grade, ki67_percent=ki67)

    assert places(errors) == [["profile", "who_grade"], ["profile", "ki67_percent"]]
    assert errors[0]["msg"].startswith("contradicts Ki-67 index (")
    assert errors[1]["msg"].startswith(f"contradicts WHO grade ({grade})")
    assert "WHO 2019" in errors[0]["msg"]


@pytest.mark.parametrize(
    ("facts", "involved"),
    [
        ({"disease_extent": "localised", "liver_metastases": True}, ["disease_extent", "liver_metastases"]),
        ({"sstr_imaging": "negative", "krenning_score": 2}, ["sstr_imaging", "krenning_score"]),
        ({"liver_metastases": False, "liver_lesion_count": 3}, ["liver_metastases", "liver_lesion_count"]),
        (
            {"liver_metastases": False, "largest_liver_lesion_mm": 12},
            ["liver_metastases", "largest_liver_lesion_mm"],
        ),
        (
            {"liver_metastases": False, "liver_tumour_burden_percent": 10},
            ["liver_metastases", "liver_tumour_burden_percent"],
        ),
        ({"liver_metastases": True, "liver_lesion_count": 0}, ["liver_metastases", "liver_lesion_count"]),
        ({"pregnant": True, "sex": "male"}, ["pregnant", "sex"]),
        ({"pregnant": True, "childbearing_potential": False}, ["pregnant", "childbearing_potential"]),
    ],
)
def test_facts_that_contradict_each_other_are_refused_naming_every_fact(
    facts: dict[str, Any], involved: list[str]
) -> None:
    errors = refusal(**facts)

    assert places(errors) == [["profile", name] for name in involved]
    assert all(error["msg"].startswith("contradicts ") for error in errors)


def test_the_same_facts_are_accepted_when_they_agree_or_one_is_unknown() -> None:
    for facts in (
        {"disease_extent": "metastatic", "liver_metastases": True},
        {"sstr_imaging": "negative", "krenning_score": 1},
        {"sstr_imaging": "negative"},
        {"liver_metastases": False, "liver_lesion_count": 0, "liver_tumour_burden_percent": 0},
        {"pregnant": True, "sex": "female", "childbearing_potential": True},
        {"pregnant": True},
        {"pregnant": False, "sex": "male"},
    ):
        assert PatientProfile.model_validate(facts)


def test_every_contradiction_found_is_reported_not_only_the_first() -> None:
    errors = refusal(pregnant=True, sex="male", childbearing_potential=False, who_grade="G1", ki67_percent=9)

    assert len(errors) == 6
    assert ["profile", "pregnant"] in places(errors) and ["profile", "childbearing_potential"] in places(
        errors
    )


def test_details_of_a_prior_therapy_not_in_prior_therapies_are_refused_at_the_detail_and_the_list() -> None:
    errors = refusal(prior_therapies=["ssta"], prior_therapy_details=[{"modality": "prrt_lu177"}])

    assert places(errors) == [
        ["profile", "prior_therapy_details", 0, "modality"],
        ["profile", "prior_therapies"],
    ]
    assert "prrt_lu177" in errors[0]["msg"]


def test_details_without_any_prior_therapies_are_refused_too() -> None:
    errors = refusal(prior_therapy_details=[{"modality": "ssta", "best_response": "stable"}])

    assert ["profile", "prior_therapies"] in places(errors)


def test_details_of_given_therapies_are_accepted_and_read_as_objects() -> None:
    profile = PatientProfile.model_validate(
        {
            "prior_therapies": ["ssta", "prrt_lu177"],
            "prior_therapy_details": [
                {"modality": "prrt_lu177", "best_response": "partial", "pfs_months": 26}
            ],
        }
    )

    (detail,) = profile.prior_therapy_details or []
    assert (detail.modality, detail.best_response, detail.pfs_months) == ("prrt_lu177", "partial", 26)
    assert detail.progressed_on_treatment is None  # unknown, never false


def test_a_stored_profile_is_read_back_even_when_its_facts_now_contradict_each_other() -> None:
    stored = {"who_grade": "G2", "ki67_percent": 22, "portal_vein_thrombosis": True}

    profile = PatientProfile.from_stored(stored)

    assert (profile.who_grade, profile.ki67_percent, profile.portal_vein_thrombosis) == ("G2", 22, "branch")


def test_every_check_has_a_unique_name_and_words() -> None:
    names = [check.name for check in CONTRADICTIONS + UNIT_SLIPS]
    assert len(names) == len(set(names))
    assert all(check.msg and check.facts for check in CONTRADICTIONS + UNIT_SLIPS)


# --- unit slips: accepted, with a warning -------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "check"),
    [
        ({"bilirubin_umol_l": 1.2}, "bilirubin_low"),
        ({"ki67_percent": 0.15, "who_grade": "G2"}, "ki67_fraction"),
        ({"ki67_percent": 0.4, "who_grade": "G3"}, "ki67_fraction"),
        ({"egfr_ml_min": 180}, "egfr_high"),
        ({"neutrophils_10e9_l": 3400 / 60}, "neutrophils_high"),
        ({"platelets_10e9_l": 2100}, "platelets_high"),
    ],
)
def test_a_value_that_is_usually_a_unit_slip_is_accepted_with_a_warning(
    facts: dict[str, Any], check: str
) -> None:
    profile = PatientProfile.model_validate(facts)

    (warning,) = unit_slips(profile.__dict__)
    assert warning.check == check
    assert set(warning.facts) == set(facts)
    assert "?" in warning.msg or "unusual" in warning.msg


def test_ordinary_values_and_unknown_ones_give_no_warning() -> None:
    ordinary = PatientProfile.model_validate(
        {
            "bilirubin_umol_l": 9,
            "ki67_percent": 0.5,
            "who_grade": "G1",
            "egfr_ml_min": 90,
            "neutrophils_10e9_l": 3.4,
            "platelets_10e9_l": 250,
        }
    )

    assert unit_slips(ordinary.__dict__) == ()
    assert unit_slips(PatientProfile().__dict__) == ()
    assert unit_slips(PatientProfile(ki67_percent=0.2).__dict__) == ()  # grade unknown: no guess
