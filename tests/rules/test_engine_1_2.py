"""Contract 1.2 in the engine: cautions that say `if_unknown: note`, guideline lines, the ordering
overrides of review verdict (f) and the warnings of a result. Small rule sets built in the test.
No database."""

from __future__ import annotations

from typing import Any

import orjson

from tests.rules.test_engine import (
    CAUTION_POOR_PERFORMANCE,
    GEP,
    INDICATED_BY_SITE,
    PREGNANT,
    PROGRESSIVE,
    modality,
    rule,
    verdict,
)
from treatments.rules.conditions import parse_condition
from treatments.rules.engine import (
    BEFORE_ALL,
    CompiledRuleSet,
    EvaluationResult,
    GuidelineLine,
    OrderOverride,
    RuleSetInfo,
    RuleSpec,
)
from treatments.rules.profile import PatientProfile
from treatments.rules.serialize import result_to_dict, result_to_json

PVT_NOTED = rule(
    "liver_embolisation.portal_vein",
    "caution",
    {"fact": "portal_vein_thrombosis", "eq": "branch"},
    if_unknown="note",
)
EMBOLISATION = rule("liver_embolisation.liver", "indication", {"fact": "liver_metastases", "eq": True})


def evaluate(
    rules: list[RuleSpec],
    lines: tuple[GuidelineLine, ...] = (),
    overrides: tuple[OrderOverride, ...] = (),
    **facts: Any,
) -> EvaluationResult:
    keys = dict.fromkeys(spec.modality for spec in rules)
    modalities = [modality(key, n) for n, key in enumerate(keys, 1)]
    compiled = CompiledRuleSet(RuleSetInfo("test"), modalities, rules, lines, overrides)
    return compiled.evaluate(PatientProfile.model_validate(facts))


def line(key: str, when: dict[str, Any], label: str) -> GuidelineLine:
    return GuidelineLine(key, parse_condition(when), label, f"Source of {label}")


def override(key: str, when: dict[str, Any], before: str) -> OrderOverride:
    return OrderOverride(key, parse_condition(when), before, "why")


def order(result: EvaluationResult) -> list[tuple[str, str]]:
    return [(found.modality.key, found.status) for found in result.verdicts]


# --- cautions with if_unknown: note ---------------------------------------------------------------


def test_a_noted_caution_on_an_unknown_fact_shows_as_not_checked_naming_the_fact() -> None:
    found = verdict([EMBOLISATION, PVT_NOTED], liver_metastases=True)

    assert found.status == "candidate"
    ((rule_id, kind, facts),) = [(c.rule.rule_id, c.kind, c.facts) for c in found.cautions]
    assert (rule_id, kind, facts) == (
        "liver_embolisation.portal_vein",
        "not_checked",
        ("portal_vein_thrombosis",),
    )
    assert found.cautions[0].text.startswith("Not checked: Portal vein thrombosis is unknown.")


def test_a_noted_caution_never_holds_the_option_at_needs_data() -> None:
    found = verdict([EMBOLISATION, PVT_NOTED], liver_metastases=True)

    assert found.missing_facts == ()


def test_a_noted_caution_that_is_met_is_an_ordinary_caution_and_one_not_met_is_not_listed() -> None:
    met = verdict([EMBOLISATION, PVT_NOTED], liver_metastases=True, portal_vein_thrombosis="branch")
    not_met = verdict([EMBOLISATION, PVT_NOTED], liver_metastases=True, portal_vein_thrombosis="none")

    assert [caution.kind for caution in met.cautions] == ["caution"]
    assert not_met.cautions == ()


def test_a_caution_without_the_note_is_still_dropped_when_its_fact_is_unknown() -> None:
    found = verdict([INDICATED_BY_SITE, CAUTION_POOR_PERFORMANCE], primary_site="pancreas")

    assert (found.status, found.cautions) == ("candidate", ())


def test_a_v1_portal_vein_thrombosis_true_meets_a_1_1_rule_written_for_the_boolean() -> None:
    written_for_1_1 = rule(
        "liver_embolisation.pvt", "caution", {"fact": "portal_vein_thrombosis", "eq": True}
    )

    found = verdict([EMBOLISATION, written_for_1_1], liver_metastases=True, portal_vein_thrombosis=True)

    assert [caution.kind for caution in found.cautions] == ["caution"]


# --- guideline lines ------------------------------------------------------------------------------

FIRST_LINE = line("everolimus", {"fact": "primary_site", "eq": "pancreas"}, "pNET: after SSA")
SECOND_LINE = line("everolimus", {"fact": "disease_status", "eq": "progressive"}, "Progressive NET")
EVEROLIMUS = rule("everolimus.gep", "indication", GEP)


def test_an_option_carries_the_first_guideline_line_whose_condition_is_met() -> None:
    result = evaluate(
        [EVEROLIMUS], (FIRST_LINE, SECOND_LINE), primary_site="pancreas", disease_status="progressive"
    )

    assert result.verdict("everolimus").guideline_line == FIRST_LINE


def test_an_unknown_guideline_condition_counts_as_not_met_and_the_next_line_is_shown() -> None:
    result = evaluate([EVEROLIMUS], (FIRST_LINE, SECOND_LINE), disease_status="progressive")

    assert result.verdict("everolimus").guideline_line == SECOND_LINE


