"""The condition language of the rules: three-valued (Kleene) meaning, the facts an unknown outcome
hinges on, validation of what rule authors write, plain-English text, and the agreement of the
engine's compiled code with the reference interpreter. No database."""

from __future__ import annotations

import itertools
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from treatments.rules.codegen import unknown_facts_functions
from treatments.rules.conditions import (
    STATUSES,
    condition_errors,
    condition_to_data,
    describe,
    outcome,
    parse_condition,
    unknown_facts,
)
from treatments.rules.engine import RULE_KINDS, CompiledRuleSet, ModalitySpec, RuleKind, RuleSetInfo, RuleSpec
from treatments.rules.profile import PatientProfile

T, F, U = True, False, None  # met, not met, unknown


def facts(**known: Any) -> dict[str, Any]:
    """Every fact of a validated profile; the ones not given are unknown (None)."""
    return dict(PatientProfile.model_validate(known).__dict__)


def is_(value: bool | None, fact: str) -> dict[str, Any]:
    """A fact setting for an operand that comes out as `value`: the fact true, false or unknown."""
    return {fact: value} if value is not None else {}


def operand(fact: str) -> dict[str, Any]:
    return {"fact": fact, "eq": True}


A, B, C = "resectable", "debulking_feasible", "primary_resected"


# --- Kleene truth tables --------------------------------------------------------------------------

AND = {
    (T, T): T, (T, F): F, (T, U): U,
    (F, T): F, (F, F): F, (F, U): F,
    (U, T): U, (U, F): F, (U, U): U,
}  # fmt: skip
OR = {
    (T, T): T, (T, F): T, (T, U): T,
    (F, T): T, (F, F): F, (F, U): U,
    (U, T): T, (U, F): U, (U, U): U,
}  # fmt: skip
NOT = {T: F, F: T, U: U}


@pytest.mark.parametrize(("a", "b"), list(AND))
def test_all_of_two_follows_kleene_and(a: bool | None, b: bool | None) -> None:
    condition = parse_condition({"all": [operand(A), operand(B)]})
    assert outcome(condition, facts(**is_(a, A), **is_(b, B))) is AND[a, b]


@pytest.mark.parametrize(("a", "b"), list(OR))
def test_any_of_two_follows_kleene_or(a: bool | None, b: bool | None) -> None:
    condition = parse_condition({"any": [operand(A), operand(B)]})
    assert outcome(condition, facts(**is_(a, A), **is_(b, B))) is OR[a, b]


@pytest.mark.parametrize("a", [T, F, U])
def test_not_swaps_met_and_not_met_and_keeps_unknown(a: bool | None) -> None:
    assert outcome(parse_condition({"not": operand(A)}), facts(**is_(a, A))) is NOT[a]


@pytest.mark.parametrize("combinator", ["all", "any"])
@pytest.mark.parametrize("a", [T, F, U])
def test_all_or_any_of_a_single_part_is_that_part(combinator: str, a: bool | None) -> None:
    assert outcome(parse_condition({combinator: [operand(A)]}), facts(**is_(a, A))) is a


# Kleene logic orders the outcomes not met < unknown < met: `all` is the lowest part, `any` the highest.
_RANK = {F: 0, U: 1, T: 2}


@pytest.mark.parametrize(("a", "b", "c"), list(itertools.product([T, F, U], repeat=3)))
def test_all_and_any_of_three_take_the_lowest_and_highest_part(
    a: bool | None, b: bool | None, c: bool | None
) -> None:
    known = facts(**is_(a, A), **is_(b, B), **is_(c, C))
    parts = [operand(A), operand(B), operand(C)]
    assert outcome(parse_condition({"all": parts}), known) is min((a, b, c), key=_RANK.__getitem__)
    assert outcome(parse_condition({"any": parts}), known) is max((a, b, c), key=_RANK.__getitem__)


# --- operators ------------------------------------------------------------------------------------

