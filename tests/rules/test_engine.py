"""The rules engine: what each rule kind does to an option's status (architecture.md, "Rules as
data"), which facts it names as missing, what it lists as cautions, the order of the options and the
contract shape of the answer. Small rule sets built in the test, then the real knowledge base. No
database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.personas import BRONCHIAL_NHS
from treatments.rules.conditions import parse_condition
from treatments.rules.document import KnowledgeBase
from treatments.rules.engine import (
    STATUS_ORDER,
    CompiledRuleSet,
    ModalitySpec,
    RuleSetError,
    RuleSetInfo,
    RuleSpec,
    Verdict,
)
from treatments.rules.profile import FACT_NAMES, PatientProfile, fact_label
from treatments.rules.serialize import reason_to_dict, result_to_dict

# Conditions, named for what they say.
GEP = {"fact": "primary_site", "in": ["pancreas", "small_intestine"]}
PROGRESSIVE = {"fact": "disease_status", "eq": "progressive"}
WELL = {"fact": "differentiation", "eq": "well"}
PREGNANT = {"fact": "pregnant", "eq": True}
LOW_UPTAKE = {"fact": "krenning_score", "lt": 3}
POOR_PERFORMANCE = {"fact": "ecog", "ge": 3}
NHS_LUNG = {"all": [{"fact": "funding", "eq": "nhs"}, {"fact": "primary_site", "eq": "lung_bronchus"}]}


def rule(rule_id: str, kind: str, when: dict[str, Any], *, if_unknown: str = "hold") -> RuleSpec:
    """A rule of the modality named by the id's prefix (`ssta.gep` belongs to ssta)."""
    return RuleSpec(
        rule_id=rule_id,
        modality=rule_id.split(".")[0],
        kind=kind,  # type: ignore[arg-type]
        title=rule_id.split(".")[1].replace("_", " ").capitalize(),
        condition=parse_condition(when),
        reason=f"Reason of {rule_id}.",
        source="Test source",
        evidence="test",
        if_unknown=if_unknown,  # type: ignore[arg-type]
    )


def modality(key: str, display_order: int) -> ModalitySpec:
    return ModalitySpec(
        key, key.replace("_", " ").capitalize(), "chemotherapy", ("antiproliferative",), display_order
    )


def ruleset(*rules: RuleSpec) -> CompiledRuleSet:
    """The modalities of the rules, in the order they first appear (display_order 1, 2, ...)."""
    keys = dict.fromkeys(spec.modality for spec in rules)
    return CompiledRuleSet(RuleSetInfo("test"), [modality(key, n) for n, key in enumerate(keys, 1)], rules)


def verdict(rules: list[RuleSpec], **facts: Any) -> Verdict:
    """The verdict for the single modality of `rules`."""
    (only,) = ruleset(*rules).evaluate(PatientProfile.model_validate(facts)).verdicts
    return only


def decisive(found: Verdict) -> set[str]:
    return {reason.rule.rule_id for reason in found.reasons if reason.decisive}


def cautions(found: Verdict) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(caution.rule.rule_id, caution.kind, caution.facts) for caution in found.cautions]


# An option with one rule of every kind.
INDICATED_BY_SITE = rule("ssta.gep", "indication", GEP)
INDICATED_BY_COURSE = rule("ssta.progressive", "indication", PROGRESSIVE)
NEEDS_WELL = rule("ssta.well", "requirement", WELL)
NOT_IN_PREGNANCY = rule("ssta.pregnant", "contraindication", PREGNANT)
TRIAL_IF_LOW_UPTAKE = rule("ssta.low_uptake", "trial_only", LOW_UPTAKE)
CAUTION_POOR_PERFORMANCE = rule("ssta.poor_performance", "caution", POOR_PERFORMANCE)
EVERY_KIND = [
    INDICATED_BY_SITE,
    INDICATED_BY_COURSE,
    NEEDS_WELL,
    NOT_IN_PREGNANCY,
    TRIAL_IF_LOW_UPTAKE,
    CAUTION_POOR_PERFORMANCE,
]
# A profile for which every rule above is decided and the option is a candidate.
SUITABLE = {
    "primary_site": "pancreas",
    "disease_status": "stable",
    "differentiation": "well",
    "pregnant": False,
    "krenning_score": 4,
    "ecog": 1,
}


