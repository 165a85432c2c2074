"""The patient profile (contract.md section 1): which facts exist, what values they take, and the
readable errors a caller gets for anything else. No database."""

from __future__ import annotations

from typing import Any

import annotated_types
import pytest
from pydantic import ValidationError

from treatments.rules.profile import (
    ADVANCED_GROUPS,
    FACT_NAMES,
    GROUPS,
    MODALITY_KEYS,
    PatientProfile,
    error_list,
    fact_choices,
    fact_kind,
    facts_fingerprint,
    has_readable_message,
    value_label,
)

FINGERPRINT_BEFORE_1_2 = "3141441a4db9f1a0f5e0748406e1276c75c2317f63013fbb0058bcd5846b1b34"

# contract.md section 1, in its order.
CONTRACT_FACTS = (
    "primary_site",
    "differentiation",
    "who_grade",
    "ki67_percent",
    "disease_extent",
    "resectable",
    "debulking_feasible",
    "primary_resected",
    "liver_metastases",
    "liver_lesion_count",
    "largest_liver_lesion_mm",
    "liver_tumour_burden_percent",
    "liver_dominant_disease",
    "extrahepatic_disease",
    "portal_vein_thrombosis",
    "sstr_imaging",
    "krenning_score",
    "functional_syndrome",
    "carcinoid_heart_disease",
    "disease_status",
    "prior_therapies",
    "age_years",
    "ecog",
    "egfr_ml_min",
    "platelets_10e9_l",
    "neutrophils_10e9_l",
    "bilirubin_umol_l",
    "pregnant",
    "sex",
    "childbearing_potential",
    "breastfeeding",
    "dpd_status",
    "biliary_enteric_anastomosis",
    "syndrome_refractory",
    "bowel_movements_per_day",
    "lung_histology",
    "gastric_net_type",
    "primary_tumour_size_mm",
    "hereditary_syndrome",
    "months_since_diagnosis",
    "haemoglobin_g_l",
    "prior_therapy_details",
    "funding",
)
CONTRACT_ENUMS = {
    "primary_site": (
        "pancreas",
        "small_intestine",
        "duodenum",
        "stomach",
        "appendix",
        "colon",
        "rectum",
        "lung_bronchus",
        "thymus",
        "unknown_primary",
        "paraganglioma",
        "phaeochromocytoma",
        "medullary_thyroid",
        "other",
    ),
    "differentiation": ("well", "poorly"),
    "who_grade": ("G1", "G2", "G3"),
    "disease_extent": ("localised", "locoregional", "metastatic"),
    "sstr_imaging": ("positive", "negative"),
    "functional_syndrome": (
        "none",
        "carcinoid_syndrome",
        "insulinoma",
        "gastrinoma",
        "glucagonoma",
        "vipoma",
        "catecholamine_excess",
        "other",
    ),
    "disease_status": ("progressive", "stable", "new_diagnosis"),
    "portal_vein_thrombosis": ("none", "branch", "main"),
    "sex": ("female", "male"),
    "dpd_status": ("normal", "partial_deficiency", "complete_deficiency"),
    "lung_histology": ("typical_carcinoid", "atypical_carcinoid", "large_cell_nec", "small_cell"),
    "gastric_net_type": ("type_1", "type_2", "type_3"),
    "hereditary_syndrome": ("none", "men1", "vhl", "nf1", "tsc", "sdhx", "other"),
    "funding": ("nhs", "private"),
}
# The lower bound each numeric fact has in the contract.
CONTRACT_LOWER_BOUNDS = {
    "ki67_percent": annotated_types.Ge(0),
    "liver_lesion_count": annotated_types.Ge(0),
    "largest_liver_lesion_mm": annotated_types.Gt(0),
    "liver_tumour_burden_percent": annotated_types.Ge(0),
    "krenning_score": annotated_types.Ge(0),
    "age_years": annotated_types.Ge(0),
    "ecog": annotated_types.Ge(0),
    "egfr_ml_min": annotated_types.Ge(0),
    "platelets_10e9_l": annotated_types.Ge(0),
    "neutrophils_10e9_l": annotated_types.Ge(0),
    "bilirubin_umol_l": annotated_types.Ge(0),
    "bowel_movements_per_day": annotated_types.Ge(0),
    "primary_tumour_size_mm": annotated_types.Gt(0),
    "months_since_diagnosis": annotated_types.Ge(0),
    "haemoglobin_g_l": annotated_types.Ge(20),
}
VALID = {
    "primary_site": "pancreas",
    "differentiation": "well",
    "who_grade": "G2",
    "ki67_percent": 12.5,
    "disease_extent": "metastatic",
    "resectable": False,
    "debulking_feasible": True,
    "primary_resected": True,
    "liver_metastases": True,
    "liver_lesion_count": 3,
    "largest_liver_lesion_mm": 24.5,
    "liver_tumour_burden_percent": 30,
    "liver_dominant_disease": True,
    "extrahepatic_disease": False,
    "portal_vein_thrombosis": "none",
    "sstr_imaging": "positive",
    "krenning_score": 3,
    "functional_syndrome": "carcinoid_syndrome",
    "carcinoid_heart_disease": False,
    "disease_status": "progressive",
    "prior_therapies": ["ssta", "everolimus"],
    "age_years": 64,
    "ecog": 1,
    "egfr_ml_min": 78.5,
    "platelets_10e9_l": 210,
    "neutrophils_10e9_l": 3.4,
    "bilirubin_umol_l": 9,
    "pregnant": False,
    "sex": "female",
    "childbearing_potential": True,
    "breastfeeding": False,
    "dpd_status": "normal",
    "biliary_enteric_anastomosis": False,
    "syndrome_refractory": True,
    "bowel_movements_per_day": 6,
    "lung_histology": "typical_carcinoid",
    "gastric_net_type": "type_1",
    "primary_tumour_size_mm": 18.5,
    "hereditary_syndrome": "none",
    "months_since_diagnosis": 7.5,
    "haemoglobin_g_l": 128,
    "prior_therapy_details": [
        {
            "modality": "ssta",
            "best_response": "stable",
            "progressed_on_treatment": True,
            "months_since_last_dose": 1,
            "pfs_months": 14.5,
        }
    ],
    "funding": "private",
}


