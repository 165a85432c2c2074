"""One test per row of every code table in treatments/fhir/codes.py and units.py (docs/fhir.md 3).

Each row is mapped through `map_bundle` from a small, valid R4 bundle, so a row that the mapping
does not read (or reads as another fact) fails here by name.
"""

from __future__ import annotations

from typing import Any

import pytest

from treatments.fhir import codes as C
from treatments.fhir.mapping import MappingOptions
from treatments.fhir.units import UCUM_FACTORS, UNIT_TEXT_SYNONYMS

from .builders import SUBJECT, concept, condition, mapped, medication, observation, quantity

NET_ONLY = f"{C.ICD10CM}|C7A.00"  # a NET, site unspecified


def fact_or_proposal(result: Any, fact: str) -> Any:
    if fact in result.profile:
        return result.profile[fact], "fact"
    if fact in result.proposals:
        return result.proposals[fact]["value"], "proposed"
    return None, None


# --- primary site -----------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "site"), C.SITE_BY_BODY_SITE.items())
def test_a_body_site_names_the_primary_site(code: str, site: str) -> None:
    result = mapped(condition(NET_ONLY, body_site=(code,)))
    assert result.profile["primary_site"] == site
    assert result.provenance["primary_site"]["sources"][0]["code"] == code


@pytest.mark.parametrize(("prefix", "site"), C.SITE_BY_ICD10_PREFIX.items())
def test_a_who_icd10_topography_names_the_primary_site(prefix: str, site: str) -> None:
    result = mapped(condition(f"{C.ICD10}|{prefix}", morphology=(f"{C.ICDO3}|8240/3",)))
    assert result.profile["primary_site"] == site


@pytest.mark.parametrize(("code", "site"), C.SITE_BY_ICD10CM.items())
def test_an_icd10cm_carcinoid_code_names_the_primary_site(code: str, site: str) -> None:
    assert mapped(condition(f"{C.ICD10CM}|{code}")).profile["primary_site"] == site


@pytest.mark.parametrize(("morphology", "site"), C.SITE_BY_MORPHOLOGY.items())
def test_a_morphology_names_the_sites_only_it_can_name(morphology: str, site: str) -> None:
    assert mapped(condition(morphology=(f"{C.ICDO3}|{morphology}",))).profile["primary_site"] == site


def test_icd10cm_c7a00_unspecified_site_is_not_unknown_primary() -> None:
    assert "primary_site" not in mapped(condition(NET_ONLY)).profile


def test_icd10cm_c80_0_is_not_read_as_unknown_primary_only_who_icd10_is() -> None:
    result = mapped(condition(f"{C.ICD10CM}|C80.0", morphology=(f"{C.ICDO3}|8240/3",)))
    assert "primary_site" not in result.profile


# --- morphology -------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "row"), C.DIFFERENTIATION_BY_ICDO3.items())
def test_an_icdo3_morphology_gives_differentiation_at_its_level(code: str, row: tuple[str, str]) -> None:
    value, level = row
    result = mapped(condition(morphology=(f"{C.ICDO3}|{code}",)))
    assert fact_or_proposal(result, "differentiation") == (
        value,
        "proposed" if level == "proposed" else "fact",
    )
    assert "who_grade" not in result.profile  # ICD-O never implies a grade (8249/3 is G2 or G3)


@pytest.mark.parametrize(("code", "row"), C.MORPHOLOGY_BY_SNOMED.items())
def test_a_snomed_morphology_gives_differentiation_and_grade(
    code: str, row: tuple[str, str, str | None]
) -> None:
    value, level, grade = row
    result = mapped(condition(NET_ONLY, morphology=(code,)))
    assert fact_or_proposal(result, "differentiation") == (
        value,
        "proposed" if level == "proposed" else "fact",
    )
    assert result.profile.get("who_grade") == grade