# --- status precedence ----------------------------------------------------------------------------


def test_every_rule_decided_and_nothing_against_makes_a_candidate() -> None:
    found = verdict(EVERY_KIND, **SUITABLE)
    assert found.status == "candidate"
    assert found.missing_facts == ()
    assert found.cautions == ()


def test_a_known_barrier_beats_an_unknown_indication() -> None:
    found = verdict([INDICATED_BY_SITE, NEEDS_WELL], differentiation="poorly")
    assert found.status == "not_suitable"
    assert found.missing_facts == ()


def test_a_failed_requirement_makes_the_option_not_suitable_even_when_no_indication_applies() -> None:
    found = verdict([INDICATED_BY_SITE, NEEDS_WELL], primary_site="lung_bronchus", differentiation="poorly")
    assert found.status == "not_suitable"


def test_a_met_contraindication_makes_the_option_not_suitable() -> None:
    found = verdict(EVERY_KIND, **{**SUITABLE, "pregnant": True})
    assert found.status == "not_suitable"
    assert decisive(found) == {"ssta.pregnant"}


def test_an_option_is_not_indicated_when_every_indication_is_not_met_whatever_else_is_unknown() -> None:
    found = verdict(EVERY_KIND, primary_site="lung_bronchus", disease_status="stable")
    assert found.status == "not_indicated"
    assert found.missing_facts == ()


def test_an_indicated_option_with_a_met_trial_only_rule_is_trial_only_and_still_lists_unknown_barriers() -> (
    None
):
    found = verdict(EVERY_KIND, primary_site="pancreas", krenning_score=2)
    assert found.status == "trial_only"
    assert found.missing_facts == ("differentiation", "pregnant")


def test_a_met_trial_only_rule_without_a_met_indication_does_not_make_the_option_trial_only() -> None:
    found = verdict([INDICATED_BY_SITE, TRIAL_IF_LOW_UPTAKE], krenning_score=2)
    assert found.status == "needs_data"
    assert found.missing_facts == ("primary_site",)


@pytest.mark.parametrize(
    ("rules", "facts", "missing"),
    [
        pytest.param(
            [INDICATED_BY_SITE, INDICATED_BY_COURSE],
            {"disease_status": "stable"},
            ("primary_site",),
            id="no indication met and one unknown",
        ),
        pytest.param(
            [INDICATED_BY_SITE, NEEDS_WELL],
            {"primary_site": "pancreas"},
            ("differentiation",),
            id="requirement",
        ),
        pytest.param(
            [INDICATED_BY_SITE, NOT_IN_PREGNANCY],
            {"primary_site": "pancreas"},
            ("pregnant",),
            id="contraindication",
        ),
        pytest.param(
            [INDICATED_BY_COURSE, rule("ssta.nhs_lung", "trial_only", NHS_LUNG)],
            {"disease_status": "progressive"},
            ("primary_site",),
            id="trial_only rule",
        ),
    ],
)
def test_an_unknown_that_could_change_the_status_makes_the_option_need_data(
    rules: list[RuleSpec], facts: dict[str, Any], missing: tuple[str, ...]
) -> None:
    found = verdict(rules, **facts)
    assert found.status == "needs_data"
    assert found.missing_facts == missing


# The same precedence for any mix of rules: each rule looks at its own yes/no fact, so the test sets
# every rule's outcome (met, not met, unknown) directly and reads the expected answer off
# architecture.md.
BOOL_FACTS = [
    "resectable",
    "debulking_feasible",
    "primary_resected",
    "liver_metastases",
    "liver_dominant_disease",
    "extrahepatic_disease",
    "portal_vein_thrombosis",
    "carcinoid_heart_disease",
    "pregnant",
]
RULE_KINDS = ["indication", "requirement", "contraindication", "trial_only", "caution"]


