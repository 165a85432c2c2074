"""The contract form of an answer: the dict form (stored evaluations, CLI) and the pre-encoded JSON
form (the API) must be the same answer, byte for byte."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import orjson
import pytest
import yaml

from treatments.rules.engine import CompiledRuleSet
from treatments.rules.profile import PatientProfile
from treatments.rules.serialize import result_from_dict, result_to_dict, result_to_json

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from engine import realistic_profile  # type: ignore[import-not-found]  # noqa: E402

GOLDEN = sorted((Path(__file__).parents[1] / "golden").glob("*.yaml"))


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