@pytest.mark.parametrize(("code", "value"), C.DIFFERENTIATION_BY_ICD10CM.items())
def test_icd10cm_poorly_differentiated_net_gives_differentiation(code: str, value: str) -> None:
    assert mapped(condition(f"{C.ICD10CM}|{code}")).profile["differentiation"] == value


@pytest.mark.parametrize("code", sorted(C.MIXED_HISTOLOGY_ICDO3))
def test_minen_leaves_differentiation_unknown_with_an_issue(code: str) -> None:
    result = mapped(condition(morphology=(f"{C.ICDO3}|{code}",)))
    assert "differentiation" not in result.profile
    assert ("mixed_histology", "differentiation") in result.issue_codes()


@pytest.mark.parametrize(("code", "syndrome"), C.SYNDROME_BY_ICDO3.items())
def test_a_functioning_morphology_names_the_syndrome(code: str, syndrome: str) -> None:
    assert mapped(condition(morphology=(f"{C.ICDO3}|{code}",))).profile["functional_syndrome"] == syndrome


@pytest.mark.parametrize(("code", "histology"), C.LUNG_HISTOLOGY_BY_ICDO3.items())
def test_a_lung_morphology_gives_the_thoracic_histology_only_in_the_lung(code: str, histology: str) -> None:
    lung = mapped(condition(morphology=(f"{C.ICDO3}|{code}",), body_site=(f"{C.SCT}|39607008",)))
    assert lung.profile["lung_histology"] == histology
    assert lung.provenance["lung_histology"]["level"] == "derived"
    ileum = mapped(condition(morphology=(f"{C.ICDO3}|{code}",), body_site=(f"{C.SCT}|34516001",)))
    assert "lung_histology" not in ileum.profile


@pytest.mark.parametrize("prefix", C.NET_ICD10_PREFIXES)
def test_a_who_icd10_net_code_makes_a_net_primary(prefix: str) -> None:
    assert mapped(condition(f"{C.ICD10}|{prefix}")).profile["primary_site"] == "pancreas"


# --- grade, TNM, status, performance ----------------------------------------------------------


@pytest.mark.parametrize("code", sorted(C.GRADE_OBSERVATION_CODES))
@pytest.mark.parametrize(("value_code", "grade"), C.GRADE_BY_SNOMED.items())
def test_a_grade_observation_gives_the_who_grade(code: str, value_code: str, grade: str | None) -> None:
    result = mapped(observation(code, valueCodeableConcept=concept(value_code)))
    assert result.profile.get("who_grade") == grade


@pytest.mark.parametrize("code", sorted(C.M_CATEGORY_CODES))
@pytest.mark.parametrize(("value_code", "category"), C.M_VALUE.items())
def test_an_m_category_gives_the_extent_or_an_explicit_negative(
    code: str, value_code: str, category: str
) -> None:
    result = mapped(observation(code, valueCodeableConcept=concept(value_code)))
    if category == "M1":
        assert result.profile["disease_extent"] == "metastatic"
        assert result.provenance["disease_extent"]["level"] == "derived"
    else:
        assert result.profile["liver_metastases"] is False
        assert "disease_extent" not in result.profile  # M0 without N stays unknown


@pytest.mark.parametrize("code", sorted(C.N_CATEGORY_CODES))
@pytest.mark.parametrize(("value_code", "category"), C.N_VALUE.items())
def test_m0_with_n0_is_localised_and_with_n1_or_above_locoregional(
    code: str, value_code: str, category: str
) -> None:
    m0 = observation(f"{C.SCT}|399387003", id="m", valueCodeableConcept=concept(f"{C.SCT}|1229901006"))
    nodes = observation(code, id="n", valueCodeableConcept=concept(value_code))
    result = mapped(m0, nodes)
    assert result.profile["disease_extent"] == ("localised" if category == "N0" else "locoregional")
    assert result.provenance["disease_extent"]["level"] == "derived"
    assert "disease_extent" not in mapped(nodes).profile  # N alone says nothing of distant disease


