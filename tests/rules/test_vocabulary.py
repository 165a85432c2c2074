"""The contract's enumerations, written once (treatments/rules/vocabulary.py): every value has its
label, the old names still import, and the v1 lists stay what /api/v1/ published. No database."""

from __future__ import annotations

from typing import Any

import pytest

from treatments.rules import conditions, document, engine, explain, profile, vocabulary

LABELLED = [
    (vocabulary.STATUSES, vocabulary.STATUS_LABELS),
    (vocabulary.STATUSES, vocabulary.STATUS_MEANINGS),
    (vocabulary.RULE_KINDS, vocabulary.RULE_KIND_LABELS),
    (vocabulary.RULE_KINDS, vocabulary.RULE_KIND_MEANINGS),
    (vocabulary.OUTCOMES, vocabulary.OUTCOME_LABELS),
    (vocabulary.CATEGORIES, vocabulary.CATEGORY_LABELS),
    (vocabulary.INTENTS, vocabulary.INTENT_LABELS),
    (vocabulary.VERIFICATIONS, vocabulary.VERIFICATION_LABELS),
    (vocabulary.IF_UNKNOWN, vocabulary.IF_UNKNOWN_LABELS),
    (vocabulary.CASE_STATUSES, vocabulary.CASE_STATUS_LABELS),
    (vocabulary.DECISIONS, vocabulary.DECISION_LABELS),
    (vocabulary.REASON_CODES, vocabulary.REASON_CODE_LABELS),
    (vocabulary.RULE_SET_STATUSES, vocabulary.RULE_SET_STATUS_LABELS),
]


@pytest.mark.parametrize(("values", "labels"), LABELLED, ids=[str(n) for n in range(len(LABELLED))])
def test_every_value_of_an_enumeration_has_a_label_in_its_order(values: tuple[str, ...], labels: Any) -> None:
    assert tuple(labels) == values


def test_the_status_order_is_the_contracts_and_precedence_names_every_status_once() -> None:
    assert vocabulary.STATUSES == ("candidate", "trial_only", "needs_data", "not_suitable", "not_indicated")
    assert sorted(vocabulary.STATUS_PRECEDENCE) == sorted(vocabulary.STATUSES)
    assert vocabulary.STATUS_PRECEDENCE[0] == "not_suitable"  # a known barrier always wins


def test_the_old_names_still_import_and_are_the_vocabularys() -> None:
    assert engine.STATUS_ORDER == conditions.STATUSES == vocabulary.STATUSES
    assert engine.RULE_KINDS == vocabulary.RULE_KINDS
    assert engine.OUTCOMES == vocabulary.OUTCOMES
    assert document.CATEGORY_LABELS is vocabulary.CATEGORY_LABELS
    assert document.VERIFICATIONS == vocabulary.VERIFICATIONS
    assert explain.STATUS_LABELS is vocabulary.STATUS_LABELS
    assert profile.MODALITY_KEYS == vocabulary.MODALITY_KEYS


def test_v1_keeps_the_fifteen_modality_keys_it_published_and_1_2_adds_five() -> None:
    assert len(vocabulary.MODALITY_KEYS_V1) == 15
    assert vocabulary.MODALITY_KEYS_V1[-1] == "clinical_trial"
    assert set(vocabulary.MODALITY_KEYS) - set(vocabulary.MODALITY_KEYS_V1) == {
        "telotristat",
        "cabozantinib",
        "active_surveillance",
        "endoscopic_resection",
        "best_supportive_care",
    }


def test_every_modality_has_a_category_of_the_vocabulary() -> None:
    assert set(vocabulary.MODALITY_CATEGORIES) == set(vocabulary.MODALITY_KEYS)
    assert set(vocabulary.MODALITY_CATEGORIES.values()) <= set(vocabulary.CATEGORIES)
    v1_categories = {vocabulary.MODALITY_CATEGORIES[key] for key in vocabulary.MODALITY_KEYS_V1}
    assert v1_categories == set(vocabulary.CATEGORIES_V1)


def test_the_v1_facts_are_the_first_of_the_profile_in_contract_order() -> None:
    new_facts = [name for name in profile.FACT_NAMES if name not in vocabulary.FACT_NAMES_V1]
    assert [name for name in profile.FACT_NAMES if name in vocabulary.FACT_NAMES_V1] == list(
        vocabulary.FACT_NAMES_V1
    )
    assert all(name in profile.FACT_NAMES for name in vocabulary.FACT_NAMES_V1)
    assert "funding" not in new_facts
