"""Login throttling (security review F4): failed logins are counted per username and client address
in Django's cache; past the limit the login page, the admin login and the API token endpoint answer
429 with Retry-After, even with the right password, and a client cannot reset its count by sending a
new X-Forwarded-For: that header is believed only from the configured proxies. Tested over HTTP
with Django's test client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from tests.conftest import PASSWORD, make_user
from treatments import roles

pytestmark = pytest.mark.django_db

LOGIN = "/login/"
TOKEN = "/api/v1/auth/token/"


@pytest.fixture(autouse=True)
def limits(settings: Any) -> Iterator[Any]:
    cache.clear()  # the counters of other tests
    settings.NETCARE_LOGIN_FAILURES = 5
    settings.NETCARE_LOGIN_FAILURES_PER_ADDRESS = 12
    settings.NETCARE_LOGIN_LOCKOUT_SECONDS = 900
    yield settings
    cache.clear()


@pytest.fixture
def nurse(db: None) -> User:
    return make_user("nurse_lee", roles.COORDINATOR)


def page_login(client: Client, username: str, password: str, **headers: Any) -> Any:
    return client.post(LOGIN, {"username": username, "password": password}, **headers)


def api_login(client: Client, username: str, password: str, **headers: Any) -> Any:
    body = {"username": username, "password": password}
    return client.post(TOKEN, body, content_type="application/json", **headers)


def test_after_five_failed_logins_the_page_answers_429_even_with_the_right_password(nurse: User) -> None:
    client = Client()
    for attempt in range(5):
        assert page_login(client, "nurse_lee", f"wrong-{attempt}").status_code == 200  # the form again

    locked = page_login(client, "nurse_lee", PASSWORD)

    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= 900
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session, "not logged in"


def test_a_new_x_forwarded_for_per_attempt_does_not_reset_the_count_without_a_trusted_proxy(
    nurse: User,
) -> None:
    client = Client()
    for attempt in range(5):
        page_login(client, "nurse_lee", "wrong", HTTP_X_FORWARDED_FOR=f"10.9.0.{attempt}")

    locked = page_login(client, "nurse_lee", PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9")

    assert locked.status_code == 429


def test_the_api_token_endpoint_and_the_admin_login_share_the_lockout(nurse: User) -> None:
    client = Client()
    for attempt in range(5):
        response = api_login(client, "nurse_lee", "wrong", HTTP_X_FORWARDED_FOR=f"10.8.0.{attempt}")
        assert response.status_code == 401

    token = api_login(client, "nurse_lee", PASSWORD)
    admin = client.post("/admin/login/", {"username": "nurse_lee", "password": PASSWORD})

    assert token.status_code == 429 and int(token["Retry-After"]) > 0
    assert token.json()["detail"].startswith("Too many failed logins") and token.json()["errors"] == []
    assert admin.status_code == 429


def test_the_lockout_is_per_username_and_address_so_the_user_can_log_in_elsewhere(
    nurse: User, limits: Any
) -> None:
    limits.NETCARE_TRUSTED_PROXIES = ["127.0.0.1"]
    attacker = {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    for _ in range(5):
        page_login(Client(), "nurse_lee", "wrong", **attacker)

    from_ward = page_login(Client(), "nurse_lee", PASSWORD, HTTP_X_FORWARDED_FOR="10.1.2.3")
    spoofed = page_login(Client(), "nurse_lee", PASSWORD, HTTP_X_FORWARDED_FOR="10.1.2.3, 203.0.113.7")

    assert from_ward.status_code == 302, "another address is not locked out"
    assert spoofed.status_code == 429, "the proxy's last hop is the address, not what the client prepends"


def test_one_address_trying_many_usernames_is_locked_out_too(db: None) -> None:
    client = Client()
    for number in range(12):
        page_login(client, f"user{number}", "Password1!")
    make_user("real_user", roles.CLINICIAN)

    assert page_login(client, "real_user", PASSWORD).status_code == 429


def test_a_successful_login_clears_the_failures_of_that_username_and_address(nurse: User) -> None:
    client = Client()
    for _ in range(4):
        page_login(client, "nurse_lee", "wrong")
    assert page_login(client, "nurse_lee", PASSWORD).status_code == 302
    client.post("/logout/")

    for _ in range(4):
        assert page_login(client, "nurse_lee", "wrong").status_code == 200

    assert page_login(client, "nurse_lee", PASSWORD).status_code == 302


def test_the_anonymous_api_rate_limit_counts_per_address_whatever_x_forwarded_for_says(settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/min", "user": "100000/min"},
    }
    client = Client()

    answers = [
        api_login(client, "nobody", "wrong", HTTP_X_FORWARDED_FOR=f"10.7.0.{n}").status_code for n in range(5)
    ]

    assert answers[:3] == [401, 401, 401] and answers[3:] == [429, 429]