def test_n0_and_n1_together_leave_the_extent_unknown() -> None:
    m0 = observation(f"{C.SCT}|399387003", id="m", valueCodeableConcept=concept(f"{C.SCT}|1229901006"))
    n0 = observation(f"{C.SCT}|399534004", id="n0", valueCodeableConcept=concept(f"{C.SCT}|1229967007"))
    n1 = observation(f"{C.SCT}|371494008", id="n1", valueCodeableConcept=concept(f"{C.SCT}|1229951001"))
    result = mapped(m0, n0, n1)
    assert "disease_extent" not in result.profile
    assert ("conflict", "disease_extent") in result.issue_codes()


def test_m1_with_n1_stays_metastatic_not_locoregional() -> None:
    m1 = observation(f"{C.SCT}|399387003", id="m", valueCodeableConcept=concept(f"{C.SCT}|1229903009"))
    n1 = observation(f"{C.SCT}|399534004", id="n", valueCodeableConcept=concept(f"{C.SCT}|1229973008"))
    assert mapped(m1, n1).profile["disease_extent"] == "metastatic"


@pytest.mark.parametrize("code", sorted(C.KI67_CODES | C.KI67_BREAST_CODES))
def test_a_ki67_code_gives_the_index(code: str) -> None:
    result = mapped(observation(code, valueQuantity=quantity(8, "%")))
    assert result.profile["ki67_percent"] == 8
    if code in C.KI67_BREAST_CODES:
        assert ("breast_specific_code", "ki67_percent") in result.issue_codes()


@pytest.mark.parametrize("code", sorted(C.NOT_KI67_CODES))
def test_her2_and_presence_codes_are_never_read_as_ki67(code: str) -> None:
    assert "ki67_percent" not in mapped(observation(code, valueQuantity=quantity(8, "%"))).profile


@pytest.mark.parametrize(("value_code", "row"), C.DISEASE_STATUS_BY_SNOMED.items())
def test_a_disease_status_gives_the_course(value_code: str, row: tuple[str, str] | None) -> None:
    (code,) = C.DISEASE_STATUS_CODES
    result = mapped(observation(code, valueCodeableConcept=concept(value_code)))
    expected = (None, None) if row is None else (row[0], "proposed" if row[1] == "proposed" else "fact")
    assert fact_or_proposal(result, "disease_status") == expected


@pytest.mark.parametrize(("answer", "score"), C.ECOG_BY_ANSWER.items())
def test_an_ecog_answer_code_gives_the_score(answer: str, score: int) -> None:
    (code,) = C.ECOG_CODES
    assert mapped(observation(code, valueCodeableConcept=concept(answer))).profile["ecog"] == score


@pytest.mark.parametrize("score", range(5))
def test_an_ecog_integer_gives_the_score(score: int) -> None:
    (code,) = C.ECOG_CODES
    assert mapped(observation(code, valueInteger=score)).profile["ecog"] == score


@pytest.mark.parametrize("answer", sorted(C.ECOG_DEAD))
def test_ecog_5_dead_refuses_the_input(answer: str) -> None:
    from treatments.fhir.mapping import FhirInputError

    (code,) = C.ECOG_CODES
    with pytest.raises(FhirInputError) as raised:
        mapped(observation(code, valueCodeableConcept=concept(answer)))
    assert raised.value.code == "deceased"


@pytest.mark.parametrize(("answer", "pregnant"), C.PREGNANT_BY_ANSWER.items())
def test_a_pregnancy_status_answer(answer: str, pregnant: bool | None) -> None:
    (code,) = C.PREGNANCY_CODES
    assert mapped(observation(code, valueCodeableConcept=concept(answer))).profile.get("pregnant") == pregnant


@pytest.mark.parametrize(("answer", "value"), C.SSTR_BY_ANSWER.items())
def test_an_sstr_imaging_result(answer: str, value: str) -> None:
    result = mapped(observation(f"{C.NETOBS}|sstr-imaging", valueCodeableConcept=concept(answer)))
    assert result.profile["sstr_imaging"] == value