def alone(fact: str, value: Any) -> dict[str, Any]:
    """A profile with one fact (details of prior therapies need the therapies they detail)."""
    if fact == "prior_therapy_details":
        return {"prior_therapies": VALID["prior_therapies"], fact: value}
    return {fact: value}


def plain(value: Any) -> Any:
    """A fact's value as data (details of prior therapies are objects)."""
    if isinstance(value, list):
        return [item.model_dump() if hasattr(item, "model_dump") else item for item in value]
    return value


def errors(data: Any, prefix: tuple[str | int, ...] = ()) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        PatientProfile.model_validate(data)
    return error_list(caught.value, prefix)


def error_types(validate: Any, data: Any) -> set[str]:
    """The pydantic error types `data` raises (none if it is valid)."""
    try:
        validate(data)
    except ValidationError as exc:
        return {error["type"] for error in exc.errors()}
    return set()


# --- the facts of the contract --------------------------------------------------------------------


def test_the_profile_has_exactly_the_facts_of_the_contract_in_its_order() -> None:
    assert FACT_NAMES == CONTRACT_FACTS
    assert set(VALID) == set(CONTRACT_FACTS)


@pytest.mark.parametrize("fact", CONTRACT_FACTS)
def test_every_fact_takes_a_valid_value(fact: str) -> None:
    assert plain(getattr(PatientProfile.model_validate(alone(fact, VALID[fact])), fact)) == VALID[fact]


@pytest.mark.parametrize("fact", [fact for fact in CONTRACT_FACTS if fact != "funding"])
def test_every_fact_may_be_null_or_absent_which_means_unknown(fact: str) -> None:
    assert getattr(PatientProfile.model_validate({fact: None}), fact) is None
    assert getattr(PatientProfile.model_validate({}), fact) is None


@pytest.mark.parametrize("data", [{}, {"funding": None}])
def test_funding_not_given_is_the_units_nhs_setting(data: dict[str, Any]) -> None:
    assert PatientProfile.model_validate(data).funding == "nhs"


def test_a_whole_profile_is_accepted_and_its_known_facts_come_in_contract_order() -> None:
    profile = PatientProfile.model_validate(VALID)
    assert list(profile.known_facts()) == list(CONTRACT_FACTS)
    assert PatientProfile.model_validate({"ecog": 0}).known_facts() == {"ecog": 0, "funding": "nhs"}


def test_a_whole_number_is_accepted_for_a_number_fact() -> None:
    assert PatientProfile.model_validate({"ki67_percent": 5}).ki67_percent == 5


WHOLE_NUMBER_FACTS = [
    name for name, field in PatientProfile.model_fields.items() if field.annotation == int | None
]


