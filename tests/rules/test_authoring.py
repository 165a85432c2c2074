"""Editing a rule set in the app (rules/authoring.py): the YAML export loads back to the same
checksum, and an edit of one rule or modality is validated by the loader, its problems by field.
No database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from treatments.rules.authoring import (
    GENERAL,
    add_modality,
    add_rule,
    condition_from_text,
    condition_in_words,
    content_to_yaml,
    document_from_content,
    edit_modality,
    edit_rule,
)
from treatments.rules.document import KnowledgeBase, load_file, parse_data, parse_text

ROOT = Path(__file__).parents[2]
KB_FILES = [ROOT / "fixtures" / "knowledge_base.yaml", ROOT / "tests" / "data" / "knowledge_base_1.1.1.yaml"]


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_file(KB_FILES[0])


def rule_of(kb: KnowledgeBase, modality: str, rule_id: str) -> dict[str, Any]:
    return next(r for r in kb.content["rules"] if r["modality"] == modality and r["rule_id"] == rule_id)


@pytest.mark.parametrize("path", KB_FILES, ids=lambda path: path.name)
def test_the_yaml_export_of_a_knowledge_base_loads_to_the_same_checksum(path: Path) -> None:
    kb = load_file(path)
    exported = content_to_yaml(kb.content)
    again = parse_text(exported)
    assert again.checksum == kb.checksum
    assert again.content == kb.content
    # and the export of the export is the same text: nothing drifts on a second round
    assert content_to_yaml(again.content) == exported


def _as_jsonb(node: Any) -> Any:
    """The value with every mapping's keys in PostgreSQL jsonb's order (shorter keys first)."""
    if isinstance(node, dict):
        return {key: _as_jsonb(node[key]) for key in sorted(node, key=lambda key: (len(key), key))}
    if isinstance(node, list):
        return [_as_jsonb(item) for item in node]
    return node


def test_the_export_does_not_depend_on_the_order_the_database_kept_keys_in(kb: KnowledgeBase) -> None:
    assert content_to_yaml(_as_jsonb(kb.content)) == content_to_yaml(kb.content)
    exported = content_to_yaml(_as_jsonb(kb.content))
    assert exported.index("\nversion:") < exported.index("\nmodalities:") < exported.index("\ntests:")


def test_the_export_writes_conditions_on_one_line_and_long_text_as_blocks(kb: KnowledgeBase) -> None:
    exported = content_to_yaml(kb.content)
    assert "when: {fact: platelets_10e9_l, ge: 75}" in exported
    assert exported.startswith("# NETcare knowledge base 1.2.1, exported from the app")
    assert yaml.safe_load(exported)["version"] == "1.2.1"


def test_the_document_of_a_content_passes_other_top_level_keys_through(kb: KnowledgeBase) -> None:
    document = document_from_content({**kb.content, "tests": [{"id": "x"}]})
    assert document["tests"] == [{"id": "x"}]
    assert "rules" not in document


_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=60
).filter(lambda text: text.strip() == text and text.strip())


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    threshold=st.integers(min_value=1, max_value=999)
    | st.floats(min_value=0.5, max_value=999, allow_nan=False),
    reason=_TEXT,
    title=_TEXT.filter(lambda text: len(text) <= 120),
    note=st.text(max_size=200).map(str.strip),
)
def test_an_edited_knowledge_base_round_trips_through_yaml(
    kb: KnowledgeBase, threshold: float, reason: str, title: str, note: str
) -> None:
    fields = {
        "condition": {"fact": "platelets_10e9_l", "ge": threshold},
        "reason": reason,
        "title": title,
        "verification_note": note,
    }
    result = edit_rule(kb.content, modality="prrt_lu177", rule_id="prrt.marrow", fields=fields)
    assert result.knowledge_base is not None, result.errors
    edited = result.knowledge_base
    again = parse_text(content_to_yaml(edited.content))
    assert again.checksum == edited.checksum


def test_editing_a_threshold_changes_that_rule_and_the_checksum_only(kb: KnowledgeBase) -> None:
    result = edit_rule(
        kb.content,
        modality="prrt_lu177",
        rule_id="prrt.marrow",
        fields={
            "condition": {"fact": "platelets_10e9_l", "ge": 100},
            "title": "Platelets at least 100 × 10⁹/L",
        },
    )
    assert result.ok and result.knowledge_base is not None
    edited = result.knowledge_base
    assert edited.checksum != kb.checksum
    assert rule_of(edited, "prrt_lu177", "prrt.marrow")["condition"] == {
        "fact": "platelets_10e9_l",
        "ge": 100,
    }
    changed = [
        (before["modality"], before["rule_id"])
        for before, after in zip(kb.content["rules"], edited.content["rules"], strict=True)
        if before != after
    ]
    assert changed == [("prrt_lu177", "prrt.marrow")]
    assert edited.content["modalities"] == kb.content["modalities"]


def test_an_edit_that_changes_nothing_keeps_the_checksum(kb: KnowledgeBase) -> None:
    same = rule_of(kb, "prrt_lu177", "prrt.marrow")
    result = edit_rule(
        kb.content, modality="prrt_lu177", rule_id="prrt.marrow", fields={"reason": same["reason"]}
    )
    assert result.knowledge_base is not None and result.knowledge_base.checksum == kb.checksum


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"kind": "maybe"}, "kind", "Input should be"),
        ({"title": ""}, "title", "at least 1 character"),
        ({"title": "x" * 121}, "title", "at most 120 characters"),
        ({"reason": "  "}, "reason", "at least 1 character"),
        ({"verification": "probably"}, "verification", "Input should be"),
        ({"condition": {"fact": "platelets", "ge": 75}}, "condition", "'platelets' is not a fact"),
        ({"condition": {"fact": "platelets_10e9_l", "ge": "lots"}}, "condition", "platelets"),
        ({"condition": {"all": [{"fact": "ki67_percent", "gee": 3}]}}, "condition", "when.all[0]"),
        ({"condition": {"fact": "primary_site", "in": "NOWHERE"}}, "condition", "unknown set 'NOWHERE'"),
        ({"kind": "indication", "if_unknown": "note"}, "if_unknown", "only for requirements"),
    ],
)
def test_a_bad_rule_edit_is_refused_with_the_loaders_message_by_the_field(
    kb: KnowledgeBase, fields: dict[str, Any], field: str, words: str
) -> None:
    result = edit_rule(kb.content, modality="prrt_lu177", rule_id="prrt.marrow", fields=fields)
    assert result.knowledge_base is None
    assert list(result.errors) == [field], result.errors
    assert any(words in message for message in result.errors[field]), result.errors


def test_editing_a_rule_that_does_not_exist_says_so(kb: KnowledgeBase) -> None:
    result = edit_rule(kb.content, modality="prrt_lu177", rule_id="prrt.nothing", fields={"reason": "x"})
    assert result.errors == {GENERAL: ["modality prrt_lu177 has no rule prrt.nothing"]}


NEW_RULE = {
    "kind": "caution",
    "title": "High bilirubin",
    "condition": {"fact": "bilirubin_umol_l", "gt": 50},
    "reason": "High bilirubin predicts toxicity.",
    "source": "Unit judgement",
    "evidence": "expert opinion",
    "verification": "judgement",
}


def test_a_rule_is_added_at_the_end_of_its_modality(kb: KnowledgeBase) -> None:
    result = add_rule(kb.content, modality="prrt_lu177", rule_id="prrt.bilirubin_high", fields=NEW_RULE)
    assert result.knowledge_base is not None, result.errors
    rules = [r["rule_id"] for r in result.knowledge_base.content["rules"] if r["modality"] == "prrt_lu177"]
    assert rules[-1] == "prrt.bilirubin_high"
    assert (
        parse_text(content_to_yaml(result.knowledge_base.content)).checksum == result.knowledge_base.checksum
    )


def test_adding_a_rule_refuses_a_bad_or_taken_id(kb: KnowledgeBase) -> None:
    taken = add_rule(kb.content, modality="prrt_lu177", rule_id="prrt.marrow", fields=NEW_RULE)
    assert taken.errors == {"rule_id": ["modality prrt_lu177 already has a rule prrt.marrow"]}
    bad = add_rule(kb.content, modality="prrt_lu177", rule_id="Albumin", fields=NEW_RULE)
    assert list(bad.errors) == ["rule_id"] and "should match pattern" in bad.errors["rule_id"][0]
    missing = add_rule(kb.content, modality="prrt_lu177", rule_id="prrt.x", fields={"kind": "caution"})
    assert {"title", "condition", "reason", "source", "evidence", "verification"} <= set(missing.errors)


def test_a_modality_edit_is_validated_by_the_loader(kb: KnowledgeBase) -> None:
    ok = edit_modality(kb.content, key="prrt_lu177", fields={"agents": "Lutathera 7.4 GBq × 4"})
    assert ok.knowledge_base is not None
    assert next(m for m in ok.knowledge_base.content["modalities"] if m["key"] == "prrt_lu177")["agents"] == (
        "Lutathera 7.4 GBq × 4"
    )
    taken_order = next(m for m in kb.content["modalities"] if m["key"] == "everolimus")["display_order"]
    bad = edit_modality(kb.content, key="prrt_lu177", fields={"intents": [], "name": ""})
    assert set(bad.errors) == {"intents", "name"}, bad.errors
    # the loader's second phase: checks across modalities, once each modality is well formed
    clash = edit_modality(
        kb.content, key="prrt_lu177", fields={"category": "surgery", "display_order": taken_order}
    )
    assert set(clash.errors) == {"category", "display_order", GENERAL}, clash.errors
    assert "display_order must be unique" in clash.errors["display_order"]
    assert (
        "modality everolimus, field display_order: display_order must be unique" in clash.errors[GENERAL][0]
    )


def test_a_modality_is_added_with_its_first_indication(kb: KnowledgeBase) -> None:
    one_one = load_file(KB_FILES[1])
    content = {**one_one.content}
    content["modalities"] = [m for m in content["modalities"] if m["key"] != "sunitinib"]
    content["rules"] = [r for r in content["rules"] if r["modality"] != "sunitinib"]
    fields = {
        "name": "Sunitinib",
        "category": "targeted_therapy",
        "intents": ["antiproliferative"],
        "display_order": 99,
        "description": "Surveillance.",
        "agents": "None.",
    }
    indication = {**NEW_RULE, "rule_id": "sunitinib.pnet", "title": "Pancreatic NET", "if_unknown": "hold"}
    result = add_modality(content, key="sunitinib", fields=fields, indication=indication)
    assert result.knowledge_base is not None, result.errors
    assert result.knowledge_base.content["rules"][-1]["kind"] == "indication"
    bad = add_modality(content, key="sunitinib", fields={**fields, "intents": ["x"]}, indication={})
    assert {"intents", "indication.rule_id", "indication.title", "indication.condition"} <= set(bad.errors)
    assert add_modality(kb.content, key="prrt_lu177", fields=fields, indication=indication).errors == {
        "key": ["the rule set already has a modality prrt_lu177"]
    }


def test_a_condition_is_typed_as_yaml_or_json_and_read_in_plain_english() -> None:
    assert condition_from_text("{fact: platelets_10e9_l, ge: 100}") == {"fact": "platelets_10e9_l", "ge": 100}
    assert condition_from_text('{"fact": "platelets_10e9_l", "ge": 100}') == {
        "fact": "platelets_10e9_l",
        "ge": 100,
    }
    assert condition_in_words({"fact": "platelets_10e9_l", "ge": 100}).startswith("Platelets")
    with pytest.raises(ValueError, match="line 1"):
        condition_from_text("{fact: [")
    with pytest.raises(ValueError, match="write the condition"):
        condition_from_text("  ")
    with pytest.raises(ValueError, match="is not a fact"):
        condition_in_words({"fact": "nope", "eq": 1})


def test_the_stored_content_is_what_parse_data_of_its_document_gives(kb: KnowledgeBase) -> None:
    assert parse_data(document_from_content(kb.content)).content == kb.content


def test_an_edit_keeps_the_record_of_which_rules_use_which_set(kb: KnowledgeBase) -> None:
    """The editor shows a condition with its sets written out; saved back unchanged (or with a
    list that is still the set's members) the rule still counts as a user of the set."""
    modality, rule_id = kb.content["set_usage"]["NON_GEP_PATHWAY"][0]
    stored = rule_of(kb, modality, rule_id)

    result = edit_rule(
        kb.content,
        modality=modality,
        rule_id=rule_id,
        fields={"condition": condition_from_text(json.dumps(stored["condition"])), "reason": "Reworded."},
    )

    assert result.knowledge_base is not None
    assert result.knowledge_base.content["set_usage"] == kb.content["set_usage"]
    assert "in: NON_GEP_PATHWAY" in content_to_yaml(result.knowledge_base.content)