# (condition, known facts, expected outcome): each operator with a value that meets it, one that does
# not (at the boundary where there is one), and an unknown value.
OPERATOR_CASES = [
    ({"fact": "differentiation", "eq": "well"}, {"differentiation": "well"}, T),
    ({"fact": "differentiation", "eq": "well"}, {"differentiation": "poorly"}, F),
    ({"fact": "differentiation", "eq": "well"}, {}, U),
    ({"fact": "pregnant", "eq": False}, {"pregnant": False}, T),
    ({"fact": "pregnant", "eq": False}, {"pregnant": True}, F),
    ({"fact": "pregnant", "eq": False}, {}, U),
    ({"fact": "ecog", "eq": 0}, {"ecog": 0}, T),
    ({"fact": "ecog", "eq": 0}, {"ecog": 1}, F),
    ({"fact": "primary_site", "ne": "pancreas"}, {"primary_site": "rectum"}, T),
    ({"fact": "primary_site", "ne": "pancreas"}, {"primary_site": "pancreas"}, F),
    ({"fact": "primary_site", "ne": "pancreas"}, {}, U),
    ({"fact": "primary_site", "in": ["pancreas", "rectum"]}, {"primary_site": "rectum"}, T),
    ({"fact": "primary_site", "in": ["pancreas", "rectum"]}, {"primary_site": "colon"}, F),
    ({"fact": "primary_site", "in": ["pancreas", "rectum"]}, {}, U),
    ({"fact": "krenning_score", "in": [3, 4]}, {"krenning_score": 3}, T),
    ({"fact": "krenning_score", "in": [3, 4]}, {"krenning_score": 2}, F),
    ({"fact": "primary_site", "not_in": ["pancreas", "rectum"]}, {"primary_site": "colon"}, T),
    ({"fact": "primary_site", "not_in": ["pancreas", "rectum"]}, {"primary_site": "pancreas"}, F),
    ({"fact": "primary_site", "not_in": ["pancreas", "rectum"]}, {}, U),
    ({"fact": "ki67_percent", "lt": 3}, {"ki67_percent": 2.99}, T),
    ({"fact": "ki67_percent", "lt": 3}, {"ki67_percent": 3}, F),
    ({"fact": "ki67_percent", "lt": 3}, {}, U),
    ({"fact": "ki67_percent", "le": 20}, {"ki67_percent": 20}, T),
    ({"fact": "ki67_percent", "le": 20}, {"ki67_percent": 20.01}, F),
    ({"fact": "ki67_percent", "le": 20}, {}, U),
    ({"fact": "ki67_percent", "gt": 55}, {"ki67_percent": 55.01}, T),
    ({"fact": "ki67_percent", "gt": 55}, {"ki67_percent": 55}, F),
    ({"fact": "ki67_percent", "gt": 55}, {}, U),
    ({"fact": "ki67_percent", "ge": 10}, {"ki67_percent": 10}, T),
    ({"fact": "ki67_percent", "ge": 10}, {"ki67_percent": 9.99}, F),
    ({"fact": "ki67_percent", "ge": 10}, {}, U),
    ({"fact": "ki67_percent", "ge": 0}, {"ki67_percent": 0}, T),
    ({"fact": "ecog", "le": 2}, {"ecog": 2}, T),
    ({"fact": "ecog", "le": 2}, {"ecog": 3}, F),
    ({"fact": "ecog", "le": 2}, {}, U),
    ({"fact": "egfr_ml_min", "lt": 30}, {"egfr_ml_min": 29.9}, T),
    ({"fact": "egfr_ml_min", "lt": 30}, {"egfr_ml_min": 30}, F),
    ({"fact": "prior_therapies", "contains": "ssta"}, {"prior_therapies": ["everolimus", "ssta"]}, T),
    ({"fact": "prior_therapies", "contains": "ssta"}, {"prior_therapies": ["everolimus"]}, F),
    ({"fact": "prior_therapies", "contains": "ssta"}, {"prior_therapies": []}, F),
    ({"fact": "prior_therapies", "contains": "ssta"}, {}, U),
    ({"fact": "krenning_score", "is_known": True}, {"krenning_score": 0}, T),
    ({"fact": "krenning_score", "is_known": True}, {}, F),
    ({"fact": "krenning_score", "is_known": False}, {}, T),
    ({"fact": "krenning_score", "is_known": False}, {"krenning_score": 0}, F),
    ({"fact": "prior_therapies", "is_known": True}, {"prior_therapies": []}, T),
]


