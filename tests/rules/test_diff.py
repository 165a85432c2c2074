"""The diff of two rule-set versions (rules/diff.py): pure, on stored contents."""

from __future__ import annotations

import copy
from typing import Any

from treatments.rules.diff import diff_lines, ruleset_diff
from treatments.rules.document import KnowledgeBase


def changed(knowledge_base: KnowledgeBase, change: Any, version: str = "1.2.1") -> dict[str, Any]:
    content = copy.deepcopy(knowledge_base.content)
    content["version"] = version
    change(content)
    return content


def rule(content: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for r in content["rules"] if r["rule_id"] == rule_id)


def test_a_version_against_itself_is_empty(knowledge_base: KnowledgeBase) -> None:
    diff = ruleset_diff(knowledge_base.content, knowledge_base.content)

    assert diff.is_empty and diff.required_bump == ""
    assert diff_lines(diff.as_data())[-1] == "No changes."


def test_a_reworded_reason_is_one_text_change_and_a_patch(knowledge_base: KnowledgeBase) -> None:
    after = changed(knowledge_base, lambda c: rule(c, "prrt.uptake").update(reason="Reworded."))

    diff = ruleset_diff(knowledge_base.content, after)

    (change,) = diff.rules["changed"]
    assert (change["class"], list(change["fields"])) == ("text", ["reason"])
    assert diff.required_bump == "patch"
    assert not diff.metadata  # the version label is not a change of content


def test_a_threshold_change_is_semantic_with_both_conditions_in_words(knowledge_base: KnowledgeBase) -> None:
    after = changed(
        knowledge_base,
        lambda c: rule(c, "prrt.marrow").update(condition={"fact": "platelets_10e9_l", "ge": 100}),
    )

    diff = ruleset_diff(knowledge_base.content, after)

    (change,) = diff.rules["changed"]
    condition = change["fields"]["condition"]
    assert change["class"] == "semantic" and diff.required_bump == "minor"
    assert condition["from"] == {"fact": "platelets_10e9_l", "ge": 75}
    assert "75" in condition["from_text"] and "100" in condition["to_text"]
    assert "Platelet" in condition["from_text"] or "platelet" in condition["from_text"]


def test_semantic_changes_come_before_text_changes(knowledge_base: KnowledgeBase) -> None:
    def both(content: dict[str, Any]) -> None:
        rule(content, "prrt.uptake")["reason"] = "Reworded."
        rule(content, "prrt.marrow")["condition"] = {"fact": "platelets_10e9_l", "ge": 100}

    diff = ruleset_diff(knowledge_base.content, changed(knowledge_base, both))

    assert [c["class"] for c in diff.rules["changed"]] == ["semantic", "text"]


def test_golden_expectation_changes_are_listed_and_actionable_ones_need_a_major(
    knowledge_base: KnowledgeBase,
) -> None:
    def expect(content: dict[str, Any]) -> None:
        case = next(c for c in content["tests"] if c["id"] == "01_si_g2_progressive_nhs")
        case["expect"]["prrt_lu177"] = "not_suitable"

    diff = ruleset_diff(knowledge_base.content, changed(knowledge_base, expect))

    assert diff.golden["expectation_changes"] == [
        {
            "case": "01_si_g2_progressive_nhs",
            "modality": "prrt_lu177",
            "from": "candidate",
            "to": "not_suitable",
        }
    ]
    assert diff.required_bump == "major"


def test_an_added_or_removed_option_is_major(knowledge_base: KnowledgeBase) -> None:
    def drop(content: dict[str, Any]) -> None:
        content["modalities"] = [m for m in content["modalities"] if m["key"] != "interferon"]
        content["rules"] = [r for r in content["rules"] if r["modality"] != "interferon"]

    diff = ruleset_diff(knowledge_base.content, changed(knowledge_base, drop))

    assert diff.modalities["removed"] == ["interferon"] and diff.required_bump == "major"
    assert all(r["modality"] == "interferon" for r in diff.rules["removed"])
