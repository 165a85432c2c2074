"""`python manage.py evaluate PROFILE [--json]`: a JSON file, a JSON-lines file or standard input in,
a table or the API's body out; a bad profile is reported by line and field and never spoils the
others, and the process exits with code 2."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import ROOT
from tests.personas import SI_NET
from treatments import selectors
from treatments.models import RuleSet
from treatments.rules.engine import STATUS_ORDER
from treatments.rules.profile import MODALITY_KEYS, PatientProfile
from treatments.rules.serialize import result_to_dict

pytestmark = pytest.mark.django_db

# A small-intestine NET with liver metastases, progressive on a somatostatin analogue.
SMALL_INTESTINE = {**SI_NET, "liver_metastases": True, "ecog": 1, "pregnant": False}
LUNG = {**SMALL_INTESTINE, "primary_site": "lung_bronchus"}


def write(tmp_path: Path, text: str, name: str = "profiles.jsonl") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def json_lines(*items: Any) -> str:
    return "".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in items)


def evaluate(*args: str) -> tuple[str, str]:
    """Run the command; (stdout, stderr). Raises CommandError like the command does."""
    out, err = io.StringIO(), io.StringIO()
    call_command("evaluate", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def evaluate_refused(*args: str) -> tuple[str, str]:
    """Run the command on input that is partly bad: exit code 2; (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("evaluate", *args, stdout=out, stderr=err)
    assert caught.value.returncode == 2, caught.value
    return out.getvalue(), err.getvalue()


def expected_body(facts: dict[str, Any]) -> dict[str, Any]:
    return result_to_dict(selectors.published_ruleset().evaluate(PatientProfile.model_validate(facts)))


# --- the table ------------------------------------------------------------------------------------


def test_a_pretty_printed_profile_gets_a_table_of_every_option(published: RuleSet, tmp_path: Path) -> None:
    out, err = evaluate(write(tmp_path, json.dumps(SMALL_INTESTINE, indent=2), "profile.json"))
    assert err == ""
    assert out.startswith(f"Profile on line 1 (rule set {published.version})\n")
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines()[3:] if line[:1].strip()}
    statuses = {option["modality"]: option["status"] for option in expected_body(SMALL_INTESTINE)["options"]}
    assert rows == statuses
    assert set(rows) == set(MODALITY_KEYS)


def test_the_table_names_the_deciding_rule_and_the_missing_facts(published: RuleSet, tmp_path: Path) -> None:
    out, _ = evaluate(write(tmp_path, json.dumps({"primary_site": "pancreas"}), "profile.json"))
    surgery = next(line for line in out.splitlines() if line.startswith("surgery_curative "))
    assert "needs_data" in surgery
    assert "disease_extent" in surgery


# --- --json ---------------------------------------------------------------------------------------


def test_json_gives_one_line_per_profile_with_the_body_of_the_api(published: RuleSet, tmp_path: Path) -> None:
    profiles = [SMALL_INTESTINE, LUNG, {}]
    out, err = evaluate(write(tmp_path, json_lines(*profiles)), "--json")
    assert err == ""
    lines = out.splitlines()
    assert len(lines) == len(profiles)
    for line, facts in zip(lines, profiles, strict=True):
        body = json.loads(line)
        assert body == expected_body(facts)
        assert body["ruleset"]["version"] == published.version
        assert len(body["options"]) == len(MODALITY_KEYS)
        ranks = [STATUS_ORDER.index(option["status"]) for option in body["options"]]
        assert ranks == sorted(ranks)


def test_a_pretty_printed_profile_with_json_is_one_line(published: RuleSet, tmp_path: Path) -> None:
    out, _ = evaluate(write(tmp_path, json.dumps(LUNG, indent=4), "profile.json"), "--json")
    (line,) = out.splitlines()
    assert json.loads(line) == expected_body(LUNG)


def test_the_apis_request_body_is_accepted_as_a_profile(published: RuleSet, tmp_path: Path) -> None:
    out, _ = evaluate(write(tmp_path, json_lines({"profile": LUNG})), "--json")
    assert json.loads(out) == expected_body(LUNG)