@pytest.mark.parametrize(("data", "known", "expected"), OPERATOR_CASES)
def test_each_operator_compares_a_known_value_and_is_unknown_without_one(
    data: dict[str, Any], known: dict[str, Any], expected: bool | None
) -> None:
    assert outcome(parse_condition(data), facts(**known)) is expected


def test_a_fact_missing_from_the_mapping_is_unknown_like_a_null_one() -> None:
    condition = parse_condition({"fact": "ki67_percent", "ge": 10})
    assert outcome(condition, {}) is None
    assert outcome(condition, {"ki67_percent": None}) is None


def test_contains_is_unknown_without_prior_therapies_and_not_met_for_none_given() -> None:
    condition = parse_condition({"fact": "prior_therapies", "contains": "prrt_lu177"})
    assert unknown_facts(condition, facts()) == (None, frozenset({"prior_therapies"}))
    assert unknown_facts(condition, facts(prior_therapies=[])) == (False, frozenset())


@pytest.mark.parametrize("value", [True, False])
@pytest.mark.parametrize("known", [{}, {"ecog": 0}, {"ecog": 4}])
def test_is_known_is_never_unknown(value: bool, known: dict[str, Any]) -> None:
    condition = parse_condition({"fact": "ecog", "is_known": value})
    assert outcome(condition, facts(**known)) is (("ecog" in known) is value)
    assert unknown_facts(condition, facts(**known))[1] == frozenset()


def test_funding_is_never_unknown_because_it_defaults_to_nhs() -> None:
    condition = parse_condition({"fact": "funding", "eq": "nhs"})
    assert outcome(condition, facts()) is True
    assert outcome(condition, facts(funding="private")) is False


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [({"trial_only"}, T), ({"candidate", "trial_only"}, T), ({"candidate", "needs_data"}, F), (set(), F)],
)
def test_option_status_is_met_when_another_option_has_that_status(statuses: set[str], expected: bool) -> None:
    condition = parse_condition({"option_status": "trial_only"})
    assert unknown_facts(condition, facts(), frozenset(statuses)) == (expected, frozenset())


# --- the facts an unknown outcome hinges on -------------------------------------------------------

KI67_HIGH = {"fact": "ki67_percent", "ge": 10}
PROGRESSIVE = {"fact": "disease_status", "eq": "progressive"}
FIT = {"fact": "ecog", "le": 2}


