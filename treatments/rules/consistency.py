"""Facts that contradict each other, and values that are possible but usually a unit slip.

Contract 1.2 section 1, "Consistency": a profile whose known facts contradict each other is refused,
naming every fact involved (profile.py turns each contradiction into one validation error per fact);
a value that is usually a slip of unit is accepted with a warning that every result shows.

Both are tables of named checks, so that the rules for plausibility live in one place. A check only
looks at known facts: an unknown fact never contradicts anything (unknown is never false).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

Facts = Mapping[str, Any]
Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Check:
    """A named test on some facts, written as a rule condition (the knowledge base's language).

    It holds only when its condition is met (True): an unknown fact leaves it unknown, and an
    unknown check never refuses or warns (unknown is never false). `facts` are the places a
    contradiction names, in order.
    """

    name: str
    facts: tuple[str, ...]
    when: Mapping[str, Any]
    msg: str


class Contradiction(NamedTuple):
    """Known facts that cannot all be true: each place (`locs`) is refused with the same reason."""

    check: str
    locs: tuple[Loc, ...]
    why: str


class FactWarning(NamedTuple):
    """A value that is accepted but is usually a slip (serialized as {"facts": [...], "msg": ...})."""

    check: str
    facts: tuple[str, ...]
    msg: str


_GRADES = ("G1", "G2", "G3")


def grade_from_ki67(ki67_percent: float) -> str:
    """The WHO 2019 grade a Ki-67 index implies: < 3 % G1, 3-20 % G2, > 20 % G3."""
    if ki67_percent < 3:
        return "G1"
    return "G2" if ki67_percent <= 20 else "G3"


def _all(*parts: Mapping[str, Any]) -> dict[str, Any]:
    return {"all": list(parts)}


_NO_LIVER_METASTASES = {"fact": "liver_metastases", "eq": False}

CONTRADICTIONS: tuple[Check, ...] = (
    Check(
        "grade_below_ki67",
        ("who_grade", "ki67_percent"),
        # Below what Ki-67 implies (grade_from_ki67): G1 at 3 % or more, G2 above 20 %.
        {
            "any": [
                _all({"fact": "who_grade", "eq": "G1"}, {"fact": "ki67_percent", "ge": 3}),
                _all({"fact": "who_grade", "eq": "G2"}, {"fact": "ki67_percent", "gt": 20}),
            ]
        },
        "WHO 2019 grades Ki-67 < 3 % as G1, 3-20 % as G2 and > 20 % as G3; the grade is the higher of "
        "Ki-67 and mitotic count, so it can be higher than Ki-67 implies, never lower",
    ),
    Check(
        "localised_with_liver_metastases",
        ("disease_extent", "liver_metastases"),
        _all({"fact": "disease_extent", "eq": "localised"}, {"fact": "liver_metastases", "eq": True}),
        "liver metastases make the disease metastatic",
    ),
    Check(
        "negative_sstr_with_uptake",
        ("sstr_imaging", "krenning_score"),
        _all({"fact": "sstr_imaging", "eq": "negative"}, {"fact": "krenning_score", "ge": 2}),
        "a Krenning score of 2 or more (uptake at least that of the liver) is positive SSTR imaging",
    ),
    Check(
        "lesions_without_liver_metastases",
        ("liver_metastases", "liver_lesion_count"),
        _all(_NO_LIVER_METASTASES, {"fact": "liver_lesion_count", "gt": 0}),
        "liver lesions are counted, but the patient has no liver metastases",
    ),
    Check(
        "lesion_size_without_liver_metastases",
        ("liver_metastases", "largest_liver_lesion_mm"),
        _all(_NO_LIVER_METASTASES, {"fact": "largest_liver_lesion_mm", "is_known": True}),
        "a liver lesion is measured, but the patient has no liver metastases",
    ),
    Check(
        "liver_burden_without_liver_metastases",
        ("liver_metastases", "liver_tumour_burden_percent"),
        _all(_NO_LIVER_METASTASES, {"fact": "liver_tumour_burden_percent", "gt": 0}),
        "part of the liver is replaced by tumour, but the patient has no liver metastases",
    ),
    Check(
        "liver_metastases_without_lesions",
        ("liver_metastases", "liver_lesion_count"),
        _all({"fact": "liver_metastases", "eq": True}, {"fact": "liver_lesion_count", "eq": 0}),
        "the patient has liver metastases, but no liver lesion is counted",
    ),
    Check(
        "pregnant_male",
        ("pregnant", "sex"),
        _all({"fact": "pregnant", "eq": True}, {"fact": "sex", "eq": "male"}),
        "pregnancy is recorded for a male patient",
    ),
    Check(
        "pregnant_without_childbearing_potential",
        ("pregnant", "childbearing_potential"),
        _all({"fact": "pregnant", "eq": True}, {"fact": "childbearing_potential", "eq": False}),
        "pregnancy is recorded for a patient without childbearing potential",
    ),
)

UNIT_SLIPS: tuple[Check, ...] = (
    Check(
        "bilirubin_low",
        ("bilirubin_umol_l",),
        {"fact": "bilirubin_umol_l", "lt": 3},
        "Bilirubin below 3 µmol/L is unusual: was it entered in mg/dL? (1 mg/dL = 17.1 µmol/L)",
    ),
    Check(
        "ki67_fraction",
        ("ki67_percent", "who_grade"),
        _all({"fact": "ki67_percent", "lt": 1}, {"fact": "who_grade", "in": ["G2", "G3"]}),
        "Ki-67 below 1 % with grade G2 or G3: was a fraction entered instead of a percentage "
        "(0.15 for 15 %)?",
    ),
    Check(
        "egfr_high",
        ("egfr_ml_min",),
        {"fact": "egfr_ml_min", "gt": 150},
        "eGFR above 150 mL/min/1.73 m² is unusual: check the value and its unit",
    ),
    Check(
        "neutrophils_high",
        ("neutrophils_10e9_l",),
        {"fact": "neutrophils_10e9_l", "gt": 50},
        "Neutrophils above 50 ×10⁹/L are unusual: was the count entered per µL or in another unit?",
    ),
    Check(
        "platelets_high",
        ("platelets_10e9_l",),
        {"fact": "platelets_10e9_l", "gt": 1500},
        "Platelets above 1500 ×10⁹/L are unusual: was the count entered per µL or in another unit?",
    ),
)


def contradictions(facts: Facts) -> list[Contradiction]:
    """Every contradiction among the known facts, each with every place involved."""
    found = [
        Contradiction(check.name, tuple((name,) for name in check.facts), check.msg)
        for check in _holding(CONTRADICTIONS, facts)
    ]
    if facts.get("prior_therapy_details"):
        found += _undeclared_details(facts)
    return found


def unit_slips(facts: Facts) -> tuple[FactWarning, ...]:
    """A warning for each known value that is usually a slip of unit."""
    holding = _holding(UNIT_SLIPS, facts)
    return tuple(FactWarning(check.name, check.facts, check.msg) for check in holding) if holding else ()


def _holding(checks: tuple[Check, ...], facts: Facts) -> list[Check]:
    """The checks whose condition is met for these facts (every fact of the contract as a key).

    Runs per profile, so the table is compiled once, as rule sets are (codegen.py), and the usual
    answer, nothing holds, takes no loop in Python.
    """
    outcomes = _compiled(checks)(facts, _NO_STATUSES)
    if True not in outcomes:
        return []
    return [check for check, met in zip(checks, outcomes, strict=True) if met is True]


_NO_STATUSES: frozenset[str] = frozenset()
_COMPILED: dict[int, Callable[[Facts, frozenset[str]], tuple[Any, ...]]] = {}


def _compiled(checks: tuple[Check, ...]) -> Callable[[Facts, frozenset[str]], tuple[Any, ...]]:
    function = _COMPILED.get(id(checks))
    if function is None:
        # Imported here: conditions.py reads the facts' types from profile.py, which imports us.
        from .codegen import Codegen
        from .conditions import parse_condition

        codegen = Codegen()
        for check in checks:
            codegen.add(parse_condition(check.when))
        function = _COMPILED[id(checks)] = codegen.build()
    return function


def _undeclared_details(facts: Facts) -> Iterator[Contradiction]:
    """A detail of a prior therapy that prior_therapies does not list (contract: each must be there)."""
    given = facts.get("prior_therapies")
    for index, detail in enumerate(facts.get("prior_therapy_details") or ()):
        modality = _modality_of(detail)
        if given is None or modality not in given:
            locs: tuple[Loc, ...] = (("prior_therapy_details", index, "modality"), ("prior_therapies",))
            why = f"details are given for {modality}, but the prior therapies do not include it"
            yield Contradiction("prior_therapy_detail_not_given", locs, why)


def _modality_of(detail: Any) -> str:
    return str(detail["modality"] if isinstance(detail, Mapping) else detail.modality)
