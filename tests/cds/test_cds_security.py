"""Who may call the CDS service: each step of the JWT check refuses with a generic 401 (docs/cds-hooks.md,
"Security"), a jku off the allowlist is never fetched, aud is checked against CDS_HOOKS_BASE_URL and
not the Host header, and CORS is open only to configured origins on the CDS paths."""

from __future__ import annotations

import http.server
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.test import Client

from tests.cds.conftest import (
    BASE,
    DISCOVERY,
    ISS,
    KID,
    SERVICE,
    Ehr,
    JsonHandler,
    bundle_call,
    other_key,
    register,
    serving,
)
from tools.cds_client import public_jwks, sign
from treatments.models import AuditEvent, CdsJti

pytestmark = pytest.mark.django_db


def _refused(response: Any) -> None:
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    # A generic answer: the reason is in the log, not in the body (no oracle for an attacker).
    assert body == {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "login", "diagnostics": "Authentication failed."}],
    }


def test_discovery_with_a_valid_es384_jwt_answers_200(ehr: Ehr) -> None:
    assert ehr.get(DISCOVERY).status_code == 200


def test_discovery_without_a_jwt_answers_401(ehr: Ehr) -> None:
    _refused(Client().get(DISCOVERY))


def test_a_valid_rs384_jwt_is_accepted(published: Any) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ehr = Ehr(register(key=key, alg="RS384"), key=key)

    assert ehr.get(DISCOVERY, alg="RS384").status_code == 200


def test_es256_is_accepted_only_for_a_client_that_allows_it(published: Any) -> None:
    key = other_key(ec.SECP256R1())
    sandbox = Ehr(register(key=key, alg="ES256", allowed_algs=["ES256"]), key=key)
    strict = Ehr(register(iss="https://other.example/cds", key=key, alg="ES256"), key=key)

    assert sandbox.get(DISCOVERY, alg="ES256").status_code == 200
    _refused(strict.get(DISCOVERY, alg="ES256"))


def test_an_unsigned_jwt_is_refused(ehr: Ehr) -> None:
    now = int(time.time())
    claims = {"iss": ISS, "aud": BASE + "/cds-services", "exp": now + 60, "iat": now, "jti": "x"}
    token = jwt.encode(claims, None, algorithm="none", headers={"kid": KID, "typ": "JWT"})  # type: ignore[arg-type]

    _refused(ehr.get(DISCOVERY, token=token))


def test_an_hmac_jwt_is_refused(ehr: Ehr) -> None:
    now = int(time.time())
    claims = {"iss": ISS, "aud": BASE + "/cds-services", "exp": now + 60, "iat": now, "jti": "y"}
    secret = b"a-shared-secret-of-thirty-two-bytes!"
    token = jwt.encode(claims, secret, algorithm="HS256", headers={"kid": KID, "typ": "JWT"})

    _refused(ehr.get(DISCOVERY, token=token))


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"aud": "https://elsewhere.example/cds-hooks/cds-services"}, id="wrong aud"),
        pytest.param(
            {"aud": [BASE + "/cds-services/other", "https://x.example"]}, id="aud array without the URL"
        ),
        pytest.param({"aud": BASE + "/cds-services/netcare-net-options"}, id="aud of another endpoint"),
        pytest.param({"exp_in": -40}, id="expired"),
        pytest.param({"iat_in": 40}, id="iat in the future"),
        pytest.param({"lifetime": 301}, id="lifetime over 300 s"),
        pytest.param({"extra_claims": {"jti": None}}, id="jti missing"),
        pytest.param({"iss": "https://unknown.example/cds"}, id="unknown iss"),
        pytest.param({"extra_headers": {"typ": None}}, id="typ missing"),
        pytest.param({"kid": "not-registered"}, id="kid unknown"),
        pytest.param({"key": other_key()}, id="signed by another key"),
    ],
)
def test_each_bad_claim_or_header_is_refused(ehr: Ehr, options: dict[str, Any]) -> None:
    options = dict(options)
    # 10 s past the 30 s leeway: the server reads its clock later than this whole-second one, and a
    # claim 1 s past the leeway was accepted once when the request took its time.
    now = int(time.time())
    if "exp_in" in options:
        options["extra_claims"] = {"exp": now + options.pop("exp_in"), "iat": now - 60}
    if "iat_in" in options:
        options["extra_claims"] = {"iat": now + options.pop("iat_in")}
    token = ehr.token(DISCOVERY, **options)
    if options.get("extra_claims", {}).get("jti", "") is None:
        token = _without(ehr, "jti")
    if "extra_headers" in options:
        token = _without_header(ehr, "typ")

    _refused(ehr.get(DISCOVERY, token=token))


