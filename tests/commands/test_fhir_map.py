"""`python manage.py fhir_map BUNDLE.json`: the facts with their sources, the proposals and issues;
`--json` is the API's answer for the same input and day; bad input is one message and exit code 2."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.api.conftest import ApiClient, client_for
from tests.conftest import ROOT

BUNDLES = ROOT / "fixtures" / "fhir"
SI = str(BUNDLES / "ex-si-net-g2.json")


def fhir_map(*args: str) -> str:
    out = io.StringIO()
    call_command("fhir_map", *args, stdout=out)
    return out.getvalue()


def test_it_prints_each_fact_with_its_source_and_date() -> None:
    text = fhir_map(SI, "--as-of", "2026-11-20")
    assert "eGFR (egfr_ml_min): 75.0  [from FHIR Observation/egfr (LOINC 98979-8), 2026-11-10]" in text
    assert (
        "Primary resected (primary_resected): yes  [proposed from FHIR (to confirm) Procedure/resection"
        in text
    )
    assert "information old_pathology ki67_percent" in text


@pytest.mark.django_db
def test_json_is_what_the_api_answers_for_the_same_input(clinician: Any, published: Any) -> None:
    printed = json.loads(fhir_map(SI, "--as-of", "2026-11-20", "--json"))
    api: ApiClient = client_for(clinician)
    answered = api.post_raw(
        "/api/v2/fhir/profile/?as_of=2026-11-20", Path(SI).read_bytes(), content_type="application/fhir+json"
    ).json()
    assert printed == answered


@pytest.mark.django_db
def test_evaluate_adds_the_eligibility_table(published: Any) -> None:
    text = fhir_map(str(BUNDLES / "ex-panc-nec-g3.json"), "--as-of", "2026-11-20", "--evaluate")
    assert "platinum_etoposide" in text and "candidate" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"resourceType": "Patient"}', "expected a FHIR Bundle"),
        (
            b'{"resourceType": "Bundle", "type": "collection", "entry": '
            b'[{"resource": {"resourceType": "Patient", "id": "a", "colour": 1}}]}',
            "Bundle.entry[0].resource",
        ),
        (
            orjson.dumps(
                {
                    "resourceType": "Bundle",
                    "type": "collection",
                    "entry": [{"resource": {"resourceType": "Patient", "id": "a", "deceasedBoolean": True}}],
                }
            ),
            "deceased",
        ),
    ],
)
def test_bad_input_is_one_message_naming_the_element_with_exit_code_2(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(content)
    with pytest.raises(CommandError) as raised:
        fhir_map(str(path))
    assert raised.value.returncode == 2
    assert message in str(raised.value)


def test_a_missing_file_and_a_bad_date_exit_with_2(tmp_path: Path) -> None:
    with pytest.raises(CommandError) as raised:
        fhir_map(str(tmp_path / "nope.json"))
    assert raised.value.returncode == 2
    done = subprocess.run(
        [sys.executable, "manage.py", "fhir_map", SI, "--as-of", "tomorrow"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"DJANGO_SETTINGS_MODULE": "netcare.settings_test", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "not a date" in done.stderr
    assert "Traceback" not in done.stderr