def test_a_profile_is_read_from_standard_input(published: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json_lines(SMALL_INTESTINE, LUNG)))
    out, _ = evaluate("-", "--json")
    assert [json.loads(line) for line in out.splitlines()] == [
        expected_body(SMALL_INTESTINE),
        expected_body(LUNG),
    ]


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "report"),
    [
        ('{"ecog": 1,', "line 2: not valid JSON"),
        ('{"ki67_percent": NaN}', "line 2: not valid JSON: NaN is not a number"),
        (json.dumps({"ki67_percent": 140}), "line 2: ki67_percent: must be at most 100 %"),
        (json.dumps({"tumour_colour": "blue"}), "line 2: tumour_colour: is not a known fact"),
        (json.dumps({"prior_therapies": ["ssta", "chemo"]}), "line 2: prior_therapies.1: must be one of"),
        (json.dumps({"profile": {"ecog": 7}}), "line 2: profile.ecog: must be at most 4"),
        (json.dumps([SMALL_INTESTINE]), "line 2: a profile must be a JSON object of facts"),
        ('"pancreas"', "line 2: a profile must be a JSON object of facts"),
    ],
    ids=[
        "invalid JSON",
        "NaN",
        "out of bounds",
        "unknown fact",
        "unknown therapy",
        "API body",
        "list",
        "string",
    ],
)
def test_a_bad_line_is_reported_by_line_and_field_and_the_others_are_answered(
    published: RuleSet, tmp_path: Path, bad: str, report: str
) -> None:
    out, err = evaluate_refused(write(tmp_path, json_lines(SMALL_INTESTINE, bad, LUNG)), "--json")
    assert [json.loads(line) for line in out.splitlines()] == [
        expected_body(SMALL_INTESTINE),
        expected_body(LUNG),
    ]
    assert err.startswith(report), err


def test_a_bad_first_line_does_not_spoil_the_lines_after_it(published: RuleSet, tmp_path: Path) -> None:
    out, err = evaluate_refused(write(tmp_path, json_lines("{not json", LUNG, SMALL_INTESTINE)), "--json")
    assert err.startswith("line 1: not valid JSON")
    assert [json.loads(line) for line in out.splitlines()] == [
        expected_body(LUNG),
        expected_body(SMALL_INTESTINE),
    ]


def test_line_numbers_count_the_blank_lines_of_the_file(published: RuleSet, tmp_path: Path) -> None:
    _, err = evaluate_refused(
        write(tmp_path, f"\n{json.dumps(LUNG)}\n\n{json.dumps({'ecog': -1})}\n"), "--json"
    )
    assert err == "line 4: ecog: must be at least 0\n"


def test_a_broken_pretty_printed_file_is_reported_where_it_breaks(published: RuleSet, tmp_path: Path) -> None:
    text = json.dumps(SMALL_INTESTINE, indent=2).replace('"ecog": 1,', '"ecog": 1,,')
    out, err = evaluate_refused(write(tmp_path, text, "profile.json"))
    line = text.splitlines().index('  "ecog": 1,,') + 1
    assert (out, err.splitlines()[0].split(":")[0]) == ("", f"line {line}")


@pytest.mark.parametrize("text", ["", "\n\n"])
def test_an_empty_file_is_bad_input(published: RuleSet, tmp_path: Path, text: str) -> None:
    _, err = evaluate_refused(write(tmp_path, text))
    assert "the input is empty" in err


