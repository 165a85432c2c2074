"""Missing prefetch fetched from the EHR's FHIR server with the access token it passed (CDS Hooks 2.0
§FHIR Resource Access): only from an allowlisted server, and the token never reaches a log or the
database. The FHIR server is a real HTTP server on 127.0.0.1 that the test starts."""

from __future__ import annotations

import http.server
import logging
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.core import serializers

from tests.cds.conftest import SERVICE, Ehr, JsonHandler, bundle, bundle_call, serving
from tools.cds_client import prefetch_from_bundle, searchset
from treatments.models import HookEvaluation

pytestmark = pytest.mark.django_db

TOKEN = "eyJ-secret-access-token-7f3a9c0d"  # noqa: S105 - a test token, looked for in logs and tables
SI_NET = "ex-si-net-g2.json"


class FhirServer(http.server.ThreadingHTTPServer):
    """Answers the service's prefetch queries from an example bundle, and records each request."""

    requests: list[tuple[str, str]]
    prefetch: dict[str, Any]


class _Handler(JsonHandler):
    server: FhirServer

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        self.server.requests.append((self.path, self.headers.get("Authorization", "")))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, {"resourceType": "OperationOutcome", "issue": []})
            return
        path = urllib.parse.urlsplit(self.path)
        kind = path.path.removeprefix("/fhir/")
        prefetch = self.server.prefetch
        if kind.startswith("Patient/"):
            self._send(200, prefetch["patient"])
        elif kind == "Condition":
            self._send(200, prefetch["conditions"])
        elif kind == "Observation":
            labs = "98979-8" in urllib.parse.unquote(path.query)
            self._send(200, prefetch["labs" if labs else "tumour"])
        elif kind == "MedicationAdministration":
            self._send(200, prefetch["medsGiven"])
        elif kind == "Procedure":
            self._send(200, prefetch["procedures"])
        else:
            self._send(200, searchset([]))

    def _send(self, status: int, body: Any) -> None:
        self.send_json(status, body, "application/fhir+json")


@pytest.fixture
def fhir_server() -> Iterator[FhirServer]:
    with serving(FhirServer(("127.0.0.1", 0), _Handler)) as server:
        server.requests = []
        server.prefetch = prefetch_from_bundle(bundle(SI_NET))[1]
        yield server


def _base(server: FhirServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/fhir"


def _call(server: FhirServer, *, keep: tuple[str, ...] = (), patient: str | None = None) -> dict[str, Any]:
    call = bundle_call(SI_NET)
    call["prefetch"] = {key: value for key, value in call["prefetch"].items() if key in keep}
    auth = {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 300,
            "scope": "patient/*.read", "subject": "netcare"}  # fmt: skip
    if patient is not None:
        auth["patient"] = patient
    call.update(fhirServer=_base(server), fhirAuthorization=auth)
    return call


@pytest.fixture
def allowed(ehr: Ehr, fhir_server: FhirServer, settings: Any) -> Ehr:
    settings.DEBUG = True  # the test server speaks plain HTTP
    ehr.client.fhir_server_allowlist = [_base(fhir_server)]
    ehr.client.save()
    return ehr


def test_without_prefetch_everything_is_fetched_from_an_allowlisted_server(
    allowed: Ehr, fhir_server: FhirServer
) -> None:
    with_prefetch = allowed.post(SERVICE, bundle_call(SI_NET)).json()["cards"]

    response = allowed.post(SERVICE, _call(fhir_server))

    assert response.status_code == 200
    fetched = response.json()["cards"]
    assert [card["summary"] for card in fetched] == [card["summary"] for card in with_prefetch]
    paths = [path for path, _ in fhir_server.requests]
    assert "/fhir/Patient/pt-si-g2" in paths
    assert any(path.startswith("/fhir/Condition?patient=pt-si-g2") for path in paths)
    assert all(auth == f"Bearer {TOKEN}" for _, auth in fhir_server.requests)


def test_only_the_missing_keys_are_fetched(allowed: Ehr, fhir_server: FhirServer) -> None:
    response = allowed.post(SERVICE, _call(fhir_server, keep=("patient", "conditions", "tumour")))

    assert response.status_code == 200
    paths = [path.split("?")[0] for path, _ in fhir_server.requests]
    assert "/fhir/Patient/pt-si-g2" not in paths
    assert "/fhir/Condition" not in paths
    assert "/fhir/Observation" in paths  # labs


def test_nothing_is_fetched_when_the_prefetch_is_complete(allowed: Ehr, fhir_server: FhirServer) -> None:
    call = bundle_call(SI_NET)
    call.update(_call(fhir_server, keep=tuple(call["prefetch"])))

    assert allowed.post(SERVICE, call).status_code == 200
    assert fhir_server.requests == []


def test_a_server_not_on_the_allowlist_gets_no_request(
    ehr: Ehr, fhir_server: FhirServer, settings: Any
) -> None:
    settings.DEBUG = True
    ehr.client.fhir_server_allowlist = ["http://127.0.0.1:1/fhir"]
    ehr.client.save()

    response = ehr.post(SERVICE, _call(fhir_server, keep=("patient", "conditions")))

    assert response.status_code == 200
    assert fhir_server.requests == []
    codes = [issue["code"] for issue in HookEvaluation.objects.get().issues]
    assert "fhir_server_not_allowed" in codes
    # Without patient and conditions, and nothing fetched: 412.
    assert ehr.post(SERVICE, _call(fhir_server)).status_code == 412
    assert fhir_server.requests == []


def test_plain_http_is_refused_outside_development(
    allowed: Ehr, fhir_server: FhirServer, settings: Any
) -> None:
    settings.DEBUG = False

    assert allowed.post(SERVICE, _call(fhir_server)).status_code == 412
    assert fhir_server.requests == []


def test_a_token_for_another_patient_is_not_used(allowed: Ehr, fhir_server: FhirServer) -> None:
    response = allowed.post(SERVICE, _call(fhir_server, patient="someone-else"))

    assert response.status_code == 412
    assert fhir_server.requests == []


def test_a_server_that_refuses_leaves_the_facts_unknown(allowed: Ehr, fhir_server: FhirServer) -> None:
    call = _call(fhir_server, keep=("patient", "conditions"))
    call["fhirAuthorization"]["access_token"] = "wrong-token"

    response = allowed.post(SERVICE, call)

    assert response.status_code == 200
    stored = HookEvaluation.objects.get()
    assert "egfr_ml_min" not in stored.profile
    assert "fetch_failed:labs" in [issue["code"] for issue in stored.issues]


def test_the_token_reaches_neither_the_logs_nor_the_database(
    allowed: Ehr, fhir_server: FhirServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        allowed.post(SERVICE, _call(fhir_server))
        bad = _call(fhir_server, keep=("patient", "conditions"))
        bad["fhirServer"] = "http://127.0.0.1:1/fhir"  # refused: logged
        allowed.post(SERVICE, bad)
        allowed.post(SERVICE, {**_call(fhir_server), "hook": 7})  # malformed: 400

    assert fhir_server.requests
    assert TOKEN not in caplog.text
    for model in apps.get_models():
        dumped = serializers.serialize("json", model._default_manager.all())
        assert TOKEN not in dumped, model.__name__
