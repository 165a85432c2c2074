"""Two real gunicorn processes (one worker each, two ports) on one database and one Redis share
what must be shared: the API throttle, the login lockout, token revocation and the rule set in force.

Each test speaks for its own client address through X-Forwarded-For (the processes trust this
host as their proxy), so the tests' counts do not mix. Nothing is sent anywhere but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import User

from tests.conftest import KNOWLEDGE_BASE, PASSWORD, ROOT, delete_redis_keys, make_user, redis_url_or_skip
from tests.test_scale_tasks import _database_url
from treatments.models import ApiToken
from treatments.services.tokens import token_issue

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ANON_LIMIT = 5
LOGIN_FAILURES = 3


@dataclass
class Gunicorn:
    url: str
    process: subprocess.Popen[str]
    log: Path


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def server_user(username: str, *roles: str, **extra: object) -> User:
    """A user whose password the servers can check: they hash with the production hasher, the
    tests' own settings with a fast one the servers do not know."""
    user = make_user(username, *roles, **extra)
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    user.save(update_fields=["password"])
    return user


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(environment: dict[str, str], log: Path) -> Gunicorn:
    port = free_port()
    env = {**environment, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "netcare.wsgi:application"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, text=True
    )
    return Gunicorn(f"http://127.0.0.1:{port}", process, log)


def wait_until_serving(server: Gunicorn) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.process.poll() is None, server.log.read_text()
        try:
            with urllib.request.urlopen(server.url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("gunicorn did not answer /healthz within 60 s:\n" + server.log.read_text())


@contextlib.contextmanager
def running_pair(logs: Path, **overrides: str) -> Iterator[tuple[Gunicorn, Gunicorn]]:
    redis_url = redis_url_or_skip()
    prefix = f"netcare-test-{uuid.uuid4().hex[:12]}"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "netcare.settings",
        "NETCARE_ENV_FILE": "",
        # Pages from the apps' static folders: this checkout has no collectstatic manifest.
        "DEBUG": "true",
        "LOG_FORMAT": "json",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": prefix,
        "WEB_CONCURRENCY": "1",
        "NETCARE_TRUSTED_PROXIES": "127.0.0.1",
        "API_THROTTLE_ANON": f"{ANON_LIMIT}/hour",
        "API_THROTTLE_USER": "100000/min",
        "NETCARE_LOGIN_FAILURES": str(LOGIN_FAILURES),
        "NETCARE_LOGIN_FAILURES_PER_ADDRESS": "1000",
        # Only the broadcast can explain a new rule set being seen at once.
        "NETCARE_RULESET_RECHECK_SECONDS": "3600",
        # The token cache is on: the revocation test shows the shared cache makes it instant.
        "TOKEN_CACHE_SECONDS": "30",
        **overrides,
    }
    servers = (start(environment, logs / "a.log"), start(environment, logs / "b.log"))
    try:
        for server in servers:
            wait_until_serving(server)
        yield servers
    finally:
        for server in servers:
            server.process.send_signal(signal.SIGTERM)
        for server in servers:
            server.process.wait(timeout=30)
        delete_redis_keys(redis_url, prefix)


@pytest.fixture(scope="module")
def pair(
    tmp_path_factory: pytest.TempPathFactory, django_db_setup: None
) -> Iterator[tuple[Gunicorn, Gunicorn]]:
    with running_pair(tmp_path_factory.mktemp("gunicorn")) as servers:
        yield servers


def call(
    server: Gunicorn, method: str, path: str, *, body: Any = None, address: str, token: str = ""
) -> Answer:
    headers = {"X-Forwarded-For": address, "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, dict(response.headers), json.loads(response.read() or b"null"))
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), json.loads(error.read() or b"null"))


def wait_for_a_fresh_window(period: int = 3600, margin: int = 30) -> None:
    # The throttle counts in fixed windows: do not start a count just before one ends.
    left = period - time.time() % period
    if left < margin:
        time.sleep(left + 0.5)


def test_the_anonymous_api_limit_is_reached_by_requests_alternating_between_the_processes(
    pair: tuple[Gunicorn, Gunicorn],
) -> None:
    wait_for_a_fresh_window()
    a, b = pair
    statuses = [
        call((a, b)[n % 2], "POST", "/api/v1/auth/token/", body={}, address="10.77.0.1").status
        for n in range(ANON_LIMIT + 2)
    ]

    # Each process alone has seen at most 4 requests: only a shared count reaches the limit of 5.
    assert statuses == [400] * ANON_LIMIT + [429, 429], statuses