# --- laboratory -------------------------------------------------------------------------------

LAB_VALUE = {
    "egfr_ml_min": (75, "mL/min/{1.73_m2}"),
    "platelets_10e9_l": (220, "10*9/L"),
    "neutrophils_10e9_l": (4.1, "10*9/L"),
    "bilirubin_umol_l": (12, "umol/L"),
    "haemoglobin_g_l": (128, "g/L"),
}


@pytest.mark.parametrize(("code", "fact"), C.LAB_FACT_BY_CODE.items())
def test_a_laboratory_code_gives_its_fact(code: str, fact: str) -> None:
    value, ucum = LAB_VALUE[fact]
    result = mapped(observation(code, valueQuantity=quantity(value, ucum)))
    assert result.profile[fact] == value
    source = result.provenance[fact]["sources"][0]
    assert (source["ref"], source["code"], source["effective"]) == ("Observation/obs", code, "2026-11-15")


@pytest.mark.parametrize(("code", "fact"), C.UNSUPPORTED_QUANTITY.items())
def test_a_different_quantity_is_not_converted(code: str, fact: str) -> None:
    result = mapped(observation(code, valueQuantity=quantity(62, "%")))
    assert fact not in result.profile
    assert ("unsupported_quantity", fact) in result.issue_codes()


@pytest.mark.parametrize("code", sorted(C.PRIMARY_SIZE_CODES))
def test_a_tumour_size_is_only_proposed(code: str) -> None:
    result = mapped(observation(code, valueQuantity=quantity(2.5, "cm")))
    assert fact_or_proposal(result, "primary_tumour_size_mm") == (25, "proposed")


# --- medicines --------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "agent"), C.AGENT_BY_CODE.items())
def test_a_medicine_code_gives_its_modality_or_waits_for_its_partner(code: str, agent: str) -> None:
    result = mapped(medication(code))
    modality = C.MODALITY_BY_AGENT.get(agent)
    assert result.profile.get("prior_therapies") == ([modality] if modality else None)


@pytest.mark.parametrize("code", sorted(C.NOT_AN_AGENT))
def test_transplant_everolimus_is_not_the_antineoplastic(code: str) -> None:
    assert "prior_therapies" not in mapped(medication(code)).profile


def _codes_of_agent(agent: str) -> list[str]:
    return [code for code, name in C.AGENT_BY_CODE.items() if name == agent]


@pytest.mark.parametrize(("modality", "groups"), C.MODALITY_BY_COMBINATION.items())
def test_a_combination_needs_every_partner_within_the_window(
    modality: str, groups: tuple[frozenset[str], ...]
) -> None:
    agents = [sorted(group)[0] for group in groups]
    together = [
        medication(_codes_of_agent(agent)[0], id=f"m{index}", start="2026-03-01", end="2026-03-02")
        for index, agent in enumerate(agents)
    ]
    assert mapped(*together).profile["prior_therapies"] == [modality]
    apart = [
        medication(_codes_of_agent(agent)[0], id=f"m{index}", start=start, end=start)
        for index, (agent, start) in enumerate(zip(agents, ("2025-01-01", "2026-03-01"), strict=False))
    ]
    assert modality not in (mapped(*apart).profile.get("prior_therapies") or [])


@pytest.mark.parametrize(("kind", "statuses"), C.MEDICATION_GIVEN.items())
def test_only_medicines_given_count_as_prior_therapy(kind: str, statuses: frozenset[str]) -> None:
    for status in statuses:
        assert mapped(medication(f"{C.ATC}|H01CB03", kind=kind, status=status)).profile[
            "prior_therapies"
        ] == ["ssta"]
    assert (
        "prior_therapies"
        not in mapped(medication(f"{C.ATC}|H01CB03", kind=kind, status="entered-in-error")).profile
    )