def test_a_missing_file_is_bad_input(published: RuleSet, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read") as caught:
        evaluate(str(tmp_path / "nowhere.json"))
    assert caught.value.returncode == 2


def test_without_a_published_rule_set_the_command_says_how_to_load_one(
    no_knowledge_base: None, tmp_path: Path
) -> None:
    with pytest.raises(CommandError, match="load_knowledge_base"):
        evaluate(write(tmp_path, json_lines(LUNG)))


# --- contract 1.2: the new facts, contradictions, warnings ----------------------------------------

# Every fact contract 1.2 adds, with prior treatments in detail.
NEW_FACTS = {
    **SMALL_INTESTINE,
    "portal_vein_thrombosis": "branch",
    "sex": "female",
    "childbearing_potential": False,
    "breastfeeding": False,
    "dpd_status": "normal",
    "biliary_enteric_anastomosis": False,
    "syndrome_refractory": True,
    "bowel_movements_per_day": 6,
    "hereditary_syndrome": "none",
    "primary_tumour_size_mm": 25,
    "months_since_diagnosis": 30,
    "haemoglobin_g_l": 118,
    "functional_syndrome": "carcinoid_syndrome",
    "prior_therapy_details": [
        {"modality": "ssta", "best_response": "stable", "progressed_on_treatment": True,
         "months_since_last_dose": 1, "pfs_months": 22},
    ],
}  # fmt: skip
CONTRADICTORY = {**SMALL_INTESTINE, "who_grade": "G1", "ki67_percent": 50}
SLIP = {**SMALL_INTESTINE, "bilirubin_umol_l": 1.2, "egfr_ml_min": 190}


def test_the_new_facts_of_contract_1_2_are_answered(published: RuleSet, tmp_path: Path) -> None:
    out, err = evaluate(write(tmp_path, json_lines(NEW_FACTS)), "--json")
    assert err == ""
    body = json.loads(out)
    assert body == expected_body(NEW_FACTS)
    assert "warnings" in body and all("guideline_line" in option for option in body["options"])


def test_a_contradiction_is_a_line_error_naming_each_fact_and_the_others_are_answered(
    published: RuleSet, tmp_path: Path
) -> None:
    out, err = evaluate_refused(write(tmp_path, json_lines(SMALL_INTESTINE, CONTRADICTORY, LUNG)), "--json")
    assert [json.loads(line) for line in out.splitlines()] == [
        expected_body(SMALL_INTESTINE),
        expected_body(LUNG),
    ]
    lines = err.splitlines()
    assert [line.split(":")[:2] for line in lines] == [["line 2", " who_grade"], ["line 2", " ki67_percent"]]
    assert "contradicts Ki-67 index (50 %)" in lines[0] and "contradicts WHO grade (G1)" in lines[1]


def test_a_detail_of_a_treatment_not_given_names_the_detail_and_prior_therapies(
    published: RuleSet, tmp_path: Path
) -> None:
    bad = {**SMALL_INTESTINE, "prior_therapy_details": [{"modality": "everolimus"}]}
    _, err = evaluate_refused(write(tmp_path, json_lines(bad)))
    assert err.startswith("line 1: prior_therapy_details.0.modality: contradicts Prior therapies")
    assert "line 1: prior_therapies: " in err


def test_the_table_ends_with_a_warnings_block_naming_the_facts(published: RuleSet, tmp_path: Path) -> None:
    out, err = evaluate(write(tmp_path, json_lines(SLIP, SMALL_INTESTINE)))
    assert err == ""
    first, second = out.split("Profile on line 2")
    block = first[first.index("\nWarnings:\n") :]
    assert "  - bilirubin_umol_l: Bilirubin below 3 µmol/L" in block
    assert "  - egfr_ml_min: eGFR above 150" in block
    assert "Warnings:" not in second


def test_json_carries_the_warnings_as_the_engine_serializes_them(published: RuleSet, tmp_path: Path) -> None:
    out, _ = evaluate(write(tmp_path, json_lines(SLIP)), "--json")
    body = json.loads(out)
    assert body["warnings"] == expected_body(SLIP)["warnings"]
    assert [warning["facts"] for warning in body["warnings"]] == [["bilirubin_umol_l"], ["egfr_ml_min"]]


# --- the real process -----------------------------------------------------------------------------


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_process_exits_with_code_2_for_bad_input_and_answers_the_rest(tmp_path: Path) -> None:
    # The subprocess cannot see the test database, so it gets its own SQLite file.
    env = {
        **{name: value for name, value in os.environ.items() if name not in ("DATABASE_URL", "DEBUG")},
        "DJANGO_SETTINGS_MODULE": "netcare.settings_test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    }
    assert manage("migrate", "--noinput", env=env).returncode == 0
    profiles = write(tmp_path, json_lines(LUNG, {"ecog": 9}))
    no_rule_set = manage("evaluate", profiles, env=env)
    assert no_rule_set.returncode == 1
    assert "load_knowledge_base" in no_rule_set.stderr
    assert manage("load_knowledge_base", "--no-approval", env={**env, "DEBUG": "true"}).returncode == 0

    done = manage("evaluate", profiles, "--json", env=env)
    assert done.returncode == 2
    assert "line 2: ecog: must be at most 4" in done.stderr
    (answer,) = done.stdout.splitlines()
    assert {option["modality"]: option["status"] for option in json.loads(answer)["options"]}[
        "prrt_lu177"
    ] == ("trial_only")
    assert manage("evaluate", str(tmp_path / "nowhere.json"), env=env).returncode == 2