@st.composite
def rules_and_outcomes(draw: st.DrawFn) -> tuple[list[RuleSpec], dict[str, bool | None]]:
    count = draw(st.integers(1, len(BOOL_FACTS)))
    rules, outcomes = [], {}
    for n, fact in enumerate(BOOL_FACTS[:count]):
        kind = "indication" if n == 0 else draw(st.sampled_from(RULE_KINDS))
        barrier = kind in ("requirement", "contraindication")
        if_unknown = draw(st.sampled_from(["hold", "note"])) if barrier else "hold"
        rules.append(rule(f"ssta.{fact}", kind, {"fact": fact, "eq": True}, if_unknown=if_unknown))
        outcomes[fact] = draw(st.sampled_from([True, False, None]))
    return rules, outcomes


@settings(max_examples=400, deadline=None)
@given(rules_and_outcomes())
def test_the_status_follows_the_precedence_of_the_architecture(
    case: tuple[list[RuleSpec], dict[str, bool | None]],
) -> None:
    rules, outcomes = case

    def fact(spec: RuleSpec) -> str:
        return spec.rule_id.removeprefix("ssta.")

    def having(kind: str, outcome: bool | None, if_unknown: str | None = None) -> list[str]:
        return [
            fact(spec)
            for spec in rules
            if spec.kind == kind
            and outcomes[fact(spec)] is outcome
            and (if_unknown is None or spec.if_unknown == if_unknown)
        ]

    indications = [outcomes[fact(spec)] for spec in rules if spec.kind == "indication"]
    unknown_barriers = having("requirement", None, "hold") + having("contraindication", None, "hold")
    not_checked = having("requirement", None, "note") + having("contraindication", None, "note")
    missing: list[str]
    if having("requirement", False) or having("contraindication", True):
        expected, missing = "not_suitable", []
    elif all(outcome is False for outcome in indications):
        expected, missing = "not_indicated", []
    elif True in indications and having("trial_only", True):
        expected, missing = "trial_only", unknown_barriers
    else:
        could_change = unknown_barriers + having("trial_only", None)
        if True not in indications:
            could_change += having("indication", None)
        expected, missing = ("needs_data", could_change) if could_change else ("candidate", [])

    found = verdict(rules, **{name: value for name, value in outcomes.items() if value is not None})
    assert found.status == expected
    assert set(found.missing_facts) == set(missing)
    if expected in ("candidate", "trial_only"):
        listed = {(f, "caution") for f in having("caution", True)} | {(f, "not_checked") for f in not_checked}
        assert {
            (caution.rule.rule_id.removeprefix("ssta."), caution.kind) for caution in found.cautions
        } == listed
    else:
        assert found.cautions == ()


# --- rules checked when known (if_unknown: note) --------------------------------------------------

PREGNANCY_NOTED = rule("ssta.pregnant", "contraindication", PREGNANT, if_unknown="note")
WELL_NOTED = rule("ssta.well", "requirement", WELL, if_unknown="note")


@pytest.mark.parametrize(
    ("noted", "fact"),
    [(PREGNANCY_NOTED, "pregnant"), (WELL_NOTED, "differentiation")],
    ids=["contraindication", "requirement"],
)
def test_a_rule_checked_when_known_does_not_hold_the_option_and_says_what_was_not_checked(
    noted: RuleSpec, fact: str
) -> None:
    found = verdict([INDICATED_BY_SITE, noted], primary_site="pancreas")
    assert found.status == "candidate"
    assert found.missing_facts == ()
    assert cautions(found) == [(noted.rule_id, "not_checked", (fact,))]
    assert (
        found.cautions[0].text == f"Not checked: {fact_label(fact)} is unknown. {noted.title}: {noted.reason}"
    )


def test_a_not_checked_caution_names_only_the_facts_that_are_unknown() -> None:
    frail_elderly = {"all": [{"fact": "age_years", "ge": 80}, POOR_PERFORMANCE]}
    noted = rule("ssta.frail_elderly", "contraindication", frail_elderly, if_unknown="note")
    found = verdict([INDICATED_BY_SITE, noted], primary_site="pancreas", ecog=3)
    assert found.status == "candidate"
    assert cautions(found) == [("ssta.frail_elderly", "not_checked", ("age_years",))]