@pytest.mark.parametrize("code", sorted(C.NO_PRIOR_MEDICATION_LISTS))
def test_a_nil_known_medication_list_is_the_only_source_of_no_prior_therapy(code: str) -> None:
    nil = {
        "resourceType": "List",
        "id": "nil",
        "status": "current",
        "mode": "snapshot",
        "code": concept(code),
        "subject": {"reference": "Patient/pt-1"},
        "date": "2026-11-12",
        "emptyReason": concept(C.LIST_EMPTY_NILKNOWN),
    }
    assert mapped(nil).profile["prior_therapies"] == []


# --- secondary cancers and presence conditions ------------------------------------------------


@pytest.mark.parametrize("code", sorted(C.LIVER_SECONDARY_CODES))
def test_a_liver_secondary_code_gives_liver_metastases_and_metastatic_extent(code: str) -> None:
    result = mapped(condition(code))
    assert result.profile["liver_metastases"] is True
    assert result.profile["disease_extent"] == "metastatic"
    assert "extrahepatic_disease" not in result.profile


@pytest.mark.parametrize("code", sorted(C.LIVER_BODY_SITES))
def test_a_secondary_in_the_liver_body_site_gives_liver_metastases(code: str) -> None:
    result = mapped(condition(f"{C.SCT}|128462008", body_site=(code,)))
    assert result.profile["liver_metastases"] is True


@pytest.mark.parametrize(
    ("system", "prefix"),
    [(system, prefix) for system, prefixes in C.EXTRAHEPATIC_ICD_PREFIXES.items() for prefix in prefixes],
)
def test_a_distant_secondary_outside_the_liver_gives_extrahepatic_disease(system: str, prefix: str) -> None:
    result = mapped(condition(f"{system}|{prefix}"))
    assert result.profile["extrahepatic_disease"] is True
    assert result.profile["disease_extent"] == "metastatic"
    assert "liver_metastases" not in result.profile


@pytest.mark.parametrize(
    ("system", "prefix"),
    [
        (system, prefix)
        for system, prefixes in C.DISTANT_SECONDARY_ICD_PREFIXES.items()
        for prefix in prefixes
    ],
)
def test_a_distant_secondary_code_gives_metastatic_extent(system: str, prefix: str) -> None:
    assert mapped(condition(f"{system}|{prefix}")).profile["disease_extent"] == "metastatic"


@pytest.mark.parametrize("code", sorted(C.DISTANT_SECONDARY_SNOMED))
def test_a_snomed_secondary_gives_metastatic_extent(code: str) -> None:
    assert mapped(condition(code)).profile["disease_extent"] == "metastatic"


def test_lymph_node_secondaries_c77_never_imply_metastatic() -> None:
    assert "disease_extent" not in mapped(condition(f"{C.ICD10}|C77.2")).profile


@pytest.mark.parametrize("code", sorted(C.CARCINOID_SYNDROME_CODES))
def test_a_carcinoid_syndrome_code(code: str) -> None:
    assert mapped(condition(code)).profile["functional_syndrome"] == "carcinoid_syndrome"


@pytest.mark.parametrize("code", sorted(C.PVT_CODES))
def test_portal_vein_thrombosis_without_its_extent_stays_unknown(code: str) -> None:
    result = mapped(condition(code))
    assert "portal_vein_thrombosis" not in result.profile
    assert ("pvt_extent_unknown", "portal_vein_thrombosis") in result.issue_codes()


@pytest.mark.parametrize(("code", "syndrome"), C.HEREDITARY_BY_CODE.items())
def test_a_hereditary_syndrome_code(code: str, syndrome: str) -> None:
    assert mapped(condition(code)).profile["hereditary_syndrome"] == syndrome


# --- NETcare observations ---------------------------------------------------------------------

