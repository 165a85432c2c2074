"""The pure summaries of engine output (treatments/rules/explain.py), tested without a database:
the data to obtain, what changed between two evaluations, and the status groups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from treatments.rules import explain
from treatments.rules.engine import STATUS_ORDER, CompiledRuleSet, EvaluationResult
from treatments.rules.profile import FACT_NAMES, GROUPS, PatientProfile

GOLDEN = Path(__file__).parents[2] / "fixtures" / "golden"


def golden_profile(name: str, **changes: Any) -> PatientProfile:
    facts = yaml.safe_load((GOLDEN / name).read_text(encoding="utf-8"))["profile"]
    return PatientProfile.model_validate({**facts, **changes})


def evaluate(compiled: CompiledRuleSet, profile: PatientProfile) -> EvaluationResult:
    return compiled.evaluate(profile)


# --- data_to_obtain ----------------------------------------------------------------------------


def test_data_to_obtain_names_the_missing_krenning_score_and_prrt(compiled: CompiledRuleSet) -> None:
    result = evaluate(compiled, golden_profile("34_missing_krenning_pnet.yaml"))

    checklist = explain.data_to_obtain(result)

    assert [(item.fact, [m.key for m in item.modalities]) for item in checklist] == [
        ("krenning_score", ["prrt_lu177"])
    ]


def test_data_to_obtain_gathers_every_missing_fact_of_every_option_once(compiled: CompiledRuleSet) -> None:
    result = evaluate(compiled, PatientProfile())

    checklist = explain.data_to_obtain(result)

    facts = [item.fact for item in checklist]
    assert len(facts) == len(set(facts))
    expected = {fact for verdict in result.verdicts for fact in verdict.missing_facts}
    assert set(facts) == expected
    for item in checklist:
        for modality in item.modalities:
            assert item.fact in result.verdict(modality.key).missing_facts


def test_data_to_obtain_puts_the_facts_that_decide_most_options_first(compiled: CompiledRuleSet) -> None:
    result = evaluate(compiled, PatientProfile())

    checklist = explain.data_to_obtain(result)

    counts = [len(item.modalities) for item in checklist]
    assert counts == sorted(counts, reverse=True)
    for first, second in zip(checklist, checklist[1:], strict=False):
        if len(first.modalities) == len(second.modalities):
            assert FACT_NAMES.index(first.fact) < FACT_NAMES.index(second.fact)


def test_data_to_obtain_lists_options_in_the_results_display_order(compiled: CompiledRuleSet) -> None:
    result = evaluate(compiled, PatientProfile())
    order = [verdict.modality.key for verdict in result.verdicts]

    for item in explain.data_to_obtain(result):
        keys = [modality.key for modality in item.modalities]
        assert keys == sorted(keys, key=order.index)


def test_data_to_obtain_is_empty_when_nothing_is_missing(compiled: CompiledRuleSet) -> None:
    result = evaluate(compiled, golden_profile("01_si_g2_progressive_nhs.yaml"))

    assert explain.data_to_obtain(result) == []


def test_a_checklist_item_unpacks_as_a_fact_and_its_options(compiled: CompiledRuleSet) -> None:
    result = evaluate(compiled, golden_profile("34_missing_krenning_pnet.yaml"))

    fact, modalities = explain.data_to_obtain(result)[0]

    assert fact == "krenning_score"
    assert modalities[0].name.startswith("Peptide-receptor radionuclide therapy")


# --- compare -----------------------------------------------------------------------------------


def test_compare_reports_prrt_becoming_a_candidate_once_the_krenning_score_is_known(
    compiled: CompiledRuleSet,
) -> None:
    before = evaluate(compiled, golden_profile("34_missing_krenning_pnet.yaml"))
    after = evaluate(compiled, golden_profile("34_missing_krenning_pnet.yaml", krenning_score=3))

    changes = explain.compare(before, after)

    assert [(c.modality.key, c.old_status, c.new_status) for c in changes] == [
        ("prrt_lu177", "needs_data", "candidate")
    ]
    change = changes[0]
    assert change.verdict is after.verdict("prrt_lu177")
    assert change.reasons == after.verdict("prrt_lu177").deciding_reasons
    assert all(reason.decisive for reason in change.reasons)


def keys_of(compiled: CompiledRuleSet) -> list[str]:
    """The modality keys of the knowledge base (a 1.1 one has only the v1 keys)."""
    return [modality.key for modality in compiled.modalities]


def test_compare_of_an_evaluation_with_itself_is_empty(compiled: CompiledRuleSet) -> None:
    result = evaluate(compiled, golden_profile("01_si_g2_progressive_nhs.yaml"))

    assert explain.compare(result, result) == []


def test_compare_lists_changes_in_the_new_results_order(compiled: CompiledRuleSet) -> None:
    before = evaluate(compiled, PatientProfile())
    after = evaluate(compiled, golden_profile("01_si_g2_progressive_nhs.yaml"))

    changes = explain.compare(before, after)

    order = [verdict.modality.key for verdict in after.verdicts]
    keys = [change.modality.key for change in changes]
    assert keys == sorted(keys, key=order.index)
    assert {c.modality.key for c in changes} == {
        key for key in keys_of(compiled) if before.verdict(key).status != after.verdict(key).status
    }


def test_compare_explains_a_new_barrier_with_the_rule_that_is_now_not_met(
    compiled: CompiledRuleSet,
) -> None:
    before = evaluate(compiled, golden_profile("01_si_g2_progressive_nhs.yaml"))
    after = evaluate(
        compiled, golden_profile("01_si_g2_progressive_nhs.yaml", sstr_imaging="negative", krenning_score=1)
    )

    changes = {c.modality.key: c for c in explain.compare(before, after)}

    prrt = changes["prrt_lu177"]
    assert (prrt.old_status, prrt.new_status) == ("candidate", "not_suitable")
    assert any(r.outcome is False and "sstr_imaging" in r.values for r in prrt.reasons)


def test_compare_counts_options_missing_from_one_rule_set_as_changed(compiled: CompiledRuleSet) -> None:
    full = evaluate(compiled, PatientProfile())
    partial = EvaluationResult(
        full.ruleset, full.profile, tuple(v for v in full.verdicts if v.modality.key != "interferon")
    )

    added = explain.compare(partial, full)
    removed = explain.compare(full, partial)

    assert [(c.modality.key, c.old_status) for c in added] == [("interferon", None)]
    assert [(c.modality.key, c.new_status, c.reasons, c.verdict) for c in removed] == [
        ("interferon", None, (), None)
    ]


# --- changed_facts -----------------------------------------------------------------------------


def test_changed_facts_lists_each_difference_with_unknown_as_none() -> None:
    before = PatientProfile(krenning_score=None, ecog=1, prior_therapies=None)
    after = PatientProfile(krenning_score=3, ecog=1, prior_therapies=[])

    changes = explain.changed_facts(before, after)

    assert changes == [
        explain.FactChange("krenning_score", None, 3),
        explain.FactChange("prior_therapies", None, []),
    ]


def test_changed_facts_ignores_the_order_of_prior_therapies() -> None:
    before = PatientProfile(prior_therapies=["ssta", "everolimus"])
    after = PatientProfile(prior_therapies=["everolimus", "ssta"])

    assert explain.changed_facts(before, after) == []


# --- status groups and words -------------------------------------------------------------------


def test_group_by_status_has_every_status_in_order_and_every_option_once(compiled: CompiledRuleSet) -> None:
    result = evaluate(compiled, golden_profile("34_missing_krenning_pnet.yaml"))

    groups = explain.group_by_status(result)

    assert [group.status for group in groups] == list(STATUS_ORDER)
    assert sorted(v.modality.key for g in groups for v in g.verdicts) == sorted(keys_of(compiled))
    for group in groups:
        assert all(verdict.status == group.status for verdict in group.verdicts)


@pytest.mark.parametrize(
    "words",
    [explain.STATUS_LABELS, explain.STATUS_MEANINGS],
    ids=["labels", "meanings"],
)
def test_every_status_has_words(words: dict[str, str]) -> None:
    assert set(words) == set(STATUS_ORDER)


def test_only_recall_and_to_be_confirmed_rules_are_unverified() -> None:
    assert explain.is_unverified("recall")
    assert explain.is_unverified("to_be_confirmed")
    assert not explain.is_unverified("verified")
    assert not explain.is_unverified("judgement")


def test_modality_names_maps_keys_to_names(compiled: CompiledRuleSet) -> None:
    names = explain.modality_names(compiled.modalities)

    assert set(names) == set(keys_of(compiled))
    assert names["ssta"].startswith("Somatostatin analogue")


def test_facts_by_group_lists_every_fact_once_in_form_groups_with_unknown_as_none() -> None:
    profile = PatientProfile(primary_site="pancreas", resectable=False)

    groups = explain.facts_by_group(profile)

    assert [group.group for group in groups] == [key for key, _ in GROUPS]
    listed = [name for group in groups for name, _ in group.rows]
    assert sorted(listed) == sorted(FACT_NAMES)
    for group in groups:  # within a group, in contract order
        names = [name for name, _ in group.rows]
        assert names == sorted(names, key=FACT_NAMES.index)
    values = {name: value for group in groups for name, value in group.rows}
    assert values["primary_site"] == "pancreas" and values["resectable"] is False
    assert values["krenning_score"] is None and values["funding"] == "nhs"
