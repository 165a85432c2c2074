"""The CDS service over real HTTP, as a person tries it after `make run` (README, "CDS Hooks"): keys
made with tools/cds_client.py, the client registered with `manage.py cds_client add`, gunicorn
serving, then tools/cds_client.py calling discovery, patient-view for each example bundle and
feedback, and the curl line it prints run as printed. Every process is real; nothing leaves
127.0.0.1."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_scale_gunicorn import Gunicorn, free_port, wait_until_serving
from tests.test_scale_tasks import _database_url
from treatments.models import CardFeedback, CdsClient, HookEvaluation

pytestmark = pytest.mark.django_db(transaction=True)

ISS = "https://ehr.example.org/dev"
TOOL = str(ROOT / "tools" / "cds_client.py")
EXAMPLES = ("ex-si-net-g2.json", "ex-panc-nec-g3.json", "ex-sparse.json")


def _environment(base_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "netcare.settings",
        "NETCARE_ENV_FILE": "",
        "DEBUG": "true",  # static files from the apps, as `make run` serves them
        "SECRET_KEY": "insecure-test-only",
        "DATABASE_URL": _database_url(),
        "CDS_HOOKS_BASE_URL": base_url,
        "WEB_CONCURRENCY": "2",
    }


def _run(*command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Gunicorn]:
    port = free_port()
    base = f"http://127.0.0.1:{port}/cds-hooks"
    env = {**_environment(base), "GUNICORN_BIND": f"127.0.0.1:{port}"}
    log = tmp_path / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "netcare.wsgi:application"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    running = Gunicorn(f"http://127.0.0.1:{port}", process, log)  # type: ignore[arg-type]
    try:
        wait_until_serving(running)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_the_test_client_talks_to_a_running_server_from_keys_to_feedback(
    server: Gunicorn, tmp_path: Path
) -> None:
    base = server.url + "/cds-hooks"
    env = _environment(base)

    keys = _run(sys.executable, TOOL, "keys", "--dir", str(tmp_path / "cds"), env=env)
    assert keys.returncode == 0, keys.stderr
    added = _run(
        sys.executable, "manage.py", "cds_client", "add", "--iss", ISS,
        "--jwks-file", str(tmp_path / "cds" / "jwks.json"), "--alg", "ES384", env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert CdsClient.objects.get(iss=ISS).allowed_algs == ["ES384"]

    key = str(tmp_path / "cds" / "client.pem")
    # The spec's three example bundles (fixtures/fhir holds one more per coded 1.2 fact).
    examples = [str(ROOT / "fixtures" / "fhir" / name) for name in EXAMPLES]
    run = _run(sys.executable, TOOL, "run", "--base", base, "--iss", ISS, "--key", key, *examples, env=env)

    assert run.returncode == 0, run.stdout + run.stderr + server.log.read_text()
    assert "discovery: 200 ['netcare-net-options']" in run.stdout
    for name in EXAMPLES:
        assert f"{name}: 200" in run.stdout
    assert "too little structured data" in run.stdout
    assert run.stdout.count("feedback on") == 2
    assert HookEvaluation.objects.count() == 3
    assert CardFeedback.objects.count() == 4  # accepted and overridden, on bundles 1 and 2


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_curl_line_it_prints_runs_as_printed(server: Gunicorn, tmp_path: Path) -> None:
    base = server.url + "/cds-hooks"
    env = _environment(base)
    _run(sys.executable, TOOL, "keys", "--dir", str(tmp_path), env=env)
    jwks, key = str(tmp_path / "jwks.json"), str(tmp_path / "client.pem")
    _run(sys.executable, "manage.py", "cds_client", "add", "--iss", ISS, "--jwks-file", jwks, env=env)

    line = _run(
        sys.executable, TOOL, "curl", "--base", base, "--iss", ISS, "--key", key, env=env
    ).stdout.strip()
    answer = subprocess.run(shlex.split(line), capture_output=True, text=True, timeout=30)

    assert line.startswith("curl ")
    assert '"id":"netcare-net-options"' in answer.stdout
    again = subprocess.run(shlex.split(line), capture_output=True, text=True, timeout=30)
    assert "Authentication failed" in again.stdout  # the same JWT again is a replay


def test_the_tool_exits_2_on_a_missing_key_file(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, TOOL, "run", "--iss", ISS, "--key", str(tmp_path / "none.pem")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 2
    assert "no such file" in result.stderr