def test_an_option_without_a_met_line_has_no_guideline_line_and_lines_never_change_the_status() -> None:
    with_lines = evaluate([EVEROLIMUS], (FIRST_LINE, SECOND_LINE), primary_site="small_intestine")
    without = evaluate([EVEROLIMUS], (), primary_site="small_intestine")

    assert with_lines.verdict("everolimus").guideline_line is None
    assert with_lines.statuses() == without.statuses()


# --- ordering overrides (review verdict (f)) ------------------------------------------------------

NEC_RULES = [
    rule("platinum_etoposide.nec", "indication", {"fact": "differentiation", "eq": "poorly"}),
    rule("capecitabine_temozolomide.nec", "indication", {"fact": "differentiation", "eq": "poorly"}),
    rule("folfox_folfiri.nec", "indication", {"fact": "differentiation", "eq": "poorly"}),
]
AFTER_PLATINUM = {"fact": "prior_therapies", "contains": "platinum_etoposide"}
SECOND_LINE_FIRST = (
    override("folfox_folfiri", AFTER_PLATINUM, "platinum_etoposide"),
    override("capecitabine_temozolomide", AFTER_PLATINUM, "platinum_etoposide"),
)


def test_after_platinum_the_nec_second_line_options_are_listed_above_platinum_etoposide() -> None:
    result = evaluate(
        NEC_RULES, (), SECOND_LINE_FIRST, differentiation="poorly", prior_therapies=["platinum_etoposide"]
    )

    assert [key for key, _ in order(result)] == [
        "capecitabine_temozolomide",
        "folfox_folfiri",
        "platinum_etoposide",
    ]


def test_without_platinum_or_with_prior_therapies_unknown_the_display_order_stands() -> None:
    cases: tuple[dict[str, Any], ...] = ({"prior_therapies": []}, {})
    for facts in cases:
        result = evaluate(NEC_RULES, (), SECOND_LINE_FIRST, differentiation="poorly", **facts)

        assert [key for key, _ in order(result)] == [
            "platinum_etoposide",
            "capecitabine_temozolomide",
            "folfox_folfiri",
        ]


def test_an_override_moves_an_option_only_within_its_status_group() -> None:
    rules = [*NEC_RULES, rule("folfox_folfiri.pregnant", "contraindication", PREGNANT)]

    result = evaluate(
        rules,
        (),
        SECOND_LINE_FIRST,
        differentiation="poorly",
        prior_therapies=["platinum_etoposide"],
        pregnant=True,
    )

    assert order(result) == [
        ("capecitabine_temozolomide", "candidate"),
        ("platinum_etoposide", "candidate"),
        ("folfox_folfiri", "not_suitable"),
    ]


TRIAL_RULES = [
    rule("ssta.gep", "indication", GEP),
    rule("prrt_lu177.progressive", "indication", PROGRESSIVE),
    rule("prrt_lu177.nhs", "trial_only", {"fact": "funding", "eq": "nhs"}),
    rule("clinical_trial.progressive", "indication", PROGRESSIVE),
]
TRIAL_FIRST = (
    override(
        "clinical_trial",
        {"any": [{"option_status": "trial_only"}, {"not": {"option_status": "candidate"}}]},
        BEFORE_ALL,
    ),
)


def test_the_clinical_trial_comes_first_in_its_group_when_another_option_is_trial_only() -> None:
    result = evaluate(
        TRIAL_RULES, (), TRIAL_FIRST, primary_site="pancreas", disease_status="progressive", funding="nhs"
    )

    assert order(result) == [
        ("clinical_trial", "candidate"),
        ("ssta", "candidate"),
        ("prrt_lu177", "trial_only"),
    ]


def test_the_clinical_trial_keeps_its_place_when_nothing_is_trial_only_and_others_are_candidates() -> None:
    result = evaluate(
        TRIAL_RULES, (), TRIAL_FIRST, primary_site="pancreas", disease_status="progressive", funding="private"
    )

    assert [key for key, _ in order(result)] == ["ssta", "prrt_lu177", "clinical_trial"]


# --- warnings -------------------------------------------------------------------------------------


def test_a_result_carries_a_warning_for_each_value_that_is_usually_a_unit_slip() -> None:
    result = evaluate([INDICATED_BY_SITE], bilirubin_umol_l=1.5, platelets_10e9_l=2000)

    assert [(w.check, w.facts) for w in result.warnings] == [
        ("bilirubin_low", ("bilirubin_umol_l",)),
        ("platelets_high", ("platelets_10e9_l",)),
    ]
    assert evaluate([INDICATED_BY_SITE], bilirubin_umol_l=9).warnings == ()


def test_the_guideline_line_is_written_as_label_and_source_in_the_dict_and_the_json_forms() -> None:
    result = evaluate([EVEROLIMUS], (FIRST_LINE,), primary_site="pancreas")

    body = result_to_dict(result)

    assert body["options"][0]["guideline_line"] == {
        "label": "pNET: after SSA",
        "source": "Source of pNET: after SSA",
    }
    assert result_to_json(result) == orjson.dumps(body)