@pytest.mark.parametrize("fact", WHOLE_NUMBER_FACTS)
def test_a_number_written_with_a_zero_fraction_is_accepted_for_a_whole_number_fact(fact: str) -> None:
    # JSON Schema counts 2.0 as an integer, so clients may send it.
    value = getattr(PatientProfile.model_validate({fact: 2.0}), fact)
    assert (value, type(value)) == (2, int)


def test_an_empty_list_of_prior_therapies_means_none_not_unknown() -> None:
    assert PatientProfile.model_validate({"prior_therapies": []}).prior_therapies == []


def test_every_modality_key_is_accepted_as_a_prior_therapy() -> None:
    profile = PatientProfile.model_validate({"prior_therapies": list(MODALITY_KEYS)})
    assert profile.prior_therapies == list(MODALITY_KEYS)


def test_a_profile_cannot_be_changed_once_validated() -> None:
    profile = PatientProfile.model_validate({"ecog": 1})
    with pytest.raises(ValidationError):
        profile.ecog = 4  # type: ignore[misc]


# --- bounds ---------------------------------------------------------------------------------------

NUMERIC = [name for name in CONTRACT_FACTS if fact_kind(name) in ("int", "number")]
BOUNDS = [
    (name, bound)
    for name in NUMERIC
    for bound in PatientProfile.model_fields[name].metadata
    if isinstance(bound, annotated_types.Ge | annotated_types.Gt | annotated_types.Le | annotated_types.Lt)
]


def test_every_numeric_fact_has_the_lower_bound_of_the_contract_and_an_upper_bound() -> None:
    assert set(NUMERIC) == set(CONTRACT_LOWER_BOUNDS)
    for name in NUMERIC:
        metadata = PatientProfile.model_fields[name].metadata
        assert CONTRACT_LOWER_BOUNDS[name] in metadata, name
        assert any(isinstance(bound, annotated_types.Le | annotated_types.Lt) for bound in metadata), name


# Which of the values just below, at and just above a bound are accepted.
ACCEPTED_AROUND = {
    "ge": (False, True, True),
    "gt": (False, False, True),
    "le": (True, True, False),
    "lt": (True, False, False),
}
WORDS = {"ge": "at least", "gt": "more than", "le": "at most", "lt": "less than"}


@pytest.mark.parametrize(("fact", "bound"), BOUNDS, ids=[f"{fact}-{bound!r}" for fact, bound in BOUNDS])
def test_values_below_at_and_above_each_bound_are_accepted_or_rejected_by_name(fact: str, bound: Any) -> None:
    op = type(bound).__name__.lower()
    limit = getattr(bound, op)
    step = 1 if fact_kind(fact) == "int" else 0.01
    for value, accepted in zip((limit - step, limit, limit + step), ACCEPTED_AROUND[op], strict=True):
        if accepted:
            assert getattr(PatientProfile.model_validate({fact: value}), fact) == value
        else:
            (error,) = errors({fact: value})
            assert error["loc"] == [fact]
            assert error["msg"].startswith(f"must be {WORDS[op]} {limit}"), value


def test_bound_messages_carry_the_unit_and_read_whole_numbers_plainly() -> None:
    assert errors({"ki67_percent": 140}) == [{"loc": ["ki67_percent"], "msg": "must be at most 100 %"}]
    assert errors({"largest_liver_lesion_mm": 0}) == [
        {"loc": ["largest_liver_lesion_mm"], "msg": "must be more than 0 mm"}
    ]
    assert errors({"ecog": 5}) == [{"loc": ["ecog"], "msg": "must be at most 4"}]
    assert errors({"egfr_ml_min": -1}) == [
        {"loc": ["egfr_ml_min"], "msg": "must be at least 0 mL/min/1.73 m²"}
    ]


# --- enumerations ---------------------------------------------------------------------------------

ENUM_VALUES = [(fact, value) for fact, values in CONTRACT_ENUMS.items() for value in values]


def test_every_enumerated_fact_has_the_values_of_the_contract() -> None:
    enums = {name: fact_choices(name) for name in CONTRACT_FACTS if fact_kind(name) == "enum"}
    assert enums == CONTRACT_ENUMS
    assert fact_choices("prior_therapies") == MODALITY_KEYS


@pytest.mark.parametrize(("fact", "value"), ENUM_VALUES)
def test_each_allowed_value_of_an_enumerated_fact_is_accepted(fact: str, value: str) -> None:
    assert getattr(PatientProfile.model_validate({fact: value}), fact) == value


