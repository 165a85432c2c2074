"""Chunked request bodies (security review F17): under WSGI a body without Content-Length reads as
empty, so a valid profile sent chunked was answered "profile is required". Such requests are
refused with 411 Length Required (the API in its error shape), never taken as empty. Tested through
Django's WSGI handler and over a real socket to the live server."""

from __future__ import annotations

import io
import json
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections

from treatments.services.tokens import token_issue

BODY = json.dumps({"profile": {"primary_site": "pancreas", "disease_status": "progressive"}}).encode()


def _chunked(body: bytes) -> bytes:
    return f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"


def _call(environ: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured["status"], captured["headers"] = int(status.split()[0]), dict(headers)

    # As Django's test client does: keep the test's database connection open across the request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(WSGIHandler()(environ, start_response))  # type: ignore[arg-type]
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return captured["status"], captured["headers"], body


def _environ(path: str, token: str, **extra: Any) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "HTTP_AUTHORIZATION": f"Token {token}",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(_chunked(BODY)),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        **extra,
    }


@pytest.mark.django_db
def test_a_chunked_api_body_is_refused_with_411_in_the_error_shape(
    clinician: User, published: object
) -> None:
    token = token_issue(user=clinician, client="tests")[1]

    for path in ("/api/v1/eligibility/", "/api/v1/cases/"):
        status, headers, body = _call(_environ(path, token))

        assert status == 411, body
        assert headers["Content-Type"] == "application/json"
        assert json.loads(body) == {
            "detail": "Send the body with a Content-Length header; chunked request bodies are not accepted.",
            "errors": [],
        }


@pytest.mark.django_db
def test_a_chunked_page_form_is_refused_with_411_too(clinician: User, published: object) -> None:
    status, _, body = _call(
        _environ("/login/", "", CONTENT_TYPE="application/x-www-form-urlencoded", HTTP_AUTHORIZATION="")
    )

    assert status == 411 and b"Content-Length" in body


@pytest.mark.django_db
def test_the_same_body_with_a_content_length_is_answered(clinician: User, published: object) -> None:
    token = token_issue(user=clinician, client="tests")[1]
    environ = _environ("/api/v1/eligibility/", token, CONTENT_LENGTH=str(len(BODY)))
    del environ["HTTP_TRANSFER_ENCODING"]
    environ["wsgi.input"] = io.BytesIO(BODY)

    status, _, body = _call(environ)

    assert status == 200, body
    assert json.loads(body)["options"]  # answered in full, as without the chunked encoding


def test_over_a_real_socket_a_chunked_request_gets_411_and_the_connection_is_closed(
    live_server: Any, clinician: User, published: object
) -> None:
    token = token_issue(user=clinician, client="tests")[1]
    address = urlsplit(live_server.url)
    request = (
        b"POST /api/v1/eligibility/ HTTP/1.1\r\n"
        + f"Host: {address.hostname}\r\nAuthorization: Token {token}\r\n".encode()
        + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + _chunked(BODY)
    )

    with socket.create_connection((address.hostname, address.port), timeout=30) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 411"), head
    assert json.loads(body)["detail"].startswith("Send the body with a Content-Length header")
