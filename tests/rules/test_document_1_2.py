"""The knowledge-base document in contract 1.2: a 1.1 file still loads with its old checksum, and
the new keys (guideline_lines, order_overrides, if_unknown: note on cautions) are validated with
problems located for the rule author. No database."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from treatments.rules.document import KnowledgeBaseError, display_aids_from_content, parse_data
from treatments.rules.profile import PatientProfile

KB_1_1_1 = Path(__file__).parents[1] / "data" / "knowledge_base_1.1.1.yaml"
# The checksum knowledge base 1.1.1 was published with: reading it must not change its content.
CHECKSUM_1_1_1 = "7479a01808ea63b44a8379d7d93bca6d2facd04ddc7158dc3aff08c0499f5ab0"


@pytest.fixture(scope="module")
def data_1_1_1() -> dict[str, Any]:
    return yaml.safe_load(KB_1_1_1.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def modality_of(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(modality for modality in data["modalities"] if modality["key"] == key)


def with_changes(data: dict[str, Any], key: str, **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    modality_of(changed, key).update(changes)
    return changed


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(KnowledgeBaseError) as caught:
        parse_data(data, "kb.yaml")
    return [str(problem) for problem in caught.value.problems]


def test_a_1_1_knowledge_base_loads_with_the_checksum_it_was_published_with(
    data_1_1_1: dict[str, Any],
) -> None:
    knowledge_base = parse_data(data_1_1_1)

    assert knowledge_base.checksum == CHECKSUM_1_1_1
    assert len(knowledge_base.modalities) == 15
    assert knowledge_base.guideline_lines == () and knowledge_base.order_overrides == ()


def test_a_1_1_rule_on_the_boolean_portal_vein_thrombosis_still_works(data_1_1_1: dict[str, Any]) -> None:
    compiled = parse_data(data_1_1_1).compile()
    # The profile of the stored 1.1.1 evaluation, where embolisation was a candidate with this caution.
    stored = json.loads((Path(__file__).parents[1] / "data" / "stored_evaluation_kb_1_1_1.json").read_text())
    facts = stored["profile"]

    cautions = compiled.evaluate(PatientProfile.model_validate(facts)).verdict("liver_embolisation").cautions

    assert "embo.portal_vein" in [caution.rule.rule_id for caution in cautions]


def test_a_file_with_one_1_2_modality_must_have_all_of_them(data_1_1_1: dict[str, Any]) -> None:
    data = copy.deepcopy(data_1_1_1)
    telotristat = {**copy.deepcopy(modality_of(data, "ssta")), "key": "telotristat", "display_order": 99}
    telotristat["category"] = "symptom_control"
    data["modalities"].append(telotristat)

    found = problems(data)

    assert any("modality cabozantinib: modality is missing" in problem for problem in found)


def test_a_modality_must_have_the_category_of_the_vocabulary(data_1_1_1: dict[str, Any]) -> None:
    found = problems(with_changes(data_1_1_1, "everolimus", category="chemotherapy"))

    assert found == [
        "kb.yaml, modality everolimus, field category: the category of everolimus is 'targeted_therapy' "
        "(vocabulary.MODALITY_CATEGORIES)"
    ]


GUIDELINE_LINES = [
    {
        "when": {"fact": "primary_site", "in": "GEP"},
        "label": "ENETS 2023: after SSA",
        "source": "ENETS 2023 [recall]",
    }
]
ORDER_OVERRIDES = [
    {
        "when": {"fact": "prior_therapies", "contains": "platinum_etoposide"},
        "before": "platinum_etoposide",
        "why": "f1",
    }
]


def test_guideline_lines_and_order_overrides_are_read_resolved_and_kept_in_the_content(
    data_1_1_1: dict[str, Any],
) -> None:
    data = with_changes(
        data_1_1_1, "folfox_folfiri", guideline_lines=GUIDELINE_LINES, order_overrides=ORDER_OVERRIDES
    )

    knowledge_base = parse_data(data)

    (line,) = knowledge_base.guideline_lines
    assert (line.modality, line.label, line.source) == (
        "folfox_folfiri",
        "ENETS 2023: after SSA",
        "ENETS 2023 [recall]",
    )
    (override,) = knowledge_base.order_overrides
    assert (override.modality, override.before) == ("folfox_folfiri", "platinum_etoposide")
    assert knowledge_base.checksum != CHECKSUM_1_1_1
    # What the database stores gives the same display aids back.
    assert display_aids_from_content(knowledge_base.content) == (
        knowledge_base.guideline_lines,
        knowledge_base.order_overrides,
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"guideline_lines": [{**GUIDELINE_LINES[0], "when": {"option_status": "trial_only"}}]},
            "field guideline_lines[0].when: a guideline line describes the patient's setting",
        ),
        (
            {"guideline_lines": [{**GUIDELINE_LINES[0], "when": {"fact": "tumour_colour", "eq": "blue"}}]},
            "field guideline_lines[0].when: 'tumour_colour' is not a fact of the contract",
        ),
        (
            {"order_overrides": [{**ORDER_OVERRIDES[0], "before": "radiotherapy"}]},
            "field order_overrides[0].before",
        ),
        (
            {"order_overrides": [{**ORDER_OVERRIDES[0], "before": "folfox_folfiri"}]},
            "field order_overrides[0].before",
        ),
        (
            {"guideline_lines": [{"when": {"fact": "ecog", "le": 1}, "label": "x"}]},
            "guideline_lines.0.source",
        ),
    ],
)
def test_a_mistake_in_the_new_keys_is_reported_where_it_is(
    data_1_1_1: dict[str, Any], changes: dict[str, Any], expected: str
) -> None:
    found = problems(with_changes(data_1_1_1, "folfox_folfiri", **changes))

    assert any(expected in problem and "modality folfox_folfiri" in problem for problem in found), found


def test_if_unknown_note_is_allowed_on_a_caution_but_not_on_an_indication(data_1_1_1: dict[str, Any]) -> None:
    data = copy.deepcopy(data_1_1_1)
    rules = modality_of(data, "liver_embolisation")["rules"]
    caution = next(rule for rule in rules if rule["kind"] == "caution")
    caution["if_unknown"] = "note"
    assert parse_data(data)

    indication = next(rule for rule in rules if rule["kind"] == "indication")
    indication["if_unknown"] = "note"
    assert any("field if_unknown" in problem for problem in problems(data))