@pytest.mark.parametrize(
    ("data", "known", "expected"),
    [
        # any: a met part decides, so the unknown sibling does not matter
        ({"any": [KI67_HIGH, PROGRESSIVE]}, {"disease_status": "progressive"}, (T, set())),
        ({"any": [KI67_HIGH, PROGRESSIVE]}, {"disease_status": "stable"}, (U, {"ki67_percent"})),
        ({"any": [KI67_HIGH, PROGRESSIVE]}, {}, (U, {"ki67_percent", "disease_status"})),
        # all: a part that is not met decides
        ({"all": [KI67_HIGH, PROGRESSIVE]}, {"disease_status": "stable"}, (F, set())),
        ({"all": [KI67_HIGH, PROGRESSIVE]}, {"disease_status": "progressive"}, (U, {"ki67_percent"})),
        # all: [any: [a, b], c]
        ({"all": [{"any": [KI67_HIGH, PROGRESSIVE]}, FIT]}, {"disease_status": "progressive"}, (U, {"ecog"})),
        (
            {"all": [{"any": [KI67_HIGH, PROGRESSIVE]}, FIT]},
            {"disease_status": "stable"},
            (U, {"ki67_percent", "ecog"}),
        ),
        ({"all": [{"any": [KI67_HIGH, PROGRESSIVE]}, FIT]}, {"ecog": 3}, (F, set())),
        (
            {"all": [{"any": [KI67_HIGH, PROGRESSIVE]}, FIT]},
            {"ecog": 1},
            (U, {"ki67_percent", "disease_status"}),
        ),
        ({"all": [{"any": [KI67_HIGH, PROGRESSIVE]}, FIT]}, {"ki67_percent": 12, "ecog": 1}, (T, set())),
        # not: the same facts as its part
        ({"not": KI67_HIGH}, {}, (U, {"ki67_percent"})),
        ({"not": {"all": [KI67_HIGH, PROGRESSIVE]}}, {"disease_status": "stable"}, (T, set())),
    ],
)
def test_unknown_facts_names_exactly_the_facts_the_outcome_hinges_on(
    data: dict[str, Any], known: dict[str, Any], expected: tuple[bool | None, set[str]]
) -> None:
    result, missing = unknown_facts(parse_condition(data), facts(**known))
    assert (result, set(missing)) == expected


# --- validation of what rule authors write --------------------------------------------------------


def problems(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        parse_condition(data)
    return condition_errors(caught.value)


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        ({"fact": "tumour_colour", "eq": "blue"}, "when", "'tumour_colour' is not a fact of the contract"),
        (
            {"fact": "primary_site", "lt": 3},
            "when",
            "operator 'lt' does not apply to enum fact 'primary_site'",
        ),
        (
            {"fact": "ki67_percent", "eq": 10},
            "when",
            "operator 'eq' does not apply to number fact 'ki67_percent'",
        ),
        ({"fact": "ecog", "contains": 1}, "when", "operator 'contains' does not apply to int fact 'ecog'"),
        ({"fact": "pregnant", "lt": 1}, "when", "operator 'lt' does not apply to bool fact 'pregnant'"),
        (
            {"fact": "differentiation", "eq": "moderate"},
            "when",
            "'moderate' is not a value of 'differentiation' (allowed: well, poorly)",
        ),
        (
            {"fact": "primary_site", "in": ["pancreas", "liver"]},
            "when",
            "'liver' is not a value of 'primary_site'",
        ),
        (
            {"fact": "prior_therapies", "contains": "chemo"},
            "when",
            "'chemo' is not a value of 'prior_therapies'",
        ),
        ({"fact": "ki67_percent", "ge": True}, "when", "'ki67_percent' is compared with a number, not True"),
        ({"fact": "ecog", "eq": "2"}, "when", "'ecog' is compared with a number, not '2'"),
        ({"fact": "ecog", "ge": 2.5}, "when", "'ecog' is a whole number, not 2.5"),
        (
            {"fact": "ki67_percent", "ge": float("inf")},
            "when",
            "'ki67_percent' is compared with a finite number",
        ),
        (
            {"fact": "ki67_percent", "lt": float("nan")},
            "when",
            "'ki67_percent' is compared with a finite number",
        ),
        ({"fact": "pregnant", "eq": "yes"}, "when", "'pregnant' is true or false, not 'yes'"),
        ({"fact": "primary_site", "in": []}, "when", "'in' needs a non-empty list of values"),
        ({"fact": "primary_site", "not_in": "pancreas"}, "when", "'not_in' needs a non-empty list of values"),
        ({"fact": "krenning_score", "is_known": 1}, "when", "is_known takes true or false"),
        ({"all": []}, "when.all", "at least 1 item"),
        ({"any": []}, "when.any", "at least 1 item"),
        ({"fact": "ki67_percent", "ge": 10, "le": 20}, "when", "exactly one operator"),
        ({"fact": "ki67_percent"}, "when", "exactly one operator"),
        ({"fact": "ki67_percent", "between": [1, 2]}, "when", "exactly one operator"),
        (
            "ki67 >= 10",
            "when",
            "a condition is an object with 'fact', 'all', 'any', 'not' or 'option_status'",
        ),
        ([KI67_HIGH], "when", "a condition is an object"),
        ({"ge": 10}, "when", "a condition is an object"),
        ({"option_status": "maybe"}, "when.option_status", "'trial_only'"),
        ({"all": [KI67_HIGH, {"fact": "bogus", "eq": 1}]}, "when.all[1]", "'bogus' is not a fact"),
        ({"not": {"any": [{"fact": "ecog", "ge": "2"}]}}, "when.not.any[0]", "compared with a number"),
    ],
)
def test_parse_condition_rejects_a_mistake_and_says_where_and_why(data: Any, path: str, message: str) -> None:
    found = problems(data)
    assert any(where == path and message in text for where, text in found), found


