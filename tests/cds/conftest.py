"""The CDS Hooks harness: an EHR registered as a client with an ES384 key made for the test run, that
signs a real JWT per call (tools/cds_client.py does the signing, as it does over real HTTP) and
calls the service through Django's whole middleware stack.

The example bundles are those of the FHIR mapping (fixtures/fhir/); their prefetch is built the way
an EHR answers the service's prefetch templates.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from tools.cds_client import hook_request, new_key, prefetch_from_bundle, public_jwks, sign
from treatments.cds.auth import forget_remote_keys
from treatments.models import Case, CdsClient

BUNDLES = Path(__file__).resolve().parent.parent.parent / "fixtures" / "fhir"
BASE = "http://testserver/cds-hooks"  # CDS_HOOKS_BASE_URL in netcare/settings_test.py
DISCOVERY = "/cds-hooks/cds-services"
SERVICE = "/cds-hooks/cds-services/netcare-net-options"
FEEDBACK = "/cds-hooks/cds-services/netcare-net-options/feedback"
ISS = "https://ehr.example.nhs.uk/cds"
KID = "ehr-key-1"
NHS_NUMBER = "9434765919"  # valid check digit; the case fixture's, sent by calls made "linked"

_KEY = new_key()


def bundle(name: str) -> dict[str, Any]:
    return json.loads((BUNDLES / name).read_text(encoding="utf-8"))


def bundle_call(name: str, **context: str) -> dict[str, Any]:
    """A patient-view call with the full prefetch of an example bundle."""
    patient_id, prefetch = prefetch_from_bundle(bundle(name))
    body = hook_request(patient_id, prefetch)
    body["context"].update(context)
    return body


@dataclass
class Ehr:
    """A registered EHR calling NETcare: every call signed afresh, unless a token is given."""

    client: CdsClient
    key: Any = _KEY
    kid: str = KID
    http: Client = field(default_factory=Client)

    def token(self, path: str, **options: Any) -> str:
        aud = options.pop("aud", BASE + path.removeprefix("/cds-hooks"))
        return sign(options.pop("key", self.key), iss=options.pop("iss", self.client.iss), aud=aud,
                    kid=options.pop("kid", self.kid), **options)  # fmt: skip

    def get(self, path: str, *, token: str | None = None, **options: Any) -> Any:
        token = token if token is not None else self.token(path, **options)
        return self.http.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")

    def post(self, path: str, body: Any, *, token: str | None = None, **options: Any) -> Any:
        token = token if token is not None else self.token(path, **options)
        raw = body if isinstance(body, bytes) else json.dumps(body)
        return self.http.post(
            path, raw, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
        )

    def patient_view(self, name: str, **context: str) -> Any:
        return self.post(SERVICE, bundle_call(name, **context))

    def feedback(self, items: list[dict[str, Any]]) -> Any:
        return self.post(FEEDBACK, {"feedback": items})


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    cache.clear()
    forget_remote_keys()
    yield
    forget_remote_keys()


def register(iss: str = ISS, key: Any = _KEY, kid: str = KID, alg: str = "ES384", **fields: Any) -> CdsClient:
    jwks = public_jwks(key, kid, alg) if key is not None else {}
    defaults = {"name": "Test EPR", "jwks": jwks, "fhir_server_allowlist": ["http://127.0.0.1"], **fields}
    return CdsClient.objects.create(iss=iss, **defaults)


@pytest.fixture
def ehr(published: Any) -> Ehr:
    return Ehr(register())


@pytest.fixture
def case(clinician: User) -> Case:
    """An active case whose NHS number a linked call's Patient carries."""
    return Case.objects.create(
        hospital_reference="H-SI-1",
        nhs_number=NHS_NUMBER,
        referring_clinician="Dr Okafor",
        question="Next line after lanreotide?",
        profile={"primary_site": "small_intestine", "differentiation": "well"},
        created_by=clinician,
        updated_by=clinician,
    )


def other_key(curve: ec.EllipticCurve | None = None) -> Any:
    return ec.generate_private_key(curve or ec.SECP384R1())


# --- local HTTP servers (a JWK Set URL, an EHR's FHIR server) ------------------------------------

Server = TypeVar("Server", bound=http.server.ThreadingHTTPServer)


class JsonHandler(http.server.BaseHTTPRequestHandler):
    """The tests' local servers answer JSON and log nothing."""

    def send_json(self, status: int, body: Any, content_type: str = "application/json") -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serving(server: Server) -> Iterator[Server]:
    """A real HTTP server on 127.0.0.1 (port 0: any free one), serving from a thread until the end."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# --- what every answer must respect (CDS Hooks 2.0 §Card Attributes, §Use of JSON) ----------------


def empty_elements(value: Any, path: str = "") -> list[str]:
    """Paths of null or empty elements (§Use of JSON: none, except an empty `cards`)."""
    found = []
    if value is None or value in ("", [], {}):
        return [path or "(root)"]
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "cards" and item == []:
                continue
            found += empty_elements(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += empty_elements(item, f"{path}[{index}]")
    return found


def card_problems(body: dict[str, Any]) -> list[str]:
    """Every rule a card of NETcare's must keep: the specification's and the cds-resp invariants."""
    problems = empty_elements(body)
    for index, card in enumerate(body["cards"]):
        where = f"card {index}"
        if not card.get("uuid"):
            problems.append(f"{where}: no uuid")
        if len(card.get("summary", "")) >= 140:
            problems.append(f"{where}: summary of {len(card['summary'])} characters")
        if card.get("indicator") not in ("info", "warning", "critical"):
            problems.append(f"{where}: indicator {card.get('indicator')}")
        if not card.get("source", {}).get("label"):
            problems.append(f"{where}: no source label")
        suggestions = card.get("suggestions", [])
        if suggestions and not card.get("selectionBehavior"):
            problems.append(f"{where}: suggestions without selectionBehavior (cds-resp-6)")
        if (
            card.get("selectionBehavior") == "at-most-one"
            and sum(1 for s in suggestions if s.get("isRecommended")) > 1
        ):
            problems.append(f"{where}: more than one recommended (cds-resp-1)")
        for suggestion in suggestions:
            if not suggestion.get("uuid"):
                problems.append(f"{where}: suggestion without uuid")
            for action in suggestion.get("actions", []):
                if not action.get("description"):
                    problems.append(f"{where}: action without description (cds-resp-5)")
        for reason in card.get("overrideReasons", []):
            if not reason.get("display"):
                problems.append(f"{where}: override reason without display (cds-resp-4)")
        for link in card.get("links", []):
            if link.get("type") not in ("absolute", "smart") or not link.get("url") or not link.get("label"):
                problems.append(f"{where}: bad link {link}")
            if "appContext" in link and link["type"] != "smart":
                problems.append(f"{where}: appContext on a non-smart link (cds-resp-3)")
    return problems
