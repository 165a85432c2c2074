"""compose.yaml and the Dockerfile cannot be run here (no Docker): check that they are valid and
that everything they name exists - files, manage.py commands, settings they set."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml
from django.core.management import get_commands

from tests.conftest import ROOT

COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"


def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def manage_commands(command: list[str] | str) -> list[str]:
    words = shlex.split(command) if isinstance(command, str) else command
    return [words[i + 1] for i, word in enumerate(words[:-1]) if word == "manage.py"]


def test_compose_runs_web_worker_postgresql_and_redis_from_this_image() -> None:
    services = compose()["services"]

    assert set(services) == {"web", "worker", "db", "redis"}
    for name in ("web", "worker"):
        assert services[name]["build"] == "." and services[name]["environment"]["REDIS_URL"]
        assert services[name]["environment"]["TASK_BACKEND"] == "database"
        assert set(services[name]["depends_on"]) >= {"db", "redis"}
    assert "readyz" in " ".join(services["web"]["healthcheck"]["test"])


def test_every_manage_py_command_that_compose_and_the_dockerfile_run_exists() -> None:
    worker = compose()["services"]["worker"]["command"]
    docker_cmd = re.search(r'^CMD \["sh", "-c", "(.*)"\]$', DOCKERFILE.read_text(), re.M)
    assert docker_cmd, "the Dockerfile's CMD"
    docker_runs = [line for line in DOCKERFILE.read_text().splitlines() if "python manage.py" in line]
    named = manage_commands(worker) + manage_commands(docker_cmd.group(1).replace("&&", " "))
    named += [command for line in docker_runs for command in manage_commands(line)]

    assert set(named) >= {"task_worker", "migrate", "check", "collectstatic"}
    assert set(named) <= set(get_commands()), set(named) - set(get_commands())
    assert "gunicorn.conf.py" in docker_cmd.group(1)


def test_every_file_the_dockerfile_copies_exists() -> None:
    sources = []
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("COPY "):
            sources += line.split()[1:-1]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source


def test_the_settings_compose_sets_are_ones_netcare_reads() -> None:
    settings_source = (ROOT / "netcare" / "settings.py").read_text() + (ROOT / "gunicorn.conf.py").read_text()
    environment = compose()["x-app"]["environment"]
    for name in environment:
        assert f'"{name}"' in settings_source, name
    assert Path(ROOT / ".dockerignore").read_text().count(".env") >= 1  # no development secrets in the image