def test_a_mistake_inside_all_or_any_is_reported_once_at_its_own_path() -> None:
    # The part that is wrong is reported; the list around it is not also called empty.
    found = problems({"any": [{"all": [{"fact": "ecog", "eq": "2"}]}]})
    assert found == [("when.any[0].all[0]", "'ecog' is compared with a number, not '2'")]


def test_a_valid_condition_keeps_its_compact_written_form() -> None:
    data = {
        "all": [
            KI67_HIGH,
            {"not": {"fact": "primary_site", "in": ["pancreas"]}},
            {"option_status": "trial_only"},
        ]
    }
    assert parse_condition(data).model_dump(mode="json", by_alias=True) == data


# --- plain English --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ({"fact": "ki67_percent", "ge": 10}, "Ki-67 index ≥ 10 %"),
        ({"fact": "ki67_percent", "lt": 2.5}, "Ki-67 index < 2.5 %"),
        ({"fact": "largest_liver_lesion_mm", "gt": 30.0}, "Largest liver lesion > 30 mm"),
        ({"fact": "ecog", "le": 2}, "ECOG performance status ≤ 2"),
        ({"fact": "differentiation", "eq": "well"}, "Differentiation is well differentiated"),
        ({"fact": "differentiation", "eq": "poorly"}, "Differentiation is poorly differentiated (NEC)"),
        ({"fact": "funding", "eq": "nhs"}, "Funding is NHS"),
        ({"fact": "primary_site", "ne": "small_intestine"}, "Primary site is not small intestine"),
        ({"fact": "pregnant", "eq": True}, "Pregnant is yes"),
        (
            {"fact": "primary_site", "in": ["pancreas", "small_intestine"]},
            "Primary site is one of (pancreas, small intestine)",
        ),
        ({"fact": "primary_site", "not_in": ["lung_bronchus"]}, "Primary site is none of (lung or bronchus)"),
        ({"fact": "prior_therapies", "contains": "prrt_lu177"}, "Prior therapies include prrt lu177"),
        ({"fact": "krenning_score", "is_known": True}, "Krenning score is known"),
        ({"fact": "krenning_score", "is_known": False}, "Krenning score is unknown"),
        ({"option_status": "trial_only"}, "another option is trial only"),
        ({"not": {"fact": "differentiation", "eq": "well"}}, "not (Differentiation is well differentiated)"),
        (
            {
                "all": [
                    {"fact": "differentiation", "eq": "well"},
                    {"any": [FIT, {"fact": "pregnant", "eq": False}]},
                ]
            },
            "Differentiation is well differentiated and (ECOG performance status ≤ 2 or Pregnant is no)",
        ),
        ({"all": [{"any": [FIT]}]}, "ECOG performance status ≤ 2"),
    ],
)
def test_describe_reads_as_plain_english(data: dict[str, Any], text: str) -> None:
    assert describe(parse_condition(data)) == text


def test_describe_names_prior_therapies_by_their_modality_names() -> None:
    condition = parse_condition({"fact": "prior_therapies", "contains": "ssta"})

    assert (
        describe(condition, {"ssta": "Somatostatin analogue"})
        == "Prior therapies include Somatostatin analogue"
    )


