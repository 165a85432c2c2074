"""The FHIR mapping (treatments/fhir/mapping.py) against the acceptance criteria of docs/fhir.md
(parsing and envelope, the example bundles, units, freshness, conflicts, unknown stays unknown)."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from treatments.fhir import codes as C
from treatments.fhir.mapping import FhirInputError, MappingOptions, map_bundle, map_resources
from treatments.rules.engine import CompiledRuleSet
from treatments.rules.profile import PatientProfile

from .builders import (
    NOW,
    bundle,
    concept,
    condition,
    mapped,
    medication,
    net_primary,
    observation,
    patient,
    quantity,
)

ROOT = Path(__file__).resolve().parents[2]
BUNDLES = ROOT / "fixtures" / "fhir"
EXPECTED = sorted((Path(__file__).parent / "expected").glob("*.yaml"))
SPEC_BUNDLES = ("ex-si-net-g2.json", "ex-panc-nec-g3.json", "ex-sparse.json")


def load_bundle(name: str) -> dict[str, Any]:
    return json.loads((BUNDLES / name).read_text(encoding="utf-8"))


def as_of(case: dict[str, Any]) -> datetime:
    day = case["as_of"]
    return datetime(day.year, day.month, day.day, 12)


# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SPEC_BUNDLES)
def test_the_example_bundles_parse_with_the_r4b_models(name: str) -> None:
    from fhir.resources.R4B.bundle import Bundle

    assert Bundle.model_validate(load_bundle(name)).entry


def test_the_r4_bundle_is_refused_by_the_root_r5_models() -> None:
    from fhir.resources.bundle import Bundle as R5Bundle
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        R5Bundle.model_validate(load_bundle("ex-si-net-g2.json"))


def test_the_models_are_imported_only_from_r4b() -> None:
    sources = [path.read_text(encoding="utf-8") for path in (ROOT / "treatments").rglob("*.py")]
    imports = [
        line
        for text in sources
        for line in text.splitlines()
        if "fhir.resources" in line and "import" in line
    ]
    assert imports and all("fhir.resources.R4B" in line for line in imports)


# --- envelope ---------------------------------------------------------------------------------


def test_an_unknown_element_is_refused_naming_it() -> None:
    data = bundle(observation(f"{C.LNC}|777-3", valueQuantity=quantity(200, "10*9/L"), colour="blue"))
    with pytest.raises(FhirInputError) as raised:
        map_bundle(data, now=NOW)
    assert raised.value.code == "invalid"
    assert any(
        error["loc"][:3] == ["bundle", "entry", 1] and "colour" in error["loc"]
        for error in raised.value.errors
    )
    assert raised.value.location.startswith("Bundle.entry[1]")


def test_a_wrong_type_is_refused_naming_the_element() -> None:
    data = bundle(observation(f"{C.LNC}|89247-1", valueInteger="one"))
    with pytest.raises(FhirInputError) as raised:
        map_bundle(data, now=NOW)
    assert any("valueInteger" in error["loc"] for error in raised.value.errors)


def test_not_a_bundle_is_refused() -> None:
    with pytest.raises(FhirInputError) as raised:
        map_bundle(patient(), now=NOW)
    assert raised.value.code == "not_a_bundle"
    assert raised.value.errors[0]["loc"] == ["bundle", "resourceType"]


def test_two_patients_are_refused() -> None:
    data = bundle(patient() | {"id": "someone-else"})
    with pytest.raises(FhirInputError) as raised:
        map_bundle(data, now=NOW)
    assert raised.value.code == "multiple_patients"


@pytest.mark.parametrize("deceased", [{"deceasedBoolean": True}, {"deceasedDateTime": "2026-10-01"}])
def test_a_deceased_patient_is_refused(deceased: dict[str, Any]) -> None:
    data = bundle(with_patient=False)
    data["entry"] = [{"resource": patient(**deceased)}]
    with pytest.raises(FhirInputError) as raised:
        map_bundle(data, now=NOW)
    assert raised.value.code == "deceased"
    assert raised.value.errors[0]["loc"][-1] in deceased


def test_too_many_entries_are_refused_before_parsing() -> None:
    data = bundle(
        *[observation(f"{C.LNC}|777-3", id=f"o{i}", valueQuantity=quantity(200, "10*9/L")) for i in range(5)]
    )
    with pytest.raises(FhirInputError) as raised:
        map_bundle(data, now=NOW, options=MappingOptions(max_entries=5))
    assert raised.value.code == "too_many_entries"


def test_a_resource_about_another_patient_is_ignored() -> None:
    other = observation(f"{C.LNC}|777-3", valueQuantity=quantity(200, "10*9/L"))
    other["subject"] = {"reference": "Patient/someone-else"}
    result = mapped(other)
    assert "platelets_10e9_l" not in result.profile
    assert ("subject_mismatch", None) in result.issue_codes()


def test_prefetch_resources_map_like_a_bundle() -> None:
    data = load_bundle("ex-si-net-g2.json")
    resources: list[Any] = [entry["resource"] for entry in data["entry"]]
    searchset = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources[5:]],
    }
    loose = map_resources(
        [*resources[:5], searchset, None], patient_id="pt-si-g2", now=datetime(2026, 11, 20)
    )
    assert loose.profile == map_bundle(data, now=datetime(2026, 11, 20)).profile


def test_prefetch_for_another_patient_in_context_is_refused() -> None:
    with pytest.raises(FhirInputError) as raised:
        map_resources([patient()], patient_id="not-pt-1", now=NOW)
    assert raised.value.code == "subject_mismatch"


def test_a_prefetch_operation_outcome_is_an_issue() -> None:
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]}
    result = map_resources([outcome, patient(birthDate="1960-01-15")], patient_id="pt-1", now=NOW)
    assert ("prefetch_error", None) in result.issue_codes()
    assert result.profile == {"age_years": 66}


# --- the example bundles ----------------------------------------------------------------------


@pytest.mark.parametrize("path", EXPECTED, ids=[path.stem for path in EXPECTED])
def test_an_example_bundle_maps_to_exactly_its_profile_proposals_and_issues(path: Path) -> None:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    result = map_bundle(load_bundle(case["bundle"]), now=as_of(case))
    assert result.profile == case["profile"]
    assert {fact: p["value"] for fact, p in result.proposals.items()} == case["proposals"]
    assert result.issue_codes() == {tuple(issue) for issue in case["issues"]}
    PatientProfile.model_validate(result.profile)


@pytest.mark.parametrize("path", EXPECTED, ids=[path.stem for path in EXPECTED])
def test_an_example_bundle_gives_its_expected_statuses(path: Path, compiled: CompiledRuleSet) -> None:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    result = map_bundle(load_bundle(case["bundle"]), now=as_of(case))
    evaluation = compiled.evaluate(PatientProfile.model_validate(result.profile))
    assert evaluation.statuses() == case["expect"]
    for modality, facts in (case.get("missing_facts") or {}).items():
        assert set(evaluation.verdict(modality).missing_facts) == set(facts), modality


@pytest.mark.parametrize("name", sorted(path.name for path in BUNDLES.glob("*.json")))
def test_every_fact_has_provenance_whose_sources_are_in_the_input(name: str) -> None:
    data = load_bundle(name)
    refs = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in data["entry"]}
    result = map_bundle(data, now=datetime(2026, 11, 20))
    assert set(result.provenance) == set(result.profile)
    for fact, provenance in [*result.provenance.items(), *result.proposals.items()]:
        assert provenance["sources"], fact
        assert {source["ref"] for source in provenance["sources"]} <= refs, fact
        assert provenance["derived"] == (provenance["level"] == "derived")


def test_the_provenance_carries_the_original_value_and_unit() -> None:
    result = map_bundle(load_bundle("ex-panc-nec-g3.json"), now=datetime(2026, 11, 20))
    bilirubin = result.provenance["bilirubin_umol_l"]
    assert bilirubin["sources"][0]["original"] == {"value": 0.6, "unit": "mg/dL", "code": "mg/dL"}
    assert bilirubin["sources"][0]["effective"] == "2026-11-12"
    assert result.provenance["age_years"]["level"] == "derived"


# --- units ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "value", "ucum", "fact", "expected"),
    [
        ("1975-2", 0.6, "mg/dL", "bilirubin_umol_l", 10.26),
        ("777-3", 310, "10*3/uL", "platelets_10e9_l", 310),
        ("777-3", 250000, "/uL", "platelets_10e9_l", 250),
    ],
)
def test_units_convert_to_the_contract_unit(
    code: str, value: float, ucum: str, fact: str, expected: float
) -> None:
    assert (
        mapped(observation(f"{C.LNC}|{code}", valueQuantity=quantity(value, ucum))).profile[fact] == expected
    )


def test_an_egfr_in_ml_min_is_a_different_quantity() -> None:
    result = mapped(observation(f"{C.LNC}|98979-8", valueQuantity=quantity(75, "mL/min")))
    assert "egfr_ml_min" not in result.profile
    assert ("unsupported_quantity", "egfr_ml_min") in result.issue_codes()


def test_a_value_without_a_unit_is_unknown() -> None:
    result = mapped(observation(f"{C.LNC}|777-3", valueQuantity={"value": 180}))
    assert "platelets_10e9_l" not in result.profile
    assert ("unit_missing", "platelets_10e9_l") in result.issue_codes()


def test_a_unit_the_fact_does_not_accept_is_refused() -> None:
    result = mapped(observation(f"{C.LNC}|777-3", valueQuantity=quantity(180, "%")))
    assert "platelets_10e9_l" not in result.profile
    assert ("unsupported_unit", "platelets_10e9_l") in result.issue_codes()


def test_a_comparator_makes_the_value_unknown() -> None:
    result = mapped(
        observation(f"{C.LNC}|14631-6", valueQuantity=quantity(3, "umol/L") | {"comparator": "<"})
    )
    assert "bilirubin_umol_l" not in result.profile
    assert ("comparator", "bilirubin_umol_l") in result.issue_codes()


def test_a_value_out_of_the_contract_range_is_dropped() -> None:
    result = mapped(observation(f"{C.LNC}|777-3", valueQuantity=quantity(9000, "10*9/L")))
    assert "platelets_10e9_l" not in result.profile
    assert ("out_of_range", "platelets_10e9_l") in result.issue_codes()


# --- freshness --------------------------------------------------------------------------------


@pytest.mark.parametrize(("effective", "used"), [("2026-10-21", True), ("2026-10-20", False)])
def test_a_platelet_count_is_used_up_to_30_days_old(effective: str, used: bool) -> None:
    assert (NOW.date() - date.fromisoformat(effective)).days == (30 if used else 31)
    result = mapped(observation(f"{C.LNC}|777-3", effective=effective, valueQuantity=quantity(200, "10*9/L")))
    assert ("platelets_10e9_l" in result.profile) is used
    assert (("stale", "platelets_10e9_l") in result.issue_codes()) is not used


def test_the_freshness_windows_are_options() -> None:
    old = observation(f"{C.LNC}|777-3", effective="2026-09-01", valueQuantity=quantity(200, "10*9/L"))
    assert "platelets_10e9_l" not in mapped(old).profile
    longer = MappingOptions(max_age_days={"platelets_10e9_l": 120})
    assert mapped(old, options=longer).profile["platelets_10e9_l"] == 200


def test_a_time_bounded_value_without_a_date_is_unknown() -> None:
    result = mapped(observation(f"{C.LNC}|777-3", effective=None, valueQuantity=quantity(200, "10*9/L")))
    assert "platelets_10e9_l" not in result.profile
    assert ("no_effective_date", "platelets_10e9_l") in result.issue_codes()


def test_a_future_value_is_ignored() -> None:
    result = mapped(
        observation(f"{C.LNC}|777-3", effective="2026-12-01", valueQuantity=quantity(200, "10*9/L"))
    )
    assert ("future_date", "platelets_10e9_l") in result.issue_codes()
    assert "platelets_10e9_l" not in result.profile


def test_an_m0_negative_expires_after_180_days() -> None:
    m0 = observation(
        f"{C.SCT}|399387003", effective="2026-01-01", valueCodeableConcept=concept(f"{C.SCT}|1229901006")
    )
    result = mapped(m0)
    assert "liver_metastases" not in result.profile
    assert ("stale", "liver_metastases") in result.issue_codes()


# --- conflicts --------------------------------------------------------------------------------


def ki67(value: float, day: str, id: str) -> dict[str, Any]:
    return observation(f"{C.LNC}|29593-1", id=id, effective=day, valueQuantity=quantity(value, "%"))


def test_ki67_in_different_bands_is_a_conflict() -> None:
    result = mapped(ki67(2, "2026-09-10", "a"), ki67(25, "2026-10-20", "b"))
    assert "ki67_percent" not in result.profile
    assert ("conflict", "ki67_percent") in result.issue_codes()


def test_ki67_in_the_same_band_takes_the_latest() -> None:
    result = mapped(ki67(8, "2026-09-10", "a"), ki67(12, "2026-10-20", "b"))
    assert result.profile["ki67_percent"] == 12
    assert result.provenance["ki67_percent"]["sources"][0]["ref"] == "Observation/b"
    assert result.provenance["ki67_percent"]["considered"][0]["ref"] == "Observation/a"


def grade(value: str, id: str) -> dict[str, Any]:
    return observation(f"{C.NCIT}|C18000", id=id, valueCodeableConcept=concept(f"{C.SCT}|{value}"))


def test_grades_that_disagree_are_a_conflict() -> None:
    result = mapped(grade("1663004", "g2"), grade("61026006", "g3"))
    assert "who_grade" not in result.profile
    issue = next(issue for issue in result.issues if issue.code == "conflict")
    assert "Observation/g2" in issue.message and "Observation/g3" in issue.message


def test_the_latest_lab_wins_and_a_same_day_correction_wins_a_tie() -> None:
    older = observation(
        f"{C.LNC}|777-3", id="a", effective="2026-11-01", valueQuantity=quantity(100, "10*9/L")
    )
    newer = observation(
        f"{C.LNC}|777-3", id="b", effective="2026-11-10", valueQuantity=quantity(150, "10*9/L")
    )
    assert mapped(older, newer).profile["platelets_10e9_l"] == 150
    corrected = observation(
        f"{C.LNC}|777-3",
        id="c",
        effective="2026-11-10",
        status="corrected",
        valueQuantity=quantity(160, "10*9/L"),
    )
    assert mapped(older, newer, corrected).profile["platelets_10e9_l"] == 160


def test_same_day_labs_that_disagree_are_a_conflict() -> None:
    one = observation(f"{C.LNC}|777-3", id="a", valueQuantity=quantity(100, "10*9/L"))
    two = observation(f"{C.LNC}|777-3", id="b", valueQuantity=quantity(150, "10*9/L"))
    assert ("conflict", "platelets_10e9_l") in mapped(one, two).issue_codes()


def test_sites_that_disagree_are_a_conflict() -> None:
    one = condition(f"{C.ICD10CM}|C7A.012", id="a")
    two = condition(f"{C.ICD10CM}|C7A.092", id="b")
    result = mapped(one, two)
    assert "primary_site" not in result.profile
    assert ("conflict", "primary_site") in result.issue_codes()


def test_a_later_explicit_negative_overrides_a_positive() -> None:
    mets = condition(f"{C.SCT}|94381002", recorded="2026-05-01")
    cleared = observation(f"{C.NETOBS}|extrahepatic-disease", id="x", valueBoolean=False)
    assessment = {
        "resourceType": "QuestionnaireResponse",
        "id": "mdt",
        "questionnaire": C.MDT_ASSESSMENT,
        "status": "completed",
        "subject": {"reference": "Patient/pt-1"},
        "authored": "2026-11-10",
        "item": [{"linkId": "liver_metastases", "answer": [{"valueBoolean": False}]}],
    }
    result = mapped(mets, cleared, assessment)
    assert result.profile["liver_metastases"] is False
    assert result.provenance["liver_metastases"]["sources"][0]["ref"] == "QuestionnaireResponse/mdt"
    assert mapped(mets).profile["liver_metastases"] is True


def test_a_contradiction_between_mapped_facts_leaves_both_unknown() -> None:
    mets = condition(f"{C.SCT}|94381002")
    localised = observation(f"{C.NETOBS}|liver-lesion-count", valueInteger=3)
    m0 = observation(f"{C.SCT}|399387003", id="m0", valueCodeableConcept=concept(f"{C.SCT}|1229901006"))
    result = mapped(localised, m0)
    assert "liver_metastases" not in result.profile and "liver_lesion_count" not in result.profile
    assert ("conflict", "liver_metastases") in result.issue_codes()
    assert mapped(mets, localised).profile["liver_lesion_count"] == 3


def test_nil_known_with_a_recorded_treatment_is_the_union_with_an_issue() -> None:
    nil = {
        "resourceType": "List",
        "id": "nil",
        "status": "current",
        "mode": "snapshot",
        "code": concept(f"{C.LNC}|10160-0"),
        "subject": {"reference": "Patient/pt-1"},
        "emptyReason": concept(C.LIST_EMPTY_NILKNOWN),
    }
    result = mapped(nil, medication(f"{C.ATC}|H01CB02"))
    assert result.profile["prior_therapies"] == ["ssta"]
    assert ("conflict_nilknown", "prior_therapies") in result.issue_codes()


# --- assessment, proposals --------------------------------------------------------------------


def test_the_mdt_assessment_states_judgement_facts() -> None:
    assessment = {
        "resourceType": "QuestionnaireResponse",
        "id": "mdt",
        "questionnaire": C.MDT_ASSESSMENT + "|1.0.0",
        "status": "completed",
        "subject": {"reference": "Patient/pt-1"},
        "authored": "2026-11-10",
        "item": [
            {"linkId": "resectable", "answer": [{"valueBoolean": False}]},
            {
                "linkId": "functional_syndrome",
                "answer": [{"valueCoding": {"system": C.NETVAL, "code": "none"}}],
            },
            {"linkId": "liver_lesion_count", "answer": [{"valueInteger": 12}]},
            {"linkId": "largest_liver_lesion_mm", "answer": [{"valueDecimal": 45.0}]},
            {"linkId": "ecog", "answer": [{"valueInteger": 1}]},
        ],
    }
    result = mapped(assessment)
    assert result.profile == {
        "resectable": False,
        "liver_lesion_count": 12,
        "largest_liver_lesion_mm": 45.0,
        "functional_syndrome": "none",
        "age_years": 66,
    }
    assert ("unknown_item", None) in result.issue_codes()  # ECOG comes from its own observation
    stale = mapped(assessment | {"authored": "2026-07-01"})
    assert "resectable" not in stale.profile


def test_nec_nos_8246_is_only_a_proposal() -> None:
    result = mapped(condition(morphology=(f"{C.ICDO3}|8246/3",)))
    assert "differentiation" not in result.profile
    assert result.proposals["differentiation"]["value"] == "poorly"


def test_8249_never_sets_the_grade() -> None:
    assert "who_grade" not in mapped(condition(morphology=(f"{C.ICDO3}|8249/3",))).profile


def test_a_provisional_condition_gives_proposals_only() -> None:
    result = mapped(condition(f"{C.ICD10CM}|C7A.012", verification="provisional"))
    assert "primary_site" not in result.profile
    assert result.proposals["primary_site"]["value"] == "small_intestine"


def test_a_refuted_condition_is_ignored() -> None:
    assert "liver_metastases" not in mapped(condition(f"{C.SCT}|94381002", verification="refuted")).proposals


def test_months_since_diagnosis_is_derived_from_the_onset() -> None:
    result = mapped(net_primary(onsetDateTime="2025-11-20"))
    assert result.profile["months_since_diagnosis"] == 12.0
    assert result.provenance["months_since_diagnosis"]["level"] == "derived"


def test_a_partial_birth_date_gives_an_age_only_when_every_day_agrees() -> None:
    data = bundle(with_patient=False)
    data["entry"] = [{"resource": patient(birthDate="1960")}]
    assert "age_years" not in map_bundle(data, now=NOW).profile
    data["entry"] = [{"resource": patient(birthDate="1960-03")}]
    assert map_bundle(data, now=NOW).profile["age_years"] == 66


# --- unknown stays unknown --------------------------------------------------------------------

# The rules that may give false, "none" or [] (docs/fhir.md 2.4): explicit negative statements only.
NEGATIVE_RULES = {"fhir.tnm.m0", "fhir.list.nilknown", "fhir.pregnancy_status", "fhir.assessment"}


def test_a_primary_alone_gives_only_the_primary_facts() -> None:
    result = mapped(net_primary())
    assert result.profile == {"primary_site": "small_intestine", "differentiation": "well", "age_years": 66}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_removing_resources_never_invents_a_negative_value(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(SPEC_BUNDLES))
    full = load_bundle(name)
    keep = data.draw(st.lists(st.booleans(), min_size=len(full["entry"]), max_size=len(full["entry"])))
    part = copy.deepcopy(full)
    part["entry"] = [entry for entry, kept in zip(full["entry"], keep, strict=True) if kept]
    result = map_bundle(part, now=datetime(2026, 11, 20))
    kept_refs = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in part["entry"]}
    for fact, value in result.profile.items():
        provenance = result.provenance[fact]
        assert {source["ref"] for source in provenance["sources"]} <= kept_refs
        if value is False or value == "none" or value == []:
            assert provenance["rule"] in NEGATIVE_RULES, (fact, provenance["rule"])


# --- the example bundles of contract 1.2 facts ------------------------------------------------

# One bundle per contract 1.2 fact that a code can give (the others come from the MDT assessment).
BUNDLES_1_2: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "ex-1-2-haemoglobin.json": ({"haemoglobin_g_l": 118.0}, {}),
    "ex-1-2-hereditary-men1.json": ({"hereditary_syndrome": "men1"}, {}),
    "ex-1-2-lung-atypical-carcinoid.json": ({"lung_histology": "atypical_carcinoid"}, {}),
    "ex-1-2-months-since-diagnosis.json": ({"months_since_diagnosis": 18.0}, {}),
    "ex-1-2-primary-tumour-size.json": ({}, {"primary_tumour_size_mm": 14.0}),
    "ex-1-2-telotristat-cabozantinib.json": ({"prior_therapies": ["telotristat", "cabozantinib"]}, {}),
    "ex-1-2-mdt-assessment.json": (
        {
            "childbearing_potential": False,
            "breastfeeding": False,
            "dpd_status": "normal",
            "biliary_enteric_anastomosis": False,
            "syndrome_refractory": True,
            "bowel_movements_per_day": 7,
            "gastric_net_type": "type_3",
            "hereditary_syndrome": "none",
        },
        {},
    ),
}


@pytest.mark.parametrize("name", sorted(BUNDLES_1_2))
def test_a_contract_1_2_example_bundle_gives_its_fact(name: str) -> None:
    facts, proposals = BUNDLES_1_2[name]
    result = map_bundle(load_bundle(name), now=datetime(2026, 11, 20, 12))
    assert facts.items() <= result.profile.items()
    assert proposals.items() <= {fact: p["value"] for fact, p in result.proposals.items()}.items()
    assert not [issue for issue in result.issues if issue.severity != "information"]
    assert "disease_status" not in result.proposals or name != "ex-1-2-months-since-diagnosis.json"


def test_every_example_bundle_is_tested() -> None:
    names = {path.name for path in BUNDLES.glob("ex-*.json")}
    assert names == set(SPEC_BUNDLES) | set(BUNDLES_1_2)


@pytest.mark.parametrize(
    ("entry", "loc"),
    [
        ({"resource": {"resourceType": "Nope"}}, ["bundle", "entry", 0, "resource", "resourceType"]),
        ({"resource": {"id": "x"}}, ["bundle", "entry", 0, "resource", "resourceType"]),
        ({"resource": [1]}, ["bundle", "entry", 0, "resource"]),
    ],
)
def test_an_entry_that_is_not_a_resource_is_refused_naming_it(entry: dict[str, Any], loc: list[Any]) -> None:
    data = {"resourceType": "Bundle", "type": "collection", "entry": [entry]}
    with pytest.raises(FhirInputError) as raised:
        map_bundle(data, now=NOW)
    assert raised.value.code == "invalid"
    assert raised.value.errors[0]["loc"][: len(loc)] == loc


def test_a_prefetch_resource_of_an_unknown_type_is_refused() -> None:
    with pytest.raises(FhirInputError) as raised:
        map_resources([{"resourceType": "Nope"}], patient_id="pt-1", now=NOW)
    assert raised.value.errors[0]["loc"] == ["resources", 0, "resourceType"]


def test_an_invalid_resource_in_a_prefetch_searchset_is_refused_naming_the_element() -> None:
    searchset = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"resource": {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/pt-1"}}},
            {"resource": {"resourceType": "Observation", "id": "o1", "status": "final", "unknownElement": 1}},
        ],
    }
    with pytest.raises(FhirInputError) as raised:
        map_resources([{"resourceType": "Patient", "id": "pt-1"}, searchset], patient_id="pt-1", now=NOW)
    assert raised.value.code == "invalid"
    assert ["resources", 1, "entry", 1, "resource", "unknownElement"] in [
        e["loc"] for e in raised.value.errors
    ]
