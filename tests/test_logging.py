"""Structured logs: each request's line is one JSON object with its request id, the id is returned
as X-Request-ID (a trusted proxy's is kept), and no line holds a patient identifier or profile."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError
from django.test import Client

from netcare.logging import JsonFormatter, RequestIdFilter
from tests.api.conftest import client_for
from tests.conftest import ROOT
from tests.personas import SI_NET
from treatments.models import Case

REFERENCE = "ZQLOG-4711"
NHS_NUMBER = "9434765919"
CASE = {
    "hospital_reference": REFERENCE,
    "nhs_number": "943 476 5919",
    "referring_clinician": "Dr Logline",
    "question": "Is PRRT an option?",
    "profile": SI_NET,
}


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything logged at DEBUG and above, formatted as production formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def request_line(stream: io.StringIO, request_id: str) -> dict[str, Any]:
    lines = [r for r in records(stream) if r["logger"] == "netcare.request" and r["request_id"] == request_id]
    assert len(lines) == 1, records(stream)
    return lines[0]


def test_a_request_is_logged_as_one_json_line_with_the_id_it_returns(
    clinician: User, published: Any, log_lines: io.StringIO
) -> None:
    api = client_for(clinician)
    response = api.get_json("/api/v2/rulesets/current/")

    request_id = response["X-Request-ID"]
    line = request_line(log_lines, request_id)
    assert len(request_id) == 32
    assert line["level"] == "INFO" and line["method"] == "GET" and line["status"] == 200
    assert line["path"] == "/api/v2/rulesets/current/"
    assert line["user_id"] == clinician.pk
    assert isinstance(line["duration_ms"], float) and line["time"].endswith("+00:00")
    assert set(line) >= {"time", "level", "logger", "message", "request_id"}


def test_no_log_line_holds_the_hospital_reference_nhs_number_or_profile_of_a_case(
    clinician: User, published: Any, log_lines: io.StringIO
) -> None:
    api = client_for(clinician)
    created = api.post_json("/api/v2/cases/", CASE)
    assert created.status_code == 201, created.json()
    case_id = created.json()["id"]
    duplicate = api.post_json("/api/v2/cases/", CASE)  # refused: the reference is taken
    assert duplicate.status_code == 409
    api.get_json(f"/api/v2/cases/?search={REFERENCE}")
    api.post_json(f"/api/v2/cases/{case_id}/evaluations/", {})
    page = Client()
    page.force_login(clinician)
    page.get(f"/cases/?q={REFERENCE}")
    page.get(f"/cases/{case_id}/")
    page.get(f"/cases/{case_id}/summary.pdf")

    output = log_lines.getvalue()
    assert len(records(log_lines)) >= 7  # every line is JSON
    for secret in (REFERENCE, NHS_NUMBER, "943 476 5919", "Dr Logline", "small_intestine", "ki67"):
        assert secret not in output, secret
    assert Case.objects.filter(hospital_reference=REFERENCE).exists()


def test_an_exception_is_logged_by_type_and_place_never_by_its_message(log_lines: io.StringIO) -> None:
    try:
        raise IntegrityError(f"Failing row contains (14, {REFERENCE}, {NHS_NUMBER})")
    except IntegrityError:
        logging.getLogger("netcare").exception("could not save")

    (line,) = records(log_lines)
    assert line["exception"]["type"] == "django.db.utils.IntegrityError"
    assert "test_logging.py" in line["exception"]["frames"][-1]
    assert REFERENCE not in log_lines.getvalue() and NHS_NUMBER not in log_lines.getvalue()


@pytest.mark.django_db
def test_the_request_id_of_a_trusted_proxy_is_kept_and_anyone_elses_replaced(settings: Any) -> None:
    settings.NETCARE_TRUSTED_PROXIES = ["10.0.0.2"]

    proxied = Client(REMOTE_ADDR="10.0.0.2").get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.01")
    untrusted = Client(REMOTE_ADDR="10.0.0.9").get("/healthz", HTTP_X_REQUEST_ID="chosen-by-client")
    forged = Client(REMOTE_ADDR="10.0.0.2").get("/healthz", HTTP_X_REQUEST_ID='x" \n{"level":"ERROR"}')

    assert proxied["X-Request-ID"] == "lb-7f3a.01"
    assert untrusted["X-Request-ID"] != "chosen-by-client" and len(untrusted["X-Request-ID"]) == 32
    assert len(forged["X-Request-ID"]) == 32


def test_log_format_json_is_the_default_with_debug_off_and_a_bad_value_stops_start_up(tmp_path: Path) -> None:
    code = "import netcare.settings as s; print(s.LOG_FORMAT)"
    env = {k: v for k, v in os.environ.items() if k not in ("LOG_FORMAT", "DEBUG")}
    env.update(NETCARE_ENV_FILE="", SECRET_KEY="a" * 50, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    def run(**extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env={**env, **extra}, capture_output=True, text=True
        )

    assert run().stdout.strip() == "json"
    assert run(DEBUG="true").stdout.strip() == "text"
    assert run(LOG_FORMAT="TEXT").stdout.strip() == "text"
    bad = run(LOG_FORMAT="xml")
    assert bad.returncode != 0 and "LOG_FORMAT='xml' is not a log format" in bad.stderr