def _without(ehr: Ehr, claim: str) -> str:
    now = int(time.time())
    claims = {"iss": ISS, "aud": BASE + "/cds-services", "exp": now + 60, "iat": now, "jti": "z"}
    del claims[claim]
    return jwt.encode(claims, ehr.key, algorithm="ES384", headers={"kid": KID, "typ": "JWT"})


def _without_header(ehr: Ehr, name: str) -> str:
    now = int(time.time())
    claims = {"iss": ISS, "aud": BASE + "/cds-services", "exp": now + 60, "iat": now, "jti": "w"}
    # PyJWT adds typ itself unless told otherwise: build the header by hand.
    token = jwt.encode(claims, ehr.key, algorithm="ES384", headers={"kid": KID, "typ": None})
    assert "typ" not in jwt.get_unverified_header(token)
    return token


def test_a_replayed_jti_is_refused(ehr: Ehr) -> None:
    token = ehr.token(DISCOVERY)

    assert ehr.get(DISCOVERY, token=token).status_code == 200
    _refused(ehr.get(DISCOVERY, token=token))
    assert CdsJti.objects.filter(iss=ISS).count() == 1


def test_a_disabled_client_is_refused(ehr: Ehr) -> None:
    ehr.client.enabled = False
    ehr.client.save()

    _refused(ehr.get(DISCOVERY))


def test_a_tenant_the_client_does_not_list_is_refused(ehr: Ehr) -> None:
    ehr.client.tenants = ["trust-a"]
    ehr.client.save()

    assert ehr.get(DISCOVERY, extra_claims={"tenant": "trust-a"}).status_code == 200
    _refused(ehr.get(DISCOVERY, extra_claims={"tenant": "trust-b"}))
    _refused(ehr.get(DISCOVERY))


def test_a_key_of_the_wrong_type_for_the_algorithm_is_refused(published: Any) -> None:
    key = other_key(ec.SECP256R1())  # a P-256 key registered for ES384
    jwks = public_jwks(key, KID, "ES256")
    jwks["keys"][0]["alg"] = "ES384"
    ehr = Ehr(register(key=None, jwks=jwks), key=key)

    _refused(ehr.get(DISCOVERY, alg="ES256"))


def test_aud_is_checked_against_the_configured_base_url_not_the_host_header(ehr: Ehr) -> None:
    spoofed = "http://attacker.example/cds-hooks/cds-services"
    token = ehr.token(DISCOVERY, aud=spoofed)

    response = ehr.http.get(DISCOVERY, HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="attacker.example")

    _refused(response)


def test_a_refusal_is_logged_with_its_reason(ehr: Ehr, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="netcare.cds"):
        ehr.get(DISCOVERY, aud="https://elsewhere.example/x")

    assert "InvalidAudienceError" in caplog.text


# --- jku: fetched only from the client's allowlist -----------------------------------------------


class _JwksServer(http.server.ThreadingHTTPServer):
    hits: int = 0
    jwks: dict[str, Any] = {}


class _JwksHandler(JsonHandler):
    server: _JwksServer

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        self.server.hits += 1
        self.send_json(200, self.server.jwks)


@pytest.fixture
def jwks_server() -> Iterator[_JwksServer]:
    """A real HTTP server on 127.0.0.1 that serves a JWK Set and counts every request it gets."""
    with serving(_JwksServer(("127.0.0.1", 0), _JwksHandler)) as server:
        yield server