NETOBS_VALUES: dict[str, tuple[dict[str, Any], Any]] = {
    "primary_site": ({"valueCodeableConcept": concept(f"{C.NETVAL}|unknown_primary")}, "unknown_primary"),
    "resectable": ({"valueBoolean": False}, False),
    "debulking_feasible": ({"valueBoolean": True}, True),
    "liver_lesion_count": ({"valueInteger": 4}, 4),
    "largest_liver_lesion_mm": ({"valueQuantity": quantity(3.5, "cm")}, 35),
    "liver_tumour_burden_percent": ({"valueQuantity": quantity(20, "%")}, 20),
    "liver_dominant_disease": ({"valueBoolean": True}, True),
    "extrahepatic_disease": ({"valueBoolean": False}, False),
    "portal_vein_thrombosis": ({"valueCodeableConcept": concept(f"{C.NETVAL}|main")}, "main"),
    "sstr_imaging": ({"valueCodeableConcept": concept(f"{C.NETVAL}|positive")}, "positive"),
    "krenning_score": ({"valueInteger": 3}, 3),
    "functional_syndrome": ({"valueCodeableConcept": concept(f"{C.NETVAL}|none")}, "none"),
    "carcinoid_heart_disease": ({"valueBoolean": False}, False),
    "childbearing_potential": ({"valueBoolean": False}, False),
    "breastfeeding": ({"valueBoolean": False}, False),
    "dpd_status": ({"valueCodeableConcept": concept(f"{C.NETVAL}|normal")}, "normal"),
    "biliary_enteric_anastomosis": ({"valueBoolean": True}, True),
    "syndrome_refractory": ({"valueBoolean": True}, True),
    "bowel_movements_per_day": ({"valueInteger": 6}, 6),
    "lung_histology": (
        {"valueCodeableConcept": concept(f"{C.NETVAL}|atypical_carcinoid")},
        "atypical_carcinoid",
    ),
    "gastric_net_type": ({"valueCodeableConcept": concept(f"{C.NETVAL}|type_1")}, "type_1"),
    "hereditary_syndrome": ({"valueCodeableConcept": concept(f"{C.NETVAL}|none")}, "none"),
}


@pytest.mark.parametrize(("code", "fact"), C.NETOBS_FACTS.items())
def test_a_netcare_observation_gives_its_fact(code: str, fact: str) -> None:
    value, expected = NETOBS_VALUES[fact]
    result = mapped(observation(f"{C.NETOBS}|{code}", **value))
    assert result.profile[fact] == expected
    assert result.provenance[fact]["level"] == "direct"


@pytest.mark.parametrize("fact", sorted(C.ASSESSMENT_FACTS))
def test_every_assessment_fact_is_a_contract_fact(fact: str) -> None:
    from treatments.rules.profile import FACT_NAMES

    assert fact in FACT_NAMES


@pytest.mark.parametrize(("gender", "sex"), C.GENDER_TO_SEX.items())
def test_administrative_gender_only_proposes_sex(gender: str, sex: str) -> None:
    from treatments.fhir.mapping import map_bundle

    from .builders import NOW, bundle, patient

    data = bundle(with_patient=False)
    data["entry"] = [{"resource": patient(gender=gender)}]
    result = map_bundle(data, now=NOW)
    assert "sex" not in result.profile
    assert result.proposals["sex"]["value"] == sex


# --- units ------------------------------------------------------------------------------------

# fact -> (LOINC code, a value in the contract's unit); each unit is tested with that value divided
# by its factor, so that the converted value is always in range.
SAMPLE = {
    "egfr_ml_min": ("98979-8", 80),
    "platelets_10e9_l": ("777-3", 300),
    "neutrophils_10e9_l": ("751-8", 3),
    "bilirubin_umol_l": ("14631-6", 34.2),
    "ki67_percent": ("29593-1", 10),
    "haemoglobin_g_l": ("718-7", 130),
}


@pytest.mark.parametrize(
    ("fact", "ucum", "factor"),
    [
        (fact, ucum, factor)
        for fact, table in UCUM_FACTORS.items()
        if fact in SAMPLE
        for ucum, factor in table.items()
    ],
)
def test_an_accepted_unit_converts_to_the_contract_unit(fact: str, ucum: str, factor: float) -> None:
    code, target = SAMPLE[fact]
    value = round(target / factor, 4)
    result = mapped(observation(f"{C.LNC}|{code}", valueQuantity=quantity(value, ucum)))
    assert result.profile[fact] == pytest.approx(target, abs=0.01)


