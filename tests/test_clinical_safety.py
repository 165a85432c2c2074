"""Clinical safety: one test per Tier A finding of the November 2026 knowledge-base review.

Each test evaluates a probe profile (fixtures/probes/*.json, the profiles of the review's "Key
findings from the probes" table) with the pure engine against both knowledge bases:

- tests/data/knowledge_base_1.1.1.yaml, a verbatim copy of the released 1.1.1: the test asserts
  the unsafe behaviour the review found is there, which proves it would fail on 1.1.1;
- fixtures/knowledge_base.yaml (1.2.x): the test asserts the safe status or warning.

Pure: no database. The files are loaded and compiled as tests/test_golden_cases.py does
(document.load_file, then compile). The review is docs/knowledge-base.md's companion; the rule ids
named here are listed by review item in fixtures/CHANGELOG.md.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from treatments.rules.document import load_file
from treatments.rules.engine import CompiledRuleSet, EvaluationResult, Verdict
from treatments.rules.profile import PatientProfile

ROOT = Path(__file__).resolve().parent.parent
PROBES = ROOT / "fixtures" / "probes"
KB_1_1_1 = Path(__file__).parent / "data" / "knowledge_base_1.1.1.yaml"
KB_1_2 = ROOT / "fixtures" / "knowledge_base.yaml"


@cache
def ruleset(path: Path) -> CompiledRuleSet:
    return load_file(path).compile()


def probe(name: str, **changes: Any) -> dict[str, Any]:
    facts: dict[str, Any] = json.loads((PROBES / f"{name}.json").read_text(encoding="utf-8"))
    facts.update(changes)
    return {fact: value for fact, value in facts.items() if value is not None}


def old(facts: dict[str, Any]) -> EvaluationResult:
    return ruleset(KB_1_1_1).evaluate(PatientProfile.model_validate(facts))


def new(facts: dict[str, Any]) -> EvaluationResult:
    return ruleset(KB_1_2).evaluate(PatientProfile.model_validate(facts))


def cautions(verdict: Verdict) -> set[str]:
    """Rule ids of the warnings shown (cautions met) for an option."""
    return {caution.rule.rule_id for caution in verdict.cautions if caution.kind == "caution"}


def not_checked(verdict: Verdict) -> dict[str, set[str]]:
    """Rule id -> the unknown facts of each "not checked" note shown for an option."""
    return {c.rule.rule_id: set(c.facts) for c in verdict.cautions if c.kind == "not_checked"}


def order(result: EvaluationResult) -> list[str]:
    return [verdict.modality.key for verdict in result.verdicts]


def deciding(verdict: Verdict) -> set[str]:
    return {reason.rule.rule_id for reason in verdict.deciding_reasons}


def test_the_two_knowledge_bases_are_the_ones_the_tests_mean() -> None:
    assert load_file(KB_1_1_1).version == "1.1.1"
    assert load_file(KB_1_2).version == "1.2.1"  # 1.2.0 with texts for patients


def test_every_probe_is_a_valid_profile() -> None:
    names = sorted(path.stem for path in PROBES.glob("*.json"))
    assert len(names) >= 13
    for name in names:
        PatientProfile.model_validate(probe(name))


# --- A1 ---------------------------------------------------------------------------------------


def test_a1_hepatic_embolisation_is_not_a_candidate_in_pregnancy() -> None:
    facts = probe("a01_pregnant_si_liver_dominant")
    assert old(facts).verdict("liver_embolisation").status == "candidate"
    assert not cautions(old(facts).verdict("clinical_trial"))

    result = new(facts)
    assert result.verdict("liver_embolisation").status == "not_suitable"
    assert "common.pregnancy" in deciding(result.verdict("liver_embolisation"))
    assert result.verdict("liver_transplant").status == "not_suitable"
    assert "common.pregnancy" in deciding(result.verdict("liver_transplant"))
    assert result.verdict("clinical_trial").status == "candidate"
    assert "trial.pregnancy" in cautions(result.verdict("clinical_trial"))


def test_a1_unknown_pregnancy_is_not_checked_only_where_pregnancy_is_possible() -> None:
    woman = probe("a01_pregnant_si_liver_dominant", pregnant=None)
    assert "common.pregnancy" not in not_checked(old(woman).verdict("liver_embolisation"))
    embolisation = new(woman).verdict("liver_embolisation")
    assert embolisation.status == "candidate"
    assert "pregnant" in not_checked(embolisation)["common.pregnancy"]

    man = new(probe("a01_male_pregnancy_not_recorded")).verdict("everolimus")
    assert man.status == "candidate"
    assert "common.pregnancy" not in not_checked(man)
    no_potential = probe("a01_pregnant_si_liver_dominant", pregnant=None, childbearing_potential=False)
    assert "common.pregnancy" not in not_checked(new(no_potential).verdict("liver_embolisation"))


# --- A2 ---------------------------------------------------------------------------------------


def test_a2_complete_dpd_deficiency_rules_out_fluoropyrimidines() -> None:
    facts = probe("a02_dpd_complete_deficiency_pnet")
    assert old(facts).verdict("capecitabine_temozolomide").status == "candidate"
    assert old(facts).verdict("streptozocin_5fu").status == "candidate"

    result = new(facts)
    for key in ("capecitabine_temozolomide", "streptozocin_5fu", "folfox_folfiri"):
        assert result.verdict(key).status == "not_suitable", key
        assert "common.dpd_deficiency" in deciding(result.verdict(key)), key


def test_a2_an_untested_dpd_status_is_flagged_before_the_first_fluoropyrimidine() -> None:
    facts = probe("a02_dpd_not_recorded_pnet")
    assert not not_checked(old(facts).verdict("capecitabine_temozolomide"))
    captem = new(facts).verdict("capecitabine_temozolomide")
    assert captem.status == "candidate"
    assert not_checked(captem)["common.dpd_deficiency"] == {"dpd_status"}
    partial = new(probe("a02_dpd_not_recorded_pnet", dpd_status="partial_deficiency"))
    assert "common.dpd_partial" in cautions(partial.verdict("streptozocin_5fu"))


# --- A3 ---------------------------------------------------------------------------------------


def test_a3_platinum_etoposide_is_not_suitable_with_egfr_below_30() -> None:
    facts = probe("a03_colonic_nec_egfr_15")
    before = old(facts).verdict("platinum_etoposide")
    assert before.status == "candidate"
    assert cautions(before) == {"pe.renal"}  # its only warning was "use carboplatin"

    after = new(facts).verdict("platinum_etoposide")
    assert after.status == "not_suitable"
    assert "pe.renal_severe" in deciding(after)
    unknown = new(probe("a03_colonic_nec_egfr_15", egfr_ml_min=None)).verdict("platinum_etoposide")
    assert unknown.status == "candidate"
    assert not_checked(unknown)["pe.renal_severe"] == {"egfr_ml_min"}


# --- A4 ---------------------------------------------------------------------------------------


def test_a4_embolisation_is_not_suitable_after_a_biliary_enteric_anastomosis() -> None:
    facts = probe("a04_pnet_biliary_enteric_anastomosis")
    assert old(facts).verdict("liver_embolisation").status == "candidate"

    after = new(facts).verdict("liver_embolisation")
    assert after.status == "not_suitable"
    assert "embo.biliary_enteric" in deciding(after)


def test_a4_a_resected_pancreatic_primary_prompts_a_check_for_the_anastomosis() -> None:
    facts = probe("a04_pnet_after_whipple_anastomosis_not_recorded")
    before = old(facts).verdict("liver_embolisation")
    assert before.status == "candidate"
    assert not any("biliary" in rule for rule in cautions(before) | set(not_checked(before)))

    after = new(facts).verdict("liver_embolisation")
    assert after.status == "candidate"
    assert "embo.check_biliary" in cautions(after)
    assert not_checked(after)["embo.biliary_enteric"] == {"biliary_enteric_anastomosis"}


# --- A5 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a05_metastatic_insulinoma_private", "a05_phaeochromocytoma_private"])
def test_a5_prrt_warns_of_a_hormonal_crisis_beyond_carcinoid_syndrome(name: str) -> None:
    facts = probe(name)
    before = old(facts).verdict("prrt_lu177")
    assert before.status == "candidate"
    assert not any("crisis" in rule for rule in cautions(before))

    after = new(facts).verdict("prrt_lu177")
    assert after.status == "candidate"
    assert "common.hormonal_crisis" in cautions(after)


def test_a5_insulinoma_embolisation_carries_the_crisis_warning() -> None:
    facts = probe("a05_metastatic_insulinoma_private")
    assert "common.carcinoid_crisis" not in cautions(old(facts).verdict("liver_embolisation"))
    assert "common.hormonal_crisis" in cautions(new(facts).verdict("liver_embolisation"))


# --- A6 ---------------------------------------------------------------------------------------


def test_a6_a_rectal_primary_is_outside_milan_for_transplant() -> None:
    facts = probe("a06_rectal_g1_liver_only_stable")
    assert old(facts).verdict("liver_transplant").status == "candidate"

    after = new(facts).verdict("liver_transplant")
    assert after.status == "not_suitable"
    assert deciding(after) == {"olt.portal_drained"}


# --- A7 ---------------------------------------------------------------------------------------


def test_a7_an_unknown_portal_vein_is_flagged_for_embolisation() -> None:
    facts = probe("a07_si_portal_vein_thrombosis_unknown")
    before = old(facts).verdict("liver_embolisation")
    assert before.status == "candidate"
    assert not before.cautions  # nothing shown at all

    after = new(facts).verdict("liver_embolisation")
    assert after.status == "candidate"
    assert not_checked(after)["embo.portal_vein_main"] == {"portal_vein_thrombosis"}


def test_a7_main_portal_vein_thrombosis_rules_out_embolisation() -> None:
    facts = probe("a07_si_main_portal_vein_thrombosis")
    # In 1.1.1 the fact was yes/no and only a caution: a recorded thrombosis left embolisation a candidate.
    assert (
        old(probe("a07_si_main_portal_vein_thrombosis", portal_vein_thrombosis=True))
        .verdict("liver_embolisation")
        .status
        == "candidate"
    )

    after = new(facts).verdict("liver_embolisation")
    assert after.status == "not_suitable"
    assert "embo.portal_vein_main" in deciding(after)
    branch = new(probe("a07_si_main_portal_vein_thrombosis", portal_vein_thrombosis="branch"))
    assert branch.verdict("liver_embolisation").status == "candidate"
    assert "embo.portal_vein" in cautions(branch.verdict("liver_embolisation"))


# --- A8 ---------------------------------------------------------------------------------------


def test_a8_systemic_options_warn_about_a_bilirubin_of_90() -> None:
    facts = probe("a08_pnet_bilirubin_90")
    expected = {
        "prrt_lu177": "prrt.hepatic",
        "everolimus": "evero.hepatic",
        "sunitinib": "suni.hepatic",
        "capecitabine_temozolomide": "captem.hepatic",
        "streptozocin_5fu": "stz.hepatic",
    }
    for key in expected:
        before = old(facts).verdict(key)
        assert before.status == "candidate", key
        assert not any("hepatic" in rule for rule in cautions(before)), key
    result = new(facts)
    for key, rule in expected.items():
        assert result.verdict(key).status == "candidate", key
        assert rule in cautions(result.verdict(key)), key


# --- A9 ---------------------------------------------------------------------------------------


def test_a9_folfiri_is_flagged_at_ecog_3_and_folfox_in_severe_renal_impairment() -> None:
    facts = probe("a09_a12_colonic_nec_after_pe_ecog3")
    before = old(facts).verdict("folfox_folfiri")
    assert before.status == "candidate"
    assert cautions(before) == {"common.poor_performance"}  # the generic ECOG caution only

    after = new(facts).verdict("folfox_folfiri")
    assert after.status == "candidate"
    assert "folf.performance" in cautions(after)
    renal = new(probe("a09_a12_colonic_nec_after_pe_ecog3", egfr_ml_min=20)).verdict("folfox_folfiri")
    assert "folf.renal_severe" in cautions(renal)


# --- A10 --------------------------------------------------------------------------------------


def test_a10_severe_cytopenia_rules_out_chemotherapy_and_flags_embolisation() -> None:
    facts = probe("a10_pnet_neutrophils_0_4_platelets_40")
    before = old(facts)
    assert before.verdict("capecitabine_temozolomide").status == "candidate"
    assert before.verdict("streptozocin_5fu").status == "candidate"
    assert before.verdict("liver_embolisation").status == "candidate"
    assert not cautions(before.verdict("liver_embolisation"))

    after = new(facts)
    for key, rule in (
        ("capecitabine_temozolomide", "captem.counts_severe"),
        ("streptozocin_5fu", "stz.counts_severe"),
        ("platinum_etoposide", "pe.counts_severe"),
        ("folfox_folfiri", "folf.counts_severe"),
    ):
        assert after.verdict(key).status == "not_suitable", key
        assert rule in deciding(after.verdict(key)), key
    assert after.verdict("liver_embolisation").status == "candidate"
    assert "embo.platelets" in cautions(after.verdict("liver_embolisation"))


def test_a10_unknown_counts_are_not_checked_for_chemotherapy() -> None:
    facts = probe("a10_pnet_neutrophils_0_4_platelets_40", neutrophils_10e9_l=None, platelets_10e9_l=None)
    assert not not_checked(old(facts).verdict("capecitabine_temozolomide"))
    captem = new(facts).verdict("capecitabine_temozolomide")
    assert captem.status == "candidate"
    assert not_checked(captem)["captem.counts_severe"] == {"neutrophils_10e9_l", "platelets_10e9_l"}


# --- A11 --------------------------------------------------------------------------------------


def test_a11_private_prrt_retreatment_warns_about_benefit_and_mds() -> None:
    facts = probe("a11_private_si_prior_prrt_and_captem")
    before = old(facts).verdict("prrt_lu177")
    assert before.status == "candidate"
    assert not {"prrt.retreatment", "prrt.prior_alkylator"} & cautions(before)

    after = new(facts).verdict("prrt_lu177")
    assert after.status == "candidate"
    assert {"prrt.retreatment", "prrt.prior_alkylator"} <= cautions(after)
    low = new(probe("a11_private_si_prior_prrt_and_captem", neutrophils_10e9_l=0.8))
    assert "prrt.neutrophils" in cautions(low.verdict("prrt_lu177"))


# --- A12 --------------------------------------------------------------------------------------


def test_a12_platinum_rechallenge_after_progression_is_flagged() -> None:
    facts = probe("a09_a12_colonic_nec_after_pe_ecog3")
    before = old(facts)
    assert before.verdict("platinum_etoposide").status == "candidate"
    assert "pe.rechallenge" not in cautions(before.verdict("platinum_etoposide"))

    after = new(facts)
    assert "pe.rechallenge" in cautions(after.verdict("platinum_etoposide"))
    # Second-line options are offered: FOLFOX/FOLFIRI and (new) CAPTEM, and they are now listed
    # above platinum-etoposide (order_overrides, verdict (f) override 1); 1.1.1 listed PE first.
    assert after.verdict("folfox_folfiri").status == "candidate"
    assert after.verdict("capecitabine_temozolomide").status == "candidate"
    assert order(before).index("platinum_etoposide") < order(before).index("folfox_folfiri")
    assert order(after).index("folfox_folfiri") < order(after).index("platinum_etoposide")
    assert order(after).index("capecitabine_temozolomide") < order(after).index("platinum_etoposide")


# --- A13 --------------------------------------------------------------------------------------


def test_a13_prrt_beyond_the_netter2_ki67_range_is_flagged() -> None:
    facts = probe("a13_g3_pnet_ki67_70_private")
    before = old(facts).verdict("prrt_lu177")
    assert before.status == "candidate"
    assert cautions(before) == {"prrt.ssa_timing"}  # nothing about Ki-67 70 or FDG

    after = new(facts).verdict("prrt_lu177")
    assert after.status == "candidate"
    assert {"prrt.ki67_above_55", "prrt.fdg_check"} <= cautions(after)


# --- A14 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a14_medullary_thyroid_private", "a14_paraganglioma_private"])
def test_a14_mtc_and_ppgl_point_to_their_own_pathway(name: str) -> None:
    facts = probe(name)
    before = old(facts).verdict("prrt_lu177")
    assert before.status == "candidate"
    assert not any("pathway" in rule for rule in cautions(before))

    after = new(facts).verdict("prrt_lu177")
    assert after.status == "candidate"
    assert "prrt.non_gep_pathway" in cautions(after)


# --- A15 --------------------------------------------------------------------------------------


def test_a15_interferon_carries_its_boxed_warning() -> None:
    facts = probe("a15_interferon_nhs_si")
    before = old(facts).verdict("interferon")
    assert before.status == "candidate"
    assert cautions(before) == {"ifn.nhs_practice"}

    after = new(facts).verdict("interferon")
    assert after.status == "candidate"
    assert {"ifn.safety", "ifn.availability"} <= cautions(after)


# --- A16 --------------------------------------------------------------------------------------


def test_a16_ablation_warns_about_carcinoid_heart_disease() -> None:
    facts = probe("a16_ablation_carcinoid_heart_disease")
    before = old(facts).verdict("thermal_ablation")
    assert before.status == "candidate"
    assert "common.carcinoid_heart" not in cautions(before)

    after = new(facts).verdict("thermal_ablation")
    assert after.status == "candidate"
    assert {"common.carcinoid_heart", "common.hormonal_crisis"} <= cautions(after)


# --- A17 --------------------------------------------------------------------------------------


def test_a17_sunitinib_asks_for_a_cardiovascular_check() -> None:
    facts = probe("a17_sunitinib_pnet")
    before = old(facts).verdict("sunitinib")
    assert before.status == "candidate"
    assert not cautions(before)

    after = new(facts).verdict("sunitinib")
    assert after.status == "candidate"
    assert "suni.cardiovascular" in cautions(after)


# --- the other probes of the review's table (Tier B and C) ---------------------------------------


def test_b1_captem_is_a_second_line_option_in_nec_after_platinum() -> None:
    facts = probe("b01_pancreatic_nec_after_pe_ki67_40")
    assert old(facts).verdict("capecitabine_temozolomide").status == "not_indicated"
    after = new(facts).verdict("capecitabine_temozolomide")
    assert after.status == "candidate"
    assert "captem.nec_second_line" in deciding(after)


def test_c1_a_known_ki67_settles_an_unrecorded_grade() -> None:
    facts = probe("c01_si_ki67_5_grade_unknown")
    before = old(facts)
    for key in ("ssta", "everolimus", "interferon", "prrt_lu177"):
        assert before.verdict(key).status == "needs_data", key
        assert "who_grade" in before.verdict(key).missing_facts, key
    after = new(facts)
    for key in ("ssta", "everolimus", "interferon", "prrt_lu177"):
        assert after.verdict(key).status == "candidate", key


def test_the_main_options_name_their_guideline_line() -> None:
    nec = new(probe("a03_colonic_nec_egfr_15", egfr_ml_min=80))
    line = nec.verdict("platinum_etoposide").guideline_line
    assert line is not None and line.label.startswith("ENETS 2023 digestive NEC: first line")
    after_pe = new(probe("a09_a12_colonic_nec_after_pe_ecog3")).verdict("folfox_folfiri").guideline_line
    assert after_pe is not None and "second line" in after_pe.label
    si = new(probe("a15_interferon_nhs_si")).verdict("prrt_lu177").guideline_line
    assert si is not None and si.label.startswith("ENETS 2023 SI-NET / NICE TA539")


def test_g_a_ki67_typed_as_a_fraction_is_warned_about() -> None:
    """Verdict (g): Ki-67 0.15 with G2 passes the transplant Ki-67 rule; only the warning catches it."""
    result = new(probe("g_ki67_entered_as_fraction"))
    assert result.verdict("liver_transplant").status == "candidate"
    assert any("ki67_percent" in warning.facts for warning in result.warnings)
    corrected = new(probe("g_ki67_entered_as_fraction", ki67_percent=15))
    assert corrected.verdict("liver_transplant").status == "not_suitable"
