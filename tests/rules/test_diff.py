"""The diff of two rule-set versions (rules/diff.py): pure, on stored contents."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from django.conf import settings

from treatments.rules.content import SET_KEYS, checksum_of
from treatments.rules.diff import diff_lines, ruleset_diff
from treatments.rules.document import KnowledgeBase, parse_text


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


def with_set_member_renamed(version: str = "1.3.0") -> str:
    """The knowledge-base file with one member of NON_GEP_PATHWAY replaced (a renamed member)."""
    text = Path(settings.NETCARE_KNOWLEDGE_BASE).read_text(encoding="utf-8")
    old = "NON_GEP_PATHWAY: [medullary_thyroid, paraganglioma, phaeochromocytoma]"
    assert old in text
    text = text.replace(old, "NON_GEP_PATHWAY: [thymus, paraganglioma, phaeochromocytoma]")
    return re.sub(r'^version: "[^"]+"', f'version: "{version}"', text, count=1, flags=re.M)


def test_a_changed_set_member_names_the_set_and_every_rule_that_uses_it(
    knowledge_base: KnowledgeBase,
) -> None:
    after = parse_text(with_set_member_renamed()).content

    diff = ruleset_diff(knowledge_base.content, after)

    (item,) = diff.sets["changed"]
    users = [(r["modality"], r["rule_id"]) for r in item["rules"]]
    assert item["set"] == "NON_GEP_PATHWAY"
    assert (item["members_added"], item["members_removed"]) == (["thymus"], ["medullary_thyroid"])
    assert users == [tuple(user) for user in knowledge_base.content["set_usage"]["NON_GEP_PATHWAY"]]
    assert len(users) == 2 and all(r["title"] for r in item["rules"])
    # the conditions of exactly those rules changed, and each names the set as the reason
    changed = {(c["modality"], c["rule_id"]): c["sets"] for c in diff.rules["changed"]}
    assert changed == {user: ["NON_GEP_PATHWAY"] for user in users}
    assert diff.required_bump == "minor"
    lines = diff_lines(diff.as_data())
    assert lines[1] == "[set changed] NON_GEP_PATHWAY: +thymus -medullary_thyroid"
    assert sum("used by" in line for line in lines) == 2


def test_the_set_record_is_outside_the_checksum(knowledge_base: KnowledgeBase) -> None:
    """Rule sets stored before the sets were kept (and the same file loaded before) keep their sum."""
    legacy = {key: value for key, value in knowledge_base.content.items() if key not in SET_KEYS}

    assert knowledge_base.content["sets"] and knowledge_base.content["set_usage"]
    assert checksum_of(legacy) == knowledge_base.checksum
    diff = ruleset_diff(legacy, knowledge_base.content)
    assert diff.is_empty and diff.sets["recorded"] is False