def test_a_trial_only_option_also_says_what_was_not_checked() -> None:
    found = verdict(
        [INDICATED_BY_SITE, TRIAL_IF_LOW_UPTAKE, PREGNANCY_NOTED], primary_site="pancreas", krenning_score=1
    )
    assert found.status == "trial_only"
    assert cautions(found) == [("ssta.pregnant", "not_checked", ("pregnant",))]


@pytest.mark.parametrize(
    ("facts", "status"),
    [
        ({"primary_site": "pancreas"}, "needs_data"),
        ({"primary_site": "pancreas", "differentiation": "poorly"}, "not_suitable"),
        ({"primary_site": "rectum"}, "not_indicated"),
    ],
)
def test_options_that_are_not_offered_list_no_not_checked_caution(facts: dict[str, Any], status: str) -> None:
    found = verdict([INDICATED_BY_SITE, NEEDS_WELL, PREGNANCY_NOTED], **facts)
    assert found.status == status
    assert found.cautions == ()
    assert "pregnant" not in found.missing_facts


@pytest.mark.parametrize(
    ("noted", "facts"),
    [(PREGNANCY_NOTED, {"pregnant": True}), (WELL_NOTED, {"differentiation": "poorly"})],
    ids=["met contraindication", "failed requirement"],
)
def test_a_known_barrier_checked_when_known_still_makes_the_option_not_suitable(
    noted: RuleSpec, facts: dict[str, Any]
) -> None:
    found = verdict([INDICATED_BY_SITE, noted], primary_site="pancreas", **facts)
    assert found.status == "not_suitable"
    assert decisive(found) == {noted.rule_id}


# --- cautions -------------------------------------------------------------------------------------

STATUS_PROFILES = {
    "candidate": SUITABLE,
    "trial_only": {**SUITABLE, "krenning_score": 2},
    "needs_data": {**SUITABLE, "differentiation": None},
    "not_suitable": {**SUITABLE, "differentiation": "poorly"},
    "not_indicated": {**SUITABLE, "primary_site": "rectum"},
}


@pytest.mark.parametrize("status", STATUS_ORDER)
def test_a_met_caution_is_listed_only_for_options_on_offer_and_never_changes_the_status(status: str) -> None:
    frail = {**STATUS_PROFILES[status], "ecog": 3}
    without_caution = verdict(EVERY_KIND[:-1], **frail)
    found = verdict(EVERY_KIND, **frail)
    assert found.status == without_caution.status == status
    assert found.missing_facts == without_caution.missing_facts
    expected = [("ssta.poor_performance", "caution", ())] if status in ("candidate", "trial_only") else []
    assert cautions(found) == expected
    if expected:
        assert found.cautions[0].text == "Poor performance: Reason of ssta.poor_performance."


def test_a_caution_that_is_not_met_is_not_listed() -> None:
    assert verdict(EVERY_KIND, **SUITABLE).cautions == ()


# --- missing facts --------------------------------------------------------------------------------


def test_an_unknown_indication_is_not_missing_when_another_indication_is_met() -> None:
    found = verdict(EVERY_KIND, **{**SUITABLE, "disease_status": None, "differentiation": None})
    assert found.status == "needs_data"
    assert found.missing_facts == ("differentiation",)


def test_the_facts_of_an_unknown_caution_are_never_missing() -> None:
    found = verdict(EVERY_KIND, **{**SUITABLE, "ecog": None, "differentiation": None})
    assert found.missing_facts == ("differentiation",)
    found = verdict(EVERY_KIND, **{**SUITABLE, "ecog": None})
    assert (found.status, found.missing_facts) == ("candidate", ())