def test_a_login_lockout_reached_on_both_processes_holds_on_both(pair: tuple[Gunicorn, Gunicorn]) -> None:
    a, b = pair
    server_user("locked-out-clinician", "clinician")
    wrong = {"username": "locked-out-clinician", "password": "not-the-password"}
    right = {"username": "locked-out-clinician", "password": PASSWORD}

    failures = [
        call((a, b)[n % 2], "POST", "/api/v1/auth/token/", body=wrong, address="10.77.0.2") for n in range(3)
    ]
    assert [f.status for f in failures] == [401, 401, 401]

    on_a = call(a, "POST", "/api/v1/auth/token/", body=right, address="10.77.0.2")
    on_b = call(b, "POST", "/api/v1/auth/token/", body=right, address="10.77.0.2")
    elsewhere = call(b, "POST", "/api/v1/auth/token/", body=right, address="10.77.0.3")
    assert (on_a.status, on_b.status) == (429, 429)
    assert int(on_b.headers["Retry-After"]) > 0
    assert elsewhere.status == 200  # the lockout is for that username from that address


# --- token revocation ---------------------------------------------------------------------------------


def revocation_is_seen_at_once(pair: tuple[Gunicorn, Gunicorn]) -> None:
    a, b = pair
    owner = server_user("revoked-coordinator", "coordinator")
    token, secret = token_issue(user=owner, client="two processes")
    # Both processes have now checked, and cached, the token.
    assert call(a, "GET", "/api/v2/cases/", address="10.77.0.4", token=secret).status == 200
    assert call(b, "GET", "/api/v2/cases/", address="10.77.0.4", token=secret).status == 200

    # The client revokes its token through process A (DELETE /api/v2/auth/token/).
    assert call(a, "DELETE", "/api/v2/auth/token/", address="10.77.0.4", token=secret).status == 204

    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert call(b, "GET", "/api/v2/cases/", address="10.77.0.4", token=secret).status == 401
    assert call(a, "GET", "/api/v2/cases/", address="10.77.0.4", token=secret).status == 401


def test_a_token_revoked_through_one_process_is_refused_at_once_by_the_other(
    pair: tuple[Gunicorn, Gunicorn],
) -> None:
    # The token cache is on (TOKEN_CACHE_SECONDS=30): the revocation deletes the shared entry (F10).
    revocation_is_seen_at_once(pair)


# --- the rule-set broadcast and the logs -----------------------------------------------------------


def test_a_rule_set_published_elsewhere_is_in_force_on_both_processes_at_their_next_request(
    pair: tuple[Gunicorn, Gunicorn], tmp_path: Path
) -> None:
    a, b = pair
    key = token_issue(user=make_user("broadcast-clinician", "clinician"), client="broadcast")[1]

    def version(server: Gunicorn) -> str:
        return str(
            call(server, "GET", "/api/v2/rulesets/current/", address="10.77.0.5", token=key).body["version"]
        )

    before = {version(a), version(b)}
    content = yaml.safe_load(KNOWLEDGE_BASE.read_text(encoding="utf-8"))
    content["version"] = "7.7.7"
    revised = tmp_path / "knowledge_base.yaml"
    revised.write_text(yaml.safe_dump(content), encoding="utf-8")
    # A third process publishes, as an operator would, announcing it in the shared cache.
    publish = subprocess.run(
        [sys.executable, "manage.py", "load_knowledge_base", "--file", str(revised), "--no-approval"],
        cwd=ROOT,
        env={**os.environ, **pair_environment(a), "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert publish.returncode == 0, publish.stderr

    assert before != {"7.7.7"}
    assert (version(a), version(b)) == ("7.7.7", "7.7.7")


def pair_environment(server: Gunicorn) -> dict[str, str]:
    """The settings the pair runs with, read back from its process (so the publisher matches it)."""
    names = (
        "DJANGO_SETTINGS_MODULE",
        "NETCARE_ENV_FILE",
        "DEBUG",
        "DATABASE_URL",
        "REDIS_URL",
        "CACHE_KEY_PREFIX",
    )
    environ = Path(f"/proc/{server.process.pid}/environ").read_bytes().split(b"\0")
    pairs = dict(item.decode().split("=", 1) for item in environ if b"=" in item)
    return {name: pairs[name] for name in names}


def test_every_line_the_processes_log_is_json_and_requests_carry_their_id(
    pair: tuple[Gunicorn, Gunicorn],
) -> None:
    a, _ = pair
    answer = call(a, "GET", "/readyz", address="10.77.0.6")
    assert answer.status == 200, answer.body
    assert answer.body["checks"]["cache"] == "ok"

    time.sleep(0.5)  # the line is written after the response
    lines = [json.loads(line) for line in a.log.read_text().splitlines() if line.strip()]
    ours = [line for line in lines if line.get("request_id") == answer.headers["X-Request-ID"]]
    assert [(line["path"], line["status"]) for line in ours] == [("/readyz", 200)]
    assert not re.search(r"Traceback", a.log.read_text())
