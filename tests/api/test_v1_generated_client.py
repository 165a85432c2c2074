"""A v1 client, generated from the SAVED v1 document by openapi-python-client as a REST client's
developer would, runs end to end against a live server holding knowledge base 1.2 data.

The generated models decode enums strictly (`ModalityKeyEnum("telotristat")` raises ValueError), so
any 1.2 value leaking into a v1 answer fails here. Slow (it generates and imports a package): one test.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User

from tests.conftest import PASSWORD
from treatments.api.v1 import V1_YAML

from .conftest import BRONCHIAL_NHS

PACKAGE = "netcare_v1_client"
V2_ONLY = {"sex": "female", "childbearing_potential": True, "dpd_status": "normal"}


@pytest.fixture
def v1_client_package(tmp_path: Path) -> Iterator[ModuleType]:
    generator = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent))
    assert generator, "openapi-python-client is a dev dependency (make install-dev)"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [generator, "generate", "--path", str(V1_YAML), "--output-path", str(tmp_path / PACKAGE)]
    subprocess.run([*command, "--meta", "none"], check=True, capture_output=True, env=env, timeout=300)
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _api(package: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def _checked(response: Any, model: type) -> Any:
    """A response decoded by the generated model (strict enums), with nothing left undeclared."""
    assert response.status_code in (200, 201), response.content
    assert isinstance(response.parsed, model), response.parsed
    return response.parsed


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_client_generated_from_the_saved_v1_document_works_on_1_2_data(
    v1_client_package: ModuleType, live_server: Any, published: Any, clinician: User
) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")
    client_module = importlib.import_module(f"{PACKAGE}.client")
    anonymous = client_module.Client(base_url=live_server.url, raise_on_unexpected_status=True)
    token = _checked(
        _api(v1_client_package, "auth.v1_auth_token_create").sync_detailed(
            client=anonymous, body=models.TokenRequest(username=clinician.username, password=PASSWORD)
        ),
        models.TokenResponse,
    ).token
    client = client_module.AuthenticatedClient(
        base_url=live_server.url, token=token, prefix="Token", raise_on_unexpected_status=True
    )
    profile = models.PatientProfile.from_dict(BRONCHIAL_NHS)

    result = _checked(
        _api(v1_client_package, "eligibility.v1_eligibility_create").sync_detailed(
            client=client, body=models.EligibilityRequest(profile=profile)
        ),
        models.EligibilityResponse,
    )
    assert len(result.options) == 15 and not result.additional_properties
    assert all(isinstance(option.modality, models.ModalityKeyEnum) for option in result.options)
    assert all(not option.additional_properties for option in result.options)

    batch = _checked(
        _api(v1_client_package, "eligibility.v1_eligibility_batch_create").sync_detailed(
            client=client, body=models.BatchRequest(profiles=[BRONCHIAL_NHS, {}])
        ),
        models.BatchResponse,
    )
    assert [len(item.options) for item in batch.results] == [15, 15]

    case = _checked(
        _api(v1_client_package, "cases.v1_cases_create").sync_detailed(
            client=client,
            body=models.CaseCreate.from_dict(
                {
                    "hospital_reference": "RFH-GEN-1",
                    "referring_clinician": "Dr Shah",
                    "question": "Options?",
                    "profile": BRONCHIAL_NHS,
                    "status": "ready",
                }  # fmt: skip
            ),
        ),
        models.CaseOut,
    )
    case_id = str(case.id)
    _checked(
        _api(v1_client_package, "cases.v1_cases_retrieve").sync_detailed(client=client, case_id=case_id),
        models.CaseOut,
    )
    evaluation = _checked(
        _api(v1_client_package, "cases.v1_cases_evaluations_create").sync_detailed(
            client=client, case_id=case_id
        ),
        models.EvaluationOut,
    )
    assert {option.modality.value for option in evaluation.options} <= {
        m.value for m in models.ModalityKeyEnum
    }

    meeting = _checked(
        _api(v1_client_package, "meetings.v1_meetings_create").sync_detailed(
            client=client, body=models.MeetingInput.from_dict({"title": "NET MDT", "date": "2026-12-03"})
        ),
        models.MeetingOut,
    )
    meeting_id = str(meeting.id)
    _checked(
        _api(v1_client_package, "meetings.v1_meetings_cases_create").sync_detailed(
            client=client, meeting_id=meeting_id, body=models.MeetingCaseAdd(case=case.id)
        ),
        models.MeetingOut,
    )
    # The MDT records, through v2, a decision that chooses a 1.2 option; v1 must still decode it.
    v2 = f"{live_server.url}/api/v2/meetings/{meeting_id}"
    headers = {"Authorization": f"Token {token}"}
    shown = httpx.get(f"{v2}/worklist/", headers=headers).json()[0]["evaluation"]
    recorded = httpx.put(
        f"{v2}/cases/{case_id}/outcome/",
        json={
            "chosen_modalities": ["ssta", "telotristat"],
            "plan": "SSA and telotristat",
            "evaluation": shown,
        },
        headers=headers,
    )
    assert recorded.status_code == 201, recorded.text
    worklist = _api(v1_client_package, "meetings.v1_meetings_worklist_retrieve").sync_detailed(
        client=client, meeting_id=meeting_id
    )
    assert worklist.status_code == 200 and worklist.parsed is not None
    (row,) = worklist.parsed
    assert [key.value for key in row.outcome.chosen_modalities] == ["ssta"]
    assert "telotristat" in row.outcome.plan
    summary = _api(v1_client_package, "cases.v1_cases_summary_retrieve").sync_detailed(
        client=client, case_id=case_id
    )
    assert isinstance(summary.parsed, models.CaseSummaryOut), summary.content
    assert worklist.headers["Sunset"] == "Tue, 30 Jun 2027 23:59:59 GMT"