# --- property: the compiled engine means what the reference interpreter means ---------------------

# Small pools of facts and values, with the boundaries, so that generated trees share sub-conditions
# (the compiler computes each one once) and generated profiles hit the comparisons' edges.
KI67_VALUES = [0, 9.99, 10, 10.01, 100]
SITES = ["pancreas", "small_intestine", "rectum", "lung_bronchus"]
THERAPIES = ["ssta", "everolimus", "prrt_lu177"]

FACT_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "ki67_percent": st.one_of(st.sampled_from(KI67_VALUES), st.sampled_from(KI67_VALUES), st.floats(0, 100)),
    "ecog": st.sampled_from([0, 1, 2, 3, 4]),
    "krenning_score": st.sampled_from([0, 1, 2, 3, 4]),
    "primary_site": st.sampled_from(SITES),
    "differentiation": st.sampled_from(["well", "poorly"]),
    "pregnant": st.booleans(),
    "resectable": st.booleans(),
    "prior_therapies": st.lists(st.sampled_from(THERAPIES), max_size=3, unique=True),
    "funding": st.sampled_from(["nhs", "private"]),
}


def _compare(fact: str, ops: list[str], values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda op, value: {"fact": fact, op: value}, st.sampled_from(ops), values)


_LISTS_OF_SITES = st.lists(st.sampled_from(SITES), min_size=1, max_size=3)
COMPARISONS = st.one_of(
    _compare("ki67_percent", ["lt", "le", "gt", "ge"], st.sampled_from(KI67_VALUES)),
    _compare("ecog", ["eq", "ne", "lt", "le", "gt", "ge"], st.integers(0, 4)),
    _compare("krenning_score", ["in", "not_in"], st.lists(st.integers(0, 4), min_size=1, max_size=3)),
    _compare("primary_site", ["eq", "ne"], st.sampled_from(SITES)),
    _compare("primary_site", ["in", "not_in"], _LISTS_OF_SITES),
    _compare("differentiation", ["eq", "ne"], st.sampled_from(["well", "poorly"])),
    _compare("pregnant", ["eq", "ne"], st.booleans()),
    _compare("resectable", ["eq", "ne"], st.booleans()),
    _compare("prior_therapies", ["contains"], st.sampled_from(THERAPIES)),
    _compare("funding", ["eq"], st.sampled_from(["nhs", "private"])),
    st.builds(lambda status: {"option_status": status}, st.sampled_from(STATUSES)),
)
IS_KNOWN = st.builds(
    lambda fact, value: {"fact": fact, "is_known": value}, st.sampled_from(list(FACT_VALUES)), st.booleans()
)