def test_missing_facts_are_in_contract_order_and_named_once() -> None:
    rules = [
        INDICATED_BY_SITE,
        rule("ssta.fit", "requirement", {"fact": "ecog", "le": 2}),
        rule("ssta.well_and_fit", "requirement", {"all": [WELL, {"fact": "ecog", "le": 3}]}),
    ]
    found = verdict(rules, primary_site="pancreas")
    assert found.missing_facts == ("differentiation", "ecog")
    assert list(found.missing_facts) == sorted(found.missing_facts, key=FACT_NAMES.index)


@pytest.mark.parametrize(
    ("status", "deciding"),
    [
        ("candidate", {"ssta.gep"}),
        ("trial_only", {"ssta.gep", "ssta.low_uptake"}),
        ("needs_data", {"ssta.well"}),
        ("not_suitable", {"ssta.well"}),
        ("not_indicated", {"ssta.gep", "ssta.progressive"}),
    ],
)
def test_the_rules_that_decide_each_status_are_flagged_decisive(status: str, deciding: set[str]) -> None:
    found = verdict(EVERY_KIND, **STATUS_PROFILES[status])
    assert found.status == status
    assert decisive(found) == deciding
    assert {reason.rule.rule_id for reason in found.deciding_reasons} == deciding


def test_every_barrier_that_holds_is_decisive() -> None:
    found = verdict(EVERY_KIND, **{**SUITABLE, "differentiation": "poorly", "pregnant": True})
    assert decisive(found) == {"ssta.well", "ssta.pregnant"}


# --- the clinical-trial meta-rule and the order of options ----------------------------------------

TRIAL_ELSEWHERE = rule("clinical_trial.other_trial_only", "indication", {"option_status": "trial_only"})
PRRT_RULES = [
    rule("prrt_lu177.gep", "indication", GEP),
    rule("prrt_lu177.low_uptake", "trial_only", LOW_UPTAKE),
]


@pytest.mark.parametrize(
    ("krenning_score", "prrt", "trial"), [(2, "trial_only", "candidate"), (4, "candidate", "not_indicated")]
)
def test_the_clinical_trial_option_sees_the_status_of_the_other_options(
    krenning_score: int, prrt: str, trial: str
) -> None:
    # The meta-rule comes first in the file; it is still evaluated after the options it looks at.
    result = ruleset(TRIAL_ELSEWHERE, *PRRT_RULES).evaluate(
        PatientProfile(primary_site="pancreas", krenning_score=krenning_score)
    )
    assert result.statuses() == {"prrt_lu177": prrt, "clinical_trial": trial}
    assert result.verdict("clinical_trial").reasons[0].outcome_word == (
        "met" if trial == "candidate" else "not_met"
    )


def test_options_come_in_status_order_then_in_display_order() -> None:
    rules = [
        rule("everolimus.gep", "indication", GEP),  # display_order 1: not_indicated
        rule("sunitinib.progressive", "indication", PROGRESSIVE),  # 2: needs_data
        rule("ssta.gep", "indication", {"fact": "primary_site", "eq": "rectum"}),  # 3: candidate
        rule("interferon.gep", "indication", {"fact": "primary_site", "eq": "rectum"}),  # 4: not_suitable
        rule("interferon.pregnant", "contraindication", PREGNANT),
        rule("prrt_lu177.gep", "indication", {"fact": "primary_site", "eq": "rectum"}),  # 5: trial_only
        rule("prrt_lu177.low_uptake", "trial_only", LOW_UPTAKE),
        rule("folfox_folfiri.gep", "indication", {"fact": "primary_site", "eq": "rectum"}),  # 6: candidate
    ]
    result = ruleset(*rules).evaluate(PatientProfile(primary_site="rectum", pregnant=True, krenning_score=1))
    assert [(v.modality.key, v.status) for v in result.verdicts] == [
        ("ssta", "candidate"),
        ("folfox_folfiri", "candidate"),
        ("prrt_lu177", "trial_only"),
        ("sunitinib", "needs_data"),
        ("interferon", "not_suitable"),
        ("everolimus", "not_indicated"),
    ]