@pytest.mark.parametrize("fact", list(CONTRACT_ENUMS))
def test_a_value_outside_an_enumeration_is_rejected_with_the_list_of_choices(fact: str) -> None:
    (error,) = errors({fact: "Pancreas "})
    assert error["loc"] == [fact]
    assert error["msg"].startswith("must be one of: ")
    assert "'" not in error["msg"]
    assert all(value in error["msg"] for value in CONTRACT_ENUMS[fact])


def test_an_unknown_prior_therapy_is_rejected_at_its_place_in_the_list() -> None:
    (error,) = errors({"prior_therapies": ["ssta", "chemotherapy"]})
    assert error["loc"] == ["prior_therapies", 1]
    assert error["msg"].startswith("must be one of: surgery_curative, surgery_debulking, ssta")


# --- wrong names and wrong types ------------------------------------------------------------------


def test_an_unknown_fact_is_rejected_not_dropped() -> None:
    assert errors({"tumour_colour": "blue", "ecog": 1}) == [
        {
            "loc": ["tumour_colour"],
            "msg": "is not a known fact (see contract.md section 1 for the list of facts)",
        }
    ]


@pytest.mark.parametrize(
    ("fact", "value", "message"),
    [
        ("resectable", "yes", "must be true or false (or null when unknown)"),
        ("pregnant", "false", "must be true or false (or null when unknown)"),
        ("resectable", 1, "must be true or false (or null when unknown)"),
        ("ecog", "3", "must be a whole number (or null when unknown)"),
        ("ecog", 2.5, "must be a whole number (or null when unknown)"),
        ("krenning_score", True, "must be a whole number (or null when unknown)"),
        ("ki67_percent", True, "must be a number (or null when unknown)"),
        ("ki67_percent", "12", "must be a number (or null when unknown)"),
        ("ki67_percent", [12], "must be a number (or null when unknown)"),
        ("ki67_percent", float("nan"), "must be a finite number"),
        ("egfr_ml_min", float("inf"), "must be a finite number"),
        ("platelets_10e9_l", float("-inf"), "must be a finite number"),
        ("prior_therapies", "ssta", "must be a list of modality keys (an empty list means none)"),
        ("prior_therapies", {"ssta": True}, "must be a list of modality keys (an empty list means none)"),
        ("primary_site", 5, "must be one of: pancreas, small_intestine"),
        ("funding", "insurance", "must be one of: nhs or private"),
    ],
)
def test_a_value_of_the_wrong_type_is_rejected_with_a_readable_message(
    fact: str, value: Any, message: str
) -> None:
    (error,) = errors({fact: value})
    assert error["loc"] == [fact]
    assert error["msg"].startswith(message)


@pytest.mark.parametrize("data", [[{"ecog": 1}], "ecog=1", None, 42])
def test_a_profile_that_is_not_an_object_is_rejected(data: Any) -> None:
    assert errors(data) == [{"loc": [], "msg": "must be an object of facts"}]


def test_error_locations_carry_the_prefix_of_the_body_they_came_in() -> None:
    assert errors({"ki67_percent": 140, "prior_therapies": ["x"]}, ("profile",)) == [
        {"loc": ["profile", "ki67_percent"], "msg": "must be at most 100 %"},
        {"loc": ["profile", "prior_therapies", 0], "msg": errors({"prior_therapies": ["x"]})[0]["msg"]},
    ]
    assert errors({"ecog": 9}, ("profiles", 3))[0]["loc"] == ["profiles", 3, "ecog"]


# --- every error type has a message written for people --------------------------------------------

BAD_PYTHON_INPUTS: list[Any] = [
    None,
    [],
    "profile",
    42,
    {1: "one"},
    {"tumour_colour": "blue"},
    *[{fact: value} for fact in CONTRACT_FACTS for value in ("not-a-value", 1.5, True, -1, [None], {"a": 1})],
    *[{fact: value} for fact in NUMERIC for value in (10**6, -(10**6), 10**400, float("nan"), float("inf"))],
    {"prior_therapies": ("ssta",)},
    {"prior_therapies": [1, "ssta", None]},
    {"funding": 0},
    {"prior_therapies": ["ssta"], "prior_therapy_details": [{"best_response": "stable"}]},
    {"prior_therapies": ["ssta"], "prior_therapy_details": [{"modality": "ssta", "pfs_months": -1}]},
    {"prior_therapies": ["ssta"], "prior_therapy_details": [{"modality": "ssta", "colour": "red"}]},
    {"who_grade": "G1", "ki67_percent": 30},
]
BAD_JSON_INPUTS = [
    "",
    "{",
    "[1]",
    "null",
    '{"ki67_percent": NaN}',
    '{"ki67_percent": 1e400}',
    '{"ecog": 2.5}',
    '{"ecog": "2"}',
    '{"pregnant": "true"}',
    '{"prior_therapies": "ssta"}',
    '{"who_grade": "G4"}',
    '{"ki67_percent": 101}',
    '{"extra": 1}',
    '{"ecog": 1,}',
]


