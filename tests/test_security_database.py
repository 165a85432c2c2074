"""A database that cannot be reached (security review F8): pages and API answer 503 with
Retry-After, not 500; the API in its error shape; the health checks say so; and the app recovers by
itself once the database is back. The database really is unreachable: the connection is pointed at
a closed port (PostgreSQL) or at a file that cannot be opened (SQLite)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client

from tests.conftest import PASSWORD
from tests.pages.conftest import logged_in
from treatments.services.tokens import token_issue


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once the socket is closed


@pytest.fixture
def database_down(transactional_db: None, tmp_path: Path) -> Iterator[None]:
    connection = connections["default"]
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = str(tmp_path / "no-such-directory" / "netcare.sqlite3")
    else:
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(_closed_port()))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.fixture
def signed_in(transactional_db: None, clinician: User, published: object) -> tuple[Client, str]:
    """A browser session and an API token, made while the database was still there."""
    return logged_in(clinician), token_issue(user=clinician, client="tests")[1]


def _assert_unavailable_page(response: object) -> None:
    assert response.status_code == 503  # type: ignore[attr-defined]
    assert int(response["Retry-After"]) > 0  # type: ignore[index]
    assert "no-store" in response["Cache-Control"]  # type: ignore[index]
    assert "temporarily unavailable" in response.content.decode()  # type: ignore[attr-defined]
    assert "Traceback" not in response.content.decode()  # type: ignore[attr-defined]


def test_pages_answer_503_with_retry_after_when_the_database_is_unreachable(
    signed_in: tuple[Client, str], database_down: None
) -> None:
    session_client, _ = signed_in
    anonymous = Client(raise_request_exception=False)
    session_client.raise_request_exception = False

    _assert_unavailable_page(anonymous.get("/login/"))
    _assert_unavailable_page(anonymous.post("/login/", {"username": "dr_hughes", "password": PASSWORD}))
    for url in ("/", "/cases/", "/catalogue/"):
        _assert_unavailable_page(session_client.get(url))


def test_the_api_answers_503_in_its_error_shape_when_the_database_is_unreachable(
    signed_in: tuple[Client, str], database_down: None
) -> None:
    _, token = signed_in
    client = Client(raise_request_exception=False)

    responses = [
        client.post(
            "/api/v1/auth/token/",
            {"username": "dr_hughes", "password": PASSWORD},
            content_type="application/json",
        ),
        client.get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {token}"),
        client.post(
            "/api/v1/eligibility/",
            {"profile": {"primary_site": "pancreas"}},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {token}",
        ),
    ]

    for response in responses:
        assert response.status_code == 503, response.content
        assert int(response["Retry-After"]) > 0
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "The database is unavailable. Try again shortly.", "errors": []}


def test_healthz_and_readyz_report_the_database_and_the_app_recovers_when_it_is_back(
    signed_in: tuple[Client, str], tmp_path: Path
) -> None:
    session_client, _ = signed_in
    connection = connections["default"]
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["HOST"] = "127.0.0.1"
    connection.settings_dict["PORT"] = str(_closed_port())
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = str(tmp_path / "no-such-directory" / "netcare.sqlite3")
    try:
        health = Client().get("/healthz")
        ready = Client().get("/readyz")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)

    assert health.status_code == 503 and health.json()["database"] == "error"
    assert ready.status_code == 503 and ready["Retry-After"]
    assert ready.json()["checks"]["database"] == "error"
    assert session_client.get("/cases/").status_code == 200, "back without a restart"


def test_postgresql_connections_give_up_after_a_few_seconds_unless_the_url_says_otherwise() -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = "import netcare.settings as s; print(s.DATABASES['default']['OPTIONS'].get('connect_timeout'))"
    environment = {**os.environ, "SECRET_KEY": "k" * 50, "NETCARE_ENV_FILE": ""}
    environment.pop("DATABASE_CONNECT_TIMEOUT", None)

    def timeout(url: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env={**environment, "DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=60,
        )
        return result.stdout.strip() or result.stderr

    assert timeout("postgres://netcare@db.internal:5432/netcare") == "5"
    assert timeout("postgres://netcare@db.internal:5432/netcare?connect_timeout=2") == "2"