def test_options_with_the_same_status_follow_the_display_order_not_the_order_given() -> None:
    specs = [modality("ssta", 3), modality("everolimus", 1), modality("sunitinib", 2)]
    rules = [rule(f"{spec.key}.gep", "indication", GEP) for spec in specs]
    result = CompiledRuleSet(RuleSetInfo("test"), specs, rules).evaluate(
        PatientProfile(primary_site="pancreas")
    )
    assert [v.modality.key for v in result.verdicts] == ["everolimus", "sunitinib", "ssta"]


def test_a_modality_without_an_indication_is_refused() -> None:
    with pytest.raises(RuleSetError, match="modality ssta has no indication rule"):
        ruleset(NEEDS_WELL, NOT_IN_PREGNANCY)


def test_a_rule_of_a_modality_that_is_not_in_the_rule_set_is_refused() -> None:
    with pytest.raises(RuleSetError, match="unknown modality 'sunitinib'"):
        CompiledRuleSet(
            RuleSetInfo("test"),
            [modality("ssta", 1)],
            [INDICATED_BY_SITE, rule("sunitinib.gep", "indication", GEP)],
        )


# --- the contract shape ---------------------------------------------------------------------------

OPTION_KEYS = {
    "modality",
    "name",
    "category",
    "status",
    "intent",
    "reasons",
    "missing_facts",
    "cautions",
    "guideline_line",
}
REASON_KEYS = {
    "rule_id",
    "kind",
    "title",
    "outcome",
    "decisive",
    "condition",
    "values",
    "text",
    "source",
    "evidence",
    "verification",
    "verification_note",
}


def test_result_to_dict_gives_exactly_the_contract_shape() -> None:
    info = RuleSetInfo("2.0.0", datetime(2025, 3, 1, 9, 30, tzinfo=UTC), "abc")
    renal_noted = rule("ssta.renal", "requirement", {"fact": "egfr_ml_min", "ge": 30}, if_unknown="note")
    compiled = CompiledRuleSet(info, [modality("ssta", 1)], [*EVERY_KIND, renal_noted])
    profile = {
        "primary_site": "pancreas",
        "differentiation": "well",
        "krenning_score": 2,
        "ecog": 3,
        "pregnant": False,
    }
    result = compiled.evaluate(PatientProfile.model_validate(profile))
    body = result_to_dict(result)
    assert json.loads(json.dumps(body)) == body
    assert list(body) == ["schema_version", "ruleset", "warnings", "options"]
    assert (body["schema_version"], body["warnings"]) == (2, [])
    assert body["ruleset"] == {"version": "2.0.0", "published_at": "2025-03-01T09:30:00Z"}
    (option,) = body["options"]
    assert set(option) == OPTION_KEYS
    assert option["guideline_line"] is None
    assert (option["modality"], option["name"], option["category"]) == ("ssta", "Ssta", "chemotherapy")
    assert (option["status"], option["intent"], option["missing_facts"]) == (
        "trial_only",
        ["antiproliferative"],
        [],
    )
    assert all(set(reason) == REASON_KEYS for reason in option["reasons"])
    by_id = {reason["rule_id"]: reason for reason in option["reasons"]}
    assert list(by_id) == [spec.rule_id for spec in EVERY_KIND] + ["ssta.renal"]
    assert by_id["ssta.gep"] == {
        "rule_id": "ssta.gep",
        "kind": "indication",
        "title": "Gep",
        "outcome": "met",
        "decisive": True,
        "condition": "Primary site is one of (pancreas, small intestine)",
        "values": {"primary_site": "pancreas"},
        "text": "Reason of ssta.gep.",
        "source": "Test source",
        "evidence": "test",
        "verification": "verified",
        "verification_note": "",
    }
    # Reasons show the values the rule looked at, unknown ones as null.
    assert (by_id["ssta.progressive"]["outcome"], by_id["ssta.progressive"]["values"]) == (
        "unknown",
        {"disease_status": None},
    )
    assert (by_id["ssta.low_uptake"]["outcome"], by_id["ssta.low_uptake"]["values"]) == (
        "met",
        {"krenning_score": 2},
    )
    assert by_id["ssta.pregnant"]["outcome"] == "not_met"
    assert option["cautions"] == [
        {
            "rule_id": "ssta.poor_performance",
            "type": "caution",
            "facts": [],
            "text": "Poor performance: Reason of ssta.poor_performance.",
        },
        {
            "rule_id": "ssta.renal",
            "type": "not_checked",
            "facts": ["egfr_ml_min"],
            "text": "Not checked: eGFR is unknown. Renal: Reason of ssta.renal.",
        },
    ]