def test_every_error_a_bad_profile_can_raise_has_a_message_written_for_people() -> None:
    found: set[str] = set()
    for data in BAD_PYTHON_INPUTS:
        found |= error_types(PatientProfile.model_validate, data)
    for text in BAD_JSON_INPUTS:
        found |= error_types(PatientProfile.model_validate_json, text)
    unreadable = sorted(kind for kind in found if not has_readable_message(kind))
    assert not unreadable, f"add a message to profile._MESSAGES for {unreadable}"
    # The inputs above must stay broad enough to be worth something.
    assert {"extra_forbidden", "literal_error", "bool_type", "int_type", "float_type", "list_type"} <= found
    assert {"finite_number", "greater_than_equal", "less_than_equal", "greater_than", "model_type"} <= found


def test_no_message_repeats_pydantics_own_wording() -> None:
    for data in BAD_PYTHON_INPUTS:
        try:
            PatientProfile.model_validate(data)
        except ValidationError as exc:
            for error, readable in zip(exc.errors(), error_list(exc), strict=True):
                if error["type"] != "inconsistent_facts":  # our own words already
                    assert readable["msg"] != error["msg"], error


# --- contract 1.2 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "read"), [(True, "branch"), (False, "none"), ("main", "main"), (None, None)]
)
def test_a_v1_boolean_portal_vein_thrombosis_reads_as_the_1_2_value(sent: Any, read: Any) -> None:
    # v1 "true" did not say main or branch: it keeps the 1.1 caution and never the main-PVT
    # contraindication (knowledge-base review A7).
    assert PatientProfile.model_validate({"portal_vein_thrombosis": sent}).portal_vein_thrombosis == read


def test_the_v1_reading_of_portal_vein_thrombosis_is_written_in_its_description() -> None:
    description = PatientProfile.model_fields["portal_vein_thrombosis"].description or ""
    assert "true reads as 'branch'" in description and "false as 'none'" in description


def test_rarely_needed_facts_sit_in_groups_a_form_can_fold_and_say_so() -> None:
    assert ADVANCED_GROUPS <= {key for key, _ in GROUPS}
    for name in CONTRACT_FACTS:
        extra = PatientProfile.model_fields[name].json_schema_extra
        assert isinstance(extra, dict)
        assert extra["advanced"] is (extra["group"] in ADVANCED_GROUPS), name
    assert "tumour" not in ADVANCED_GROUPS and "fitness" not in ADVANCED_GROUPS


def test_details_of_prior_therapies_are_records_not_a_list_of_keys() -> None:
    assert fact_kind("prior_therapy_details") == "records"
    assert fact_kind("prior_therapies") == "list"


def test_the_same_value_reads_by_its_fact_where_it_means_different_things() -> None:
    assert value_label("none", "functional_syndrome") == "None (non-functioning)"
    assert value_label("none", "portal_vein_thrombosis") == "None"
    assert value_label("men1") == "MEN1"
    assert value_label("typical_carcinoid") == "Typical carcinoid"


def test_the_fingerprint_ignores_the_order_of_prior_therapies_and_of_their_details() -> None:
    details = [{"modality": "ssta", "best_response": "stable"}, {"modality": "everolimus", "pfs_months": 9}]
    one = {"prior_therapies": ["ssta", "everolimus"], "prior_therapy_details": details}
    other = {"prior_therapies": ["everolimus", "ssta"], "prior_therapy_details": details[::-1]}

    assert facts_fingerprint(one) == facts_fingerprint(other)
    assert facts_fingerprint(one) != facts_fingerprint({**one, "prior_therapy_details": details[:1]})


def test_the_fingerprint_of_a_profile_stored_before_1_2_is_what_it_was() -> None:
    # Computed by the code before contract 1.2: stored evaluations are compared with it.
    stored = {"prior_therapies": ["ssta", "everolimus"], "portal_vein_thrombosis": True, "ecog": 1}
    assert facts_fingerprint(stored) == FINGERPRINT_BEFORE_1_2
