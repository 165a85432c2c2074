"""Who may call the API: tokens, sessions, roles, unknown paths and rate limits."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client, override_settings

from tests.conftest import PASSWORD, make_user

from .conftest import ApiClient, client_for

TOKEN = "/api/v1/auth/token/"
ELIGIBILITY = "/api/v1/eligibility/"


def test_a_user_exchanges_username_and_password_for_a_token(anonymous: ApiClient, clinician: User) -> None:
    response = anonymous.post_json(TOKEN, {"username": clinician.username, "password": PASSWORD})

    assert response.status_code == 200
    token = response.json()["token"]
    assert ApiClient(token).post_json(ELIGIBILITY, {"profile": {}}).status_code == 200


def test_each_request_gets_a_new_token_and_both_work(anonymous: ApiClient, clinician: User) -> None:
    # One token per client (security review F5), no longer one shared token per user.
    first = anonymous.post_json(TOKEN, {"username": clinician.username, "password": PASSWORD}).json()
    second = anonymous.post_json(TOKEN, {"username": clinician.username, "password": PASSWORD}).json()

    assert first != second
    for body in (first, second):
        assert ApiClient(body["token"]).post_json(ELIGIBILITY, {"profile": {}}).status_code == 200


@pytest.mark.parametrize(
    "body", [{"username": "dr_hughes", "password": "wrong"}, {"username": "nobody", "password": "x"}]
)
def test_wrong_credentials_get_a_401(anonymous: ApiClient, clinician: User, body: dict[str, Any]) -> None:
    response = anonymous.post_json(TOKEN, body)

    assert response.status_code == 401
    assert response.json()["errors"] == [
        {"loc": ["password"], "msg": "username and password do not match an active user"}
    ]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"username": "dr_hughes"}, ["password"]),
        ({"username": 7, "password": PASSWORD}, ["username"]),
        ({"username": "dr_hughes", "password": PASSWORD, "otp": 1}, ["otp"]),
    ],
)
def test_malformed_credentials_get_a_400_naming_the_field(
    anonymous: ApiClient, clinician: User, body: dict[str, Any], loc: list[str]
) -> None:
    response = anonymous.post_json(TOKEN, body)

    assert response.status_code == 400
    assert loc in [error["loc"] for error in response.json()["errors"]]


def test_an_inactive_user_gets_no_token(anonymous: ApiClient, clinician: User) -> None:
    clinician.is_active = False
    clinician.save()

    response = anonymous.post_json(TOKEN, {"username": clinician.username, "password": PASSWORD})

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", ELIGIBILITY),
        ("post", "/api/v1/eligibility/batch/"),
        ("get", "/api/v1/modalities/"),
        ("get", "/api/v1/modalities/ssta/"),
        ("get", "/api/v1/rulesets/current/"),
    ],
)
def test_every_endpoint_needs_a_login_and_says_so_with_401(
    anonymous: ApiClient, method: str, path: str
) -> None:
    response = anonymous.post_json(path, {}) if method == "post" else anonymous.get_json(path)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Authentication credentials were not provided.", "errors": []}


def test_a_wrong_token_gets_401(anonymous: ApiClient) -> None:
    response = ApiClient("0" * 40).post_json(ELIGIBILITY, {"profile": {}})

    assert response.status_code == 401
    assert response.json()["detail"].startswith("Invalid token")


@pytest.mark.parametrize("role", ["clinician", "coordinator", "rule_author"])
def test_patient_facing_roles_may_check_eligibility(published: Any, role: str) -> None:
    client = client_for(make_user(f"user_{role}", role))

    assert client.post_json(ELIGIBILITY, {"profile": {}}).status_code == 200


@pytest.mark.parametrize("role", ["admin", None])
def test_administrators_and_users_without_a_role_may_not_check_patients(
    published: Any, role: str | None
) -> None:
    user = make_user("someone", *([role] if role else []))
    client = client_for(user)

    response = client.post_json(ELIGIBILITY, {"profile": {}})

    assert response.status_code == 403
    assert "check eligibility" in response.json()["detail"]


def test_every_role_may_read_the_catalogue_but_a_user_without_role_may_not(published: Any) -> None:
    assert client_for(make_user("admin_only", "admin")).get_json("/api/v1/modalities/").status_code == 200
    assert client_for(make_user("no_role")).get_json("/api/v1/modalities/").status_code == 403


def test_a_logged_in_browser_uses_its_session_with_csrf(published: Any, clinician: User) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.get("/login/")  # sets the CSRF cookie, as a real browser's first visit does
    token = browser.cookies["csrftoken"].value
    browser.force_login(clinician)

    without_csrf = browser.post(ELIGIBILITY, {"profile": {}}, content_type="application/json")
    with_csrf = browser.post(
        ELIGIBILITY, {"profile": {}}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )

    assert without_csrf.status_code == 403
    assert with_csrf.status_code == 200


@override_settings(DEBUG=False)
def test_an_unknown_api_path_answers_404_in_the_error_shape(api: ApiClient) -> None:
    response = api.get_json("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json()["errors"] == []
    assert response.json()["detail"].startswith("No API endpoint")


def rates(anon: str, user: str) -> dict[str, Any]:
    return {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": anon, "user": user}}


def test_a_user_over_the_rate_limit_gets_429_with_retry_after(api: ApiClient) -> None:
    with override_settings(REST_FRAMEWORK=rates(anon="100/hour", user="3/hour")):
        statuses = [api.post_json(ELIGIBILITY, {"profile": {}}).status_code for _ in range(4)]
        last = api.post_json(ELIGIBILITY, {"profile": {}})

    assert statuses == [200, 200, 200, 429]
    assert int(last["Retry-After"]) > 0
    assert last.json()["detail"].startswith("Request was throttled")


def test_anonymous_addresses_are_limited_too_which_slows_password_guessing(anonymous: ApiClient) -> None:
    with override_settings(REST_FRAMEWORK=rates(anon="2/hour", user="100/hour")):
        statuses = [
            anonymous.post_json(TOKEN, {"username": "x", "password": "y"}).status_code for _ in range(3)
        ]

    assert statuses == [401, 401, 429]


def test_the_health_check_needs_no_login(client: Client, db: None) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