def trees(leaves: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.recursive(
        leaves,
        lambda parts: st.one_of(
            st.builds(lambda items: {"all": items}, st.lists(parts, min_size=1, max_size=3)),
            st.builds(lambda items: {"any": items}, st.lists(parts, min_size=1, max_size=3)),
            st.builds(lambda part: {"not": part}, parts),
        ),
        max_leaves=10,
    )


CONDITIONS = trees(COMPARISONS | IS_KNOWN)
# Without is_known, learning a fact can only settle an unknown outcome, never change a known one.
MONOTONE_CONDITIONS = trees(COMPARISONS)


def compiled_outcomes(rules: list[RuleSpec], profile: PatientProfile) -> tuple[bool | None, ...]:
    """The outcomes the engine's generated code gives the rules of one option."""
    ruleset = CompiledRuleSet(RuleSetInfo("test"), [GENERATED], rules)
    return ruleset.evaluate(profile).verdict("clinical_trial").outcomes


LEAF_CASES = [
    *[("ki67_percent", op, limit) for op in ("lt", "le", "gt", "ge") for limit in KI67_VALUES],
    *[("ecog", op, limit) for op in ("eq", "ne", "lt", "le", "gt", "ge") for limit in range(5)],
    *[("krenning_score", op, [2, 3]) for op in ("in", "not_in")],
    *[("primary_site", op, "pancreas") for op in ("eq", "ne")],
    *[("primary_site", op, ["pancreas", "rectum"]) for op in ("in", "not_in")],
    *[("pregnant", op, value) for op in ("eq", "ne") for value in (True, False)],
    ("prior_therapies", "contains", "ssta"),
    *[(fact, "is_known", value) for fact in FACT_VALUES for value in (True, False)],
    # A 1.1 rule on the boolean portal-vein thrombosis, and its 1.2 form.
    *[("portal_vein_thrombosis", op, value) for op in ("eq", "ne") for value in (True, False, "main")],
]


@pytest.mark.parametrize(("fact", "op", "value"), LEAF_CASES)
def test_each_compiled_comparison_agrees_with_the_reference_at_every_boundary(
    fact: str, op: str, value: Any
) -> None:
    condition = parse_condition({"fact": fact, op: value})
    rule = RuleSpec("gen.leaf", "clinical_trial", "indication", "t", condition, "r", "s", "e")
    samples = {
        "ki67_percent": KI67_VALUES,
        "ecog": range(5),
        "krenning_score": range(5),
        "primary_site": SITES,
        "differentiation": ["well", "poorly"],
        "pregnant": [True, False],
        "resectable": [True, False],
        "prior_therapies": [[], ["ssta"], ["everolimus"], ["everolimus", "ssta"]],
        "funding": ["nhs", "private"],
        "portal_vein_thrombosis": [True, False, "none", "branch", "main"],
    }[fact]
    for sample in [None, *samples]:
        profile = PatientProfile.model_validate({fact: sample})
        assert compiled_outcomes([rule], profile) == (outcome(condition, profile.__dict__),), sample


# A partial profile: each fact absent, null or (most often) known.
PROFILES = st.fixed_dictionaries(
    {}, optional={name: st.one_of(st.none(), values, values) for name, values in FACT_VALUES.items()}
)
KINDS: st.SearchStrategy[RuleKind] = st.sampled_from(RULE_KINDS)

# A second option with fixed rules whose status varies with the profile, so that `option_status`
# conditions in the generated rules have real statuses to look at.
HELPER = ModalitySpec("everolimus", "Everolimus", "targeted_therapy", ("antiproliferative",), 1)
HELPER_RULES = [
    RuleSpec("ev.high", "everolimus", "indication", "t", parse_condition(KI67_HIGH), "r", "s", "e"),
    RuleSpec("ev.fit", "everolimus", "requirement", "t", parse_condition(FIT), "r", "s", "e"),
    RuleSpec(
        "ev.nhs",
        "everolimus",
        "trial_only",
        "t",
        parse_condition({"fact": "funding", "eq": "nhs"}),
        "r",
        "s",
        "e",
    ),
]
GENERATED = ModalitySpec("clinical_trial", "Trial", "clinical_trial", ("antiproliferative",), 2)


@st.composite
def generated_rules(draw: st.DrawFn) -> list[RuleSpec]:
    count = draw(st.integers(1, 5))
    rules = []
    for n in range(count):
        kind = "indication" if n == 0 else draw(KINDS)
        barrier = kind in ("requirement", "contraindication", "caution")
        if_unknown: Literal["hold", "note"] = draw(st.sampled_from(["hold", "note"])) if barrier else "hold"
        condition = parse_condition(draw(CONDITIONS))
        spec = RuleSpec(
            f"gen.r{n}", "clinical_trial", kind, "t", condition, "r", "s", "e", if_unknown=if_unknown
        )
        rules.append(spec)
    return rules


@settings(max_examples=500, deadline=None)
@given(rules=generated_rules(), known=PROFILES)
def test_compiled_rules_agree_with_the_reference_interpreter(
    rules: list[RuleSpec], known: dict[str, Any]
) -> None:
    ruleset = CompiledRuleSet(RuleSetInfo("property"), [HELPER, GENERATED], [*HELPER_RULES, *rules])
    profile = PatientProfile.model_validate(known)
    result = ruleset.evaluate(profile)
    others = frozenset({result.verdict("everolimus").status})
    compiled = result.verdict("clinical_trial").outcomes
    expected = tuple(outcome(rule.condition, profile.__dict__, others) for rule in rules)
    assert all(value is True or value is False or value is None for value in compiled), compiled
    assert compiled == expected


@settings(max_examples=500, deadline=None)
@given(
    data=MONOTONE_CONDITIONS,
    known=PROFILES,
    completion=st.fixed_dictionaries(FACT_VALUES),
    statuses=st.frozensets(st.sampled_from(STATUSES)),
)
def test_learning_a_fact_that_is_not_named_never_changes_the_outcome(
    data: dict[str, Any], known: dict[str, Any], completion: dict[str, Any], statuses: frozenset[str]
) -> None:
    condition = parse_condition(data)
    before = facts(**known)
    result, missing = unknown_facts(condition, before, statuses)
    assert (result is None) == bool(missing)
    assert all(before[name] is None for name in missing)
    # Fill in every unknown fact that was not named: the outcome (met, not met or unknown) stays.
    after = {**before, **{n: v for n, v in completion.items() if before[n] is None and n not in missing}}
    assert outcome(condition, after, statuses) is result
    if result is not None:
        # A known outcome never changes, whatever else is learnt.
        everything = {**before, **{n: v for n, v in completion.items() if before[n] is None}}
        assert outcome(condition, everything, statuses) is result


@settings(max_examples=500, deadline=None)
@given(data=CONDITIONS, known=PROFILES, statuses=st.frozensets(st.sampled_from(STATUSES)))
def test_the_generated_unknown_facts_agree_with_the_reference_interpreter(
    data: dict[str, Any], known: dict[str, Any], statuses: frozenset[str]
) -> None:
    # The engine names the missing facts of an undecided rule with generated code (codegen.py).
    condition = parse_condition(data)
    before = facts(**known)
    (generated,) = unknown_facts_functions([condition])
    result, missing = unknown_facts(condition, before, statuses)
    assert generated(before, statuses) == (missing if result is None else frozenset())


# --- contract 1.2 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "value", "met"),
    [
        ({"eq": True}, "branch", True),
        ({"eq": True}, "main", True),
        ({"eq": True}, "none", False),
        ({"eq": False}, "none", True),
        ({"ne": True}, "main", False),
        ({"ne": False}, "branch", True),
    ],
)
def test_a_1_1_comparison_of_portal_vein_thrombosis_with_true_or_false_means_any_or_no_thrombosis(
    written: dict[str, Any], value: str, met: bool
) -> None:
    condition = parse_condition({"fact": "portal_vein_thrombosis", **written})

    assert outcome(condition, facts(portal_vein_thrombosis=value)) is met
    assert outcome(condition, facts()) is None  # unknown stays unknown


def test_a_1_1_comparison_keeps_its_written_form_and_reads_in_1_2_words() -> None:
    condition = parse_condition({"fact": "portal_vein_thrombosis", "eq": True})

    assert condition_to_data(condition) == {"fact": "portal_vein_thrombosis", "eq": True}
    assert describe(condition) == "Portal vein thrombosis is one of (branch only, main portal vein)"


def test_a_value_reads_by_its_fact_in_a_description() -> None:
    assert describe(parse_condition({"fact": "functional_syndrome", "eq": "none"})) == (
        "Functional syndrome is none (non-functioning)"
    )
    assert (
        describe(parse_condition({"fact": "hereditary_syndrome", "eq": "men1"}))
        == "Hereditary syndrome is MEN1"
    )


def test_details_of_prior_therapies_cannot_be_used_in_a_condition() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_condition({"fact": "prior_therapy_details", "is_known": True})

    assert condition_errors(caught.value) == [
        ("when", "'prior_therapy_details' cannot be used in a rule condition")
    ]