def test_a_reason_serialises_the_same_alone_and_within_its_option() -> None:
    result = ruleset(*EVERY_KIND).evaluate(PatientProfile(primary_site="pancreas"))
    (option,) = result_to_dict(result)["options"]
    assert option["reasons"] == [reason_to_dict(reason) for reason in result.verdicts[0].reasons]


def test_an_unpublished_rule_set_has_no_publication_date() -> None:
    body = result_to_dict(ruleset(*EVERY_KIND).evaluate(PatientProfile()))
    assert body["ruleset"] == {"version": "test", "published_at": None}


# --- the real knowledge base ----------------------------------------------------------------------

CONTRACT_CHECK_PROFILE = BRONCHIAL_NHS


def test_every_option_of_the_knowledge_base_explains_every_one_of_its_rules(
    compiled: CompiledRuleSet, knowledge_base: KnowledgeBase
) -> None:
    result = compiled.evaluate(PatientProfile.model_validate(CONTRACT_CHECK_PROFILE))
    assert sorted(result.statuses()) == sorted(modality.key for modality in knowledge_base.modalities)
    for found in result.verdicts:
        expected = [spec.rule_id for spec in knowledge_base.rules if spec.modality == found.modality.key]
        assert [reason.rule.rule_id for reason in found.reasons] == expected, found.modality.key


def test_prrt_for_a_bronchial_net_under_the_nhs_is_trial_only(compiled: CompiledRuleSet) -> None:
    result = compiled.evaluate(PatientProfile.model_validate(CONTRACT_CHECK_PROFILE))
    assert result.verdict("prrt_lu177").status == "trial_only"
    assert result.verdict("clinical_trial").status != "not_indicated"


def test_with_nothing_known_no_option_is_a_candidate_and_each_says_what_it_needs(
    compiled: CompiledRuleSet,
) -> None:
    result = compiled.evaluate(PatientProfile())
    assert "candidate" not in result.statuses().values()
    for found in result.verdicts:
        if found.status == "needs_data":
            assert found.missing_facts, found.modality.key
            assert "funding" not in found.missing_facts


def test_the_same_profile_gets_the_same_answer_in_the_same_order(
    compiled: CompiledRuleSet, knowledge_base: KnowledgeBase
) -> None:
    profile = PatientProfile.model_validate(CONTRACT_CHECK_PROFILE)
    first = result_to_dict(compiled.evaluate(profile))
    assert result_to_dict(compiled.evaluate(profile)) == first
    assert result_to_dict(knowledge_base.compile().evaluate(profile)) == first
    assert json.dumps(first) == json.dumps(result_to_dict(compiled.evaluate(profile)))


def test_the_decision_cache_keeps_each_distinct_decision_once_and_is_bounded(
    knowledge_base: KnowledgeBase,
) -> None:
    # A process keeps its decisions for the rule set's life: many outcome patterns share a few
    # decisions, so each is stored once, and the patterns per option are capped.
    from treatments.rules import engine

    compiled = knowledge_base.compile()
    for ki67 in range(0, 100, 3):
        for site in ("pancreas", "small_intestine", "rectum", "lung_bronchus"):
            for ecog in range(5):
                compiled.evaluate(
                    PatientProfile.model_validate({"ki67_percent": ki67, "primary_site": site, "ecog": ecog})
                )
    plans = compiled._first_pass + compiled._second_pass
    patterns = sum(len(plan.decisions) for plan in plans)
    distinct = {id(decision) for plan in plans for decision in plan.decisions.values()}
    assert len(distinct) == sum(len(plan.distinct) for plan in plans) < patterns
    assert all(len(plan.decisions) <= engine._DECISION_CACHE_SIZE for plan in plans)
