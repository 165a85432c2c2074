"""Data to obtain as jobs: every fact is answered by exactly one test or opinion (vocabulary data,
not view logic), and the jobs that decide the most options come first. Reasons fit decisions."""

from __future__ import annotations

from treatments.rules import explain
from treatments.rules.engine import CompiledRuleSet
from treatments.rules.profile import FACT_NAMES, PatientProfile
from treatments.rules.vocabulary import (
    DATA_SOURCE_FACTS,
    DATA_SOURCES,
    REASON_CODES,
    REASON_CODES_BY_DECISION,
)


def test_every_fact_of_the_contract_belongs_to_exactly_one_test() -> None:
    listed = [fact for facts in DATA_SOURCE_FACTS.values() for fact in facts]

    assert sorted(listed) == sorted(FACT_NAMES) and len(listed) == len(set(listed))
    assert set(DATA_SOURCE_FACTS) == set(DATA_SOURCES)


def test_every_reason_fits_some_decision_and_clinically_appropriate_is_no_reason_to_reject() -> None:
    fitting = {code for codes in REASON_CODES_BY_DECISION.values() for code in codes}

    assert fitting == set(REASON_CODES)
    assert "clinically_appropriate" not in REASON_CODES_BY_DECISION["reject"]


def test_jobs_gather_the_facts_of_one_test_and_the_busiest_job_comes_first(compiled: CompiledRuleSet) -> None:
    profile = PatientProfile.model_validate(
        {"primary_site": "small_intestine", "differentiation": "well", "who_grade": "G2", "ki67_percent": 8}
    )
    result = compiled.evaluate(profile)

    jobs = explain.data_to_obtain_by_test(explain.data_to_obtain(result))

    assert jobs, "an SI NET with little known has data to obtain"
    counts = [len(job.modalities) for job in jobs]
    assert counts == sorted(counts, reverse=True)
    for job in jobs:
        assert all(item.fact in DATA_SOURCE_FACTS[job.source] for item in job.facts)  # type: ignore[index]
    sstr = next(job for job in jobs if job.source == "sstr_imaging")
    assert {item.fact for item in sstr.facts} <= {"sstr_imaging", "krenning_score"}
    assert sstr.label.startswith("SSTR PET")
