"""Transport and browser hardening on real responses (security review F14): HSTS, the HTTPS redirect
(health checks exempt), X-Forwarded-Proto believed only behind a configured proxy, session cookies
that are Secure, HttpOnly and short-lived, and a Content-Security-Policy without inline script."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from netcare.middleware import CONTENT_SECURITY_POLICY, HTMX_INDICATOR_STYLE
from tests.conftest import PASSWORD
from tests.pages.conftest import logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def production_policy(settings: Any) -> None:
    """The policy as in production (the test settings allow the browser tests' injected axe-core)."""
    settings.NETCARE_CSP_EXTRA_SCRIPT_SRC = []


@pytest.fixture
def https_settings(settings: Any) -> Any:
    """What netcare/settings.py gives with DEBUG off (the test settings turn the redirect off)."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    return settings


def test_https_responses_carry_hsts_for_a_year_with_subdomains(https_settings: Any) -> None:
    response = Client().get("/login/", secure=True)

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_plain_http_is_redirected_to_https_except_the_health_checks(
    https_settings: Any, published: object
) -> None:
    client = Client()

    login = client.get("/login/?next=/cases/")

    assert login.status_code == 301 and login["Location"] == "https://testserver/login/?next=/cases/"
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_x_forwarded_proto_is_believed_only_when_a_trusted_proxy_is_configured(https_settings: Any) -> None:
    claimed = Client().get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert claimed.status_code == 301, "without a proxy, a client cannot claim HTTPS"

    https_settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxied = Client().get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200 and "Strict-Transport-Security" in proxied


def test_the_session_cookie_is_secure_httponly_and_ends_with_the_browser(
    https_settings: Any, clinician: User
) -> None:
    client = Client()
    client.get("/login/", secure=True)

    response = client.post("/login/", {"username": clinician.username, "password": PASSWORD}, secure=True)

    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["max-age"] == "" and cookie["expires"] == "", "a browser-session cookie"
    assert client.session.get_expiry_age() == 8 * 60 * 60


def test_a_session_can_outlive_the_browser_when_configured_but_not_a_working_day(
    https_settings: Any, clinician: User
) -> None:
    https_settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = False
    client = Client()

    response = client.post("/login/", {"username": clinician.username, "password": PASSWORD}, secure=True)

    assert response.cookies["sessionid"]["max-age"] == 28800


def _inline_code(html: str) -> list[str]:
    scripts = [match for match in re.findall(r"<script\b([^>]*)>", html) if "src=" not in match]
    styles = re.findall(r"<style\b|\sstyle=\"|\son[a-z]+=\"", html)
    return scripts + styles


def test_pages_carry_a_content_security_policy_without_inline_script_and_need_none(
    clinician: User, published: object
) -> None:
    client = logged_in(clinician)
    policy = CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy

    for url in ("/login/", "/", "/catalogue/", "/check/", "/cases/", "/meetings/"):
        response = (Client() if url == "/login/" else client).get(url)
        assert response.status_code == 200, url
        assert response["Content-Security-Policy"] == policy, url
        assert _inline_code(response.content.decode()) == [], url


def test_the_admin_and_the_api_carry_the_policy_too(admin_user: User, published: object) -> None:
    client = logged_in(admin_user)

    admin_page = client.get("/admin/")
    api = client.get("/api/v1/modalities/")

    assert admin_page["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert _inline_code(admin_page.content.decode()) == []
    assert api.status_code == 200 and api["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_only_the_api_docs_page_may_run_its_own_inline_start_up_script(db: None) -> None:
    response = Client().get("/api/docs/")

    assert response.status_code == 200
    assert "script-src 'self' 'unsafe-inline'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_the_one_inline_style_htmx_adds_is_allowed_by_its_hash() -> None:
    import base64
    import hashlib
    from pathlib import Path

    import django_htmx

    htmx = (Path(django_htmx.__file__).parent / "static/django_htmx/htmx-2.min.js").read_text()
    assert "{opacity:0;visibility: hidden} " in htmx and "transition: opacity 200ms ease-in}" in htmx
    digest = base64.b64encode(hashlib.sha256(HTMX_INDICATOR_STYLE.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in CONTENT_SECURITY_POLICY