def _url(server: _JwksServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"


def test_a_jku_on_the_allowlist_is_fetched_and_its_key_used(
    published: Any, jwks_server: _JwksServer, settings: Any
) -> None:
    settings.DEBUG = True  # the test server speaks plain HTTP
    key = other_key()
    jwks_server.jwks = public_jwks(key, "rotated-1")
    ehr = Ehr(register(key=None, jku_allowlist=[_url(jwks_server)]), key=key, kid="rotated-1")

    assert ehr.get(DISCOVERY, jku=_url(jwks_server)).status_code == 200
    assert ehr.get(DISCOVERY, jku=_url(jwks_server)).status_code == 200
    assert jwks_server.hits == 1  # kept for an hour


def test_a_jku_not_on_the_allowlist_is_refused_without_any_request(
    ehr: Ehr, jwks_server: _JwksServer, settings: Any
) -> None:
    settings.DEBUG = True
    jwks_server.jwks = public_jwks(ehr.key, KID)

    _refused(ehr.get(DISCOVERY, jku=_url(jwks_server)))
    assert jwks_server.hits == 0


def test_a_kid_unknown_after_one_refresh_is_refused(
    published: Any, jwks_server: _JwksServer, settings: Any
) -> None:
    settings.DEBUG = True
    key = other_key()
    jwks_server.jwks = public_jwks(key, "rotated-1")
    ehr = Ehr(register(key=None, jku_allowlist=[_url(jwks_server)]), key=key, kid="unknown-kid")

    _refused(ehr.get(DISCOVERY, jku=_url(jwks_server)))
    _refused(ehr.get(DISCOVERY, jku=_url(jwks_server)))
    assert jwks_server.hits == 1  # the forced refresh waits a minute


# --- CORS and the rest -----------------------------------------------------------------------------


def test_a_preflight_from_an_allowed_origin_is_allowed_and_others_are_not(ehr: Ehr, settings: Any) -> None:
    settings.CDS_HOOKS_CORS_ORIGINS = ["https://ehr.example.nhs.uk"]

    def preflight(path: str, origin: str) -> Any:
        return Client().options(path, HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")

    allowed = preflight(SERVICE, "https://ehr.example.nhs.uk")
    other = preflight(SERVICE, "https://evil.example")
    api = preflight("/api/v1/eligibility/", "https://ehr.example.nhs.uk")

    assert allowed.status_code == 204
    assert allowed["Access-Control-Allow-Origin"] == "https://ehr.example.nhs.uk"
    assert "Authorization" in allowed["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in allowed
    assert "Access-Control-Allow-Origin" not in other
    assert "Access-Control-Allow-Origin" not in api


def test_the_cds_endpoints_need_no_login_and_set_no_cookie(ehr: Ehr) -> None:
    response = ehr.post(SERVICE, bundle_call("ex-si-net-g2.json"))

    assert response.status_code == 200
    assert not response.cookies


def test_calls_over_the_client_rate_are_refused_with_429(ehr: Ehr, settings: Any) -> None:
    settings.CDS_HOOKS_THROTTLE = "2/min"

    statuses = [ehr.get(DISCOVERY).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_an_unknown_cds_path_answers_an_operation_outcome(ehr: Ehr) -> None:
    response = Client().get("/cds-hooks/cds-services/unknown")

    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


def test_a_wrong_method_answers_405_with_an_operation_outcome(ehr: Ehr) -> None:
    response = ehr.get(SERVICE)

    assert response.status_code == 405
    assert response.json()["issue"][0]["code"] == "not-supported"


def test_without_a_configured_base_url_the_service_answers_503(ehr: Ehr, settings: Any) -> None:
    settings.CDS_HOOKS_BASE_URL = ""

    response = ehr.get(DISCOVERY)

    assert response.status_code == 503
    assert response.json()["resourceType"] == "OperationOutcome"


def test_every_call_is_audited_without_patient_data(ehr: Ehr) -> None:
    ehr.post(SERVICE, bundle_call("ex-si-net-g2.json"))

    event = AuditEvent.objects.get(action="cds.hook")
    assert event.payload["client"] == ISS
    assert event.payload["cards"] == 3
    assert "pt-si-g2" not in json.dumps(event.payload)


def test_the_signature_helper_signs_what_the_service_accepts() -> None:
    key = other_key()
    token = sign(key, iss="i", aud="a", kid="k")
    header = jwt.get_unverified_header(token)

    assert header == {"alg": "ES384", "kid": "k", "typ": "JWT"}
