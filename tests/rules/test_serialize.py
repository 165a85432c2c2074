"""The contract form of an answer: the dict form (stored evaluations, CLI) and the pre-encoded JSON
form (the API) must be the same answer, byte for byte."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from treatments.rules.engine import CompiledRuleSet
from treatments.rules.profile import PatientProfile
from treatments.rules.serialize import as_contract_1_1, result_from_dict, result_to_dict, result_to_json
from treatments.rules.vocabulary import MODALITY_KEYS_V1

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from engine import realistic_profile  # type: ignore[import-not-found]  # noqa: E402

GOLDEN = sorted((Path(__file__).parents[2] / "fixtures" / "golden").glob("*.yaml"))


@pytest.mark.parametrize("path", GOLDEN[:12], ids=[path.stem for path in GOLDEN[:12]])
def test_the_json_bytes_are_the_dict_form_encoded(compiled: CompiledRuleSet, path: Path) -> None:
    profile = PatientProfile.model_validate(yaml.safe_load(path.read_text())["profile"])
    result = compiled.evaluate(profile)

    assert result_to_json(result) == orjson.dumps(result_to_dict(result))


def test_the_json_bytes_match_for_a_thousand_realistic_referrals(compiled: CompiledRuleSet) -> None:
    rng = random.Random(11)
    for _ in range(1000):
        result = compiled.evaluate(PatientProfile.model_validate(realistic_profile(rng)))
        assert result_to_json(result) == orjson.dumps(result_to_dict(result))


@pytest.mark.parametrize("path", GOLDEN, ids=[path.stem for path in GOLDEN])
def test_a_stored_answer_reads_back_as_the_same_result(compiled: CompiledRuleSet, path: Path) -> None:
    profile = PatientProfile.model_validate(yaml.safe_load(path.read_text())["profile"])
    stored = result_to_dict(compiled.evaluate(profile))

    rebuilt = result_from_dict(orjson.loads(orjson.dumps(stored)), profile)

    assert result_to_dict(rebuilt) == stored
    assert [v.status for v in rebuilt.verdicts] == [option["status"] for option in stored["options"]]


# --- contract 1.2: schema version, warnings, guideline lines, stored 1.1 answers ------------------

STORED_1_1_1 = Path(__file__).parents[1] / "data" / "stored_evaluation_kb_1_1_1.json"


def stored_1_1_1() -> tuple[dict[str, Any], dict[str, Any]]:
    """(the stored answer without the checksum the service adds, the stored profile)."""
    data = orjson.loads(STORED_1_1_1.read_bytes())
    answer = data["result"]
    answer["ruleset"].pop("checksum")
    return answer, data["profile"]


def test_an_answer_stored_before_contract_1_2_reads_back_exactly_as_it_was_made() -> None:
    answer, profile = stored_1_1_1()

    rebuilt = result_from_dict(answer, profile)

    assert "schema_version" not in answer and rebuilt.schema_version == 1
    assert result_to_dict(rebuilt) == answer
    assert orjson.loads(result_to_json(rebuilt)) == answer
    assert rebuilt.warnings == () and all(v.guideline_line is None for v in rebuilt.verdicts)


def test_a_stored_v1_portal_vein_thrombosis_keeps_the_value_the_rules_saw_then() -> None:
    answer, profile = stored_1_1_1()
    assert profile["portal_vein_thrombosis"] is True

    # The pages read the stored profile with today's model, where true reads as "branch".
    rebuilt = result_from_dict(answer, PatientProfile.model_validate(profile))

    embolisation = rebuilt.verdict("liver_embolisation")
    values = {name: value for reason in embolisation.reasons for name, value in reason.values.items()}
    assert values["portal_vein_thrombosis"] is True
    assert result_to_dict(rebuilt) == answer


def test_a_stored_profile_that_1_2_would_refuse_still_reads_back() -> None:
    answer, profile = stored_1_1_1()

    rebuilt = result_from_dict(answer, {**profile, "who_grade": "G1", "ki67_percent": 30})

    assert rebuilt.profile.who_grade == "G1"


def test_a_1_2_answer_has_a_schema_version_warnings_and_a_guideline_line_per_option(
    compiled: CompiledRuleSet,
) -> None:
    result = compiled.evaluate(
        PatientProfile.model_validate({"primary_site": "pancreas", "bilirubin_umol_l": 1})
    )

    body = result_to_dict(result)

    assert list(body) == ["schema_version", "ruleset", "warnings", "options"]
    assert body["schema_version"] == 2
    assert body["warnings"] == [{"facts": ["bilirubin_umol_l"], "msg": result.warnings[0].msg}]
    assert all("guideline_line" in option for option in body["options"])
    assert result_to_json(result) == orjson.dumps(body)


def test_warnings_and_guideline_lines_survive_storing_and_reading_back(compiled: CompiledRuleSet) -> None:
    rng = random.Random(12)
    for _ in range(200):
        facts = {**realistic_profile(rng), "bilirubin_umol_l": rng.choice([1, 9])}
        profile = PatientProfile.model_validate(facts)
        stored = orjson.loads(result_to_json(compiled.evaluate(profile)))

        rebuilt = result_from_dict(stored, profile)

        assert result_to_dict(rebuilt) == stored
        assert result_to_json(rebuilt) == orjson.dumps(stored)


def test_the_v1_view_of_a_result_has_the_v1_shape_modalities_and_boolean_portal_vein_thrombosis(
    compiled: CompiledRuleSet,
) -> None:
    answer, stored_profile = stored_1_1_1()
    profile = PatientProfile.model_validate({**stored_profile, "bilirubin_umol_l": 1})
    result = compiled.evaluate(profile)

    v1 = as_contract_1_1(result)
    body = result_to_dict(v1)

    assert list(body) == ["ruleset", "options"]
    assert {option["modality"] for option in body["options"]} <= set(MODALITY_KEYS_V1)
    assert all("guideline_line" not in option for option in body["options"])
    values = [reason["values"] for option in body["options"] for reason in option["reasons"]]
    assert {v["portal_vein_thrombosis"] for v in values if "portal_vein_thrombosis" in v} == {True}
    assert result_to_json(v1) == orjson.dumps(body)
    assert [o["modality"] for o in body["options"]] == [
        v.modality.key for v in result.verdicts if v.modality.key in MODALITY_KEYS_V1
    ]
