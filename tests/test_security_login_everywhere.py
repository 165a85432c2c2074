"""Everything is behind login except the login page, the health checks, the public API documents
and the CDS Hooks endpoints (which need a signed JWT instead): every URL pattern of the project is
called anonymously and must refuse, redirect to the login page, or be on the short public list."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# Open to anyone, on purpose: login and logout, liveness and readiness, the API's documents (no data).
PUBLIC = {"/login/", "/logout/", "/healthz", "/readyz", "/api/schema/", "/api/docs/", "/api/v2/schema/",
          "/api/v2/docs/"}  # fmt: skip
SAMPLES = {"int": "1", "id": "1", "slug": "ssta", "uuid": str(uuid.uuid4()), "str": "x", "path": "x"}


def _paths(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _paths(entry.url_patterns, prefix + _concrete(str(entry.pattern)))
        elif isinstance(entry, URLPattern):
            yield prefix + _concrete(str(entry.pattern))


def _concrete(pattern: str) -> str:
    for converter, sample in SAMPLES.items():
        while f"<{converter}:" in pattern:
            start = pattern.index(f"<{converter}:")
            pattern = pattern[:start] + sample + pattern[pattern.index(">", start) + 1 :]
    return pattern.lstrip("^").rstrip("$").replace("\\", "")


def test_every_url_but_the_public_few_needs_a_login_or_a_cds_jwt(published: Any) -> None:
    open_paths, checked = [], 0
    for path in sorted(set(_paths(get_resolver().url_patterns))):
        url = "/" + path
        if url in PUBLIC or "(?P" in url or ".*" in url or url.startswith("/admin/"):
            continue  # catch-all 404s; the admin has its own login (tests/test_security_admin.py)
        checked += 1
        response = Client().get(url)
        if url.startswith("/cds-hooks/"):
            ok = response.status_code in (401, 405)
        else:
            login = response.status_code == 302 and response["Location"].startswith("/login/")
            ok = login or response.status_code in (401, 403, 404, 405)
        if not ok:
            open_paths.append(f"{url} answered {response.status_code}")

    assert checked > 60
    assert open_paths == []


def test_the_cds_endpoints_answer_401_without_a_jwt(published: Any) -> None:
    client = Client()

    assert client.get("/cds-hooks/cds-services").status_code == 401
    assert (
        client.post(
            "/cds-hooks/cds-services/netcare-net-options", "{}", content_type="application/json"
        ).status_code
        == 401
    )