@pytest.mark.parametrize(
    ("fact", "ucum"),
    [(fact, ucum) for fact, table in UCUM_FACTORS.items() if fact not in SAMPLE for ucum in table],
)
def test_an_accepted_unit_of_a_netcare_quantity(fact: str, ucum: str) -> None:
    code = (
        next(code for code, name in C.NETOBS_FACTS.items() if name == fact)
        if fact in C.NETOBS_FACTS.values()
        else None
    )
    if code is None:
        result = mapped(observation(next(iter(C.PRIMARY_SIZE_CODES)), valueQuantity=quantity(2, ucum)))
        assert result.proposals[fact]["value"] == 2 * UCUM_FACTORS[fact][ucum]
    else:
        result = mapped(observation(f"{C.NETOBS}|{code}", valueQuantity=quantity(2, ucum)))
        assert result.profile[fact] == 2 * UCUM_FACTORS[fact][ucum]


@pytest.mark.parametrize(("text", "ucum"), UNIT_TEXT_SYNONYMS.items())
def test_a_unit_text_synonym_is_read_with_an_issue(text: str, ucum: str) -> None:
    fact = next((fact for fact, table in UCUM_FACTORS.items() if ucum in table and fact in SAMPLE), None)
    if fact is None:
        fact = "largest_liver_lesion_mm"
        result = mapped(
            observation(f"{C.NETOBS}|largest-liver-lesion", valueQuantity={"value": 2, "unit": text})
        )
        assert result.profile[fact] == 2 * UCUM_FACTORS[fact][ucum]
        return
    code, target = SAMPLE[fact]
    value = round(target / UCUM_FACTORS[fact][ucum], 4)
    result = mapped(observation(f"{C.LNC}|{code}", valueQuantity=quantity(value, unit=text)))
    assert result.profile[fact] == pytest.approx(target, abs=0.01)
    assert ("unit_text_only", fact) in result.issue_codes()


# --- procedures -> modality keys ----------------------------------------------------------------


def procedure(code: str, *, status: str = "completed", id: str = "proc") -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": id,
        "status": status,
        "code": concept(code),
        "subject": SUBJECT,
        "performedDateTime": "2025-06-01",
    }


@pytest.mark.parametrize(("code", "modality"), C.MODALITY_BY_PROCEDURE.items())
def test_a_completed_procedure_gives_its_prior_therapy(code: str, modality: str) -> None:
    result = mapped(procedure(code))
    assert result.profile["prior_therapies"] == [modality]
    assert result.provenance["prior_therapies"]["sources"][0]["code"] == code


@pytest.mark.parametrize("status", ["preparation", "in-progress", "not-done", "entered-in-error"])
def test_a_procedure_not_completed_gives_no_prior_therapy(status: str) -> None:
    code = next(iter(C.MODALITY_BY_PROCEDURE))
    assert "prior_therapies" not in mapped(procedure(code, status=status)).profile


# The unit's own procedure codes (FHIR_PROCEDURE_CODES): TACE or ablation as the trust codes them.
LOCAL_TACE = "http://trust.example/procedures|TACE-01"


def test_a_local_procedure_code_gives_the_prior_therapy_the_unit_set() -> None:
    options = MappingOptions(procedure_codes={LOCAL_TACE: "liver_embolisation"})

    result = mapped(procedure(LOCAL_TACE), options=options)

    assert result.profile["prior_therapies"] == ["liver_embolisation"]
    assert result.provenance["prior_therapies"]["sources"][0]["code"] == LOCAL_TACE


def test_a_local_procedure_code_means_nothing_without_the_setting() -> None:
    assert "prior_therapies" not in mapped(procedure(LOCAL_TACE)).profile
