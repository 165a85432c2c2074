"""load_knowledge_base refuses cleanly, exit code 2, where it used to print a traceback (security
review F12): a deeply nested file, and a second load publishing the same version on an empty
database at the same moment as another."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, connections, transaction

from tests.concurrency import backends_waiting_for_a_lock
from tests.conftest import ROOT
from treatments.models import AuditEvent, Modality, Rule, RuleSet
from treatments.rules.document import load_file
from treatments.services import ruleset_publish


def _manage(*args: str, database_url: str = "sqlite:///:memory:") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "netcare.settings",
        "DEBUG": "true",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("text", "problem"), [("[" * 5000, "nested too deeply"), ("a: " + "[" * 5000, "nested")]
)
def test_a_deeply_nested_file_is_a_problem_found_not_a_traceback(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(text, encoding="utf-8")

    done = _manage("load_knowledge_base", "--check", "--file", str(path))

    assert done.returncode == 2, done.stderr
    assert problem in done.stderr
    assert "1 problem(s) found; nothing was loaded." in done.stderr
    assert "Traceback" not in done.stderr and "RecursionError" not in done.stderr


def _empty_knowledge_tables() -> None:
    # Raw SQL with the immutability triggers off for this transaction, as tests/conftest.py's
    # no_knowledge_base does: the models and the triggers refuse, rightly, in the application.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        for model in (Rule, Modality, RuleSet, AuditEvent):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


@pytest.mark.django_db(transaction=True)
def test_the_second_of_two_loads_on_an_empty_database_exits_2_with_a_message() -> None:
    """Deterministic on PostgreSQL: one load has inserted the version and not committed when the
    command's insert arrives; it waits on the unique index and fails once the first commits."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers: the second load waits and finds nothing to do")
    _empty_knowledge_tables()
    inserted, commit = threading.Event(), threading.Event()

    def first_load() -> None:
        try:
            with transaction.atomic():
                ruleset_publish(knowledge_base=load_file(ROOT / "fixtures" / "knowledge_base.yaml"))
                inserted.set()
                commit.wait(60)
        finally:
            connections.close_all()

    loader = threading.Thread(target=first_load)
    loader.start()
    assert inserted.wait(30)
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT'] or 5432}/{settings['NAME']}"
    second: dict[str, subprocess.CompletedProcess[str]] = {}
    command = threading.Thread(
        target=lambda: second.update(done=_manage("load_knowledge_base", "--no-approval", database_url=url))
    )
    command.start()
    deadline = time.monotonic() + 60
    while backends_waiting_for_a_lock() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    commit.set()
    loader.join(60)
    command.join(120)

    done = second["done"]
    assert done.returncode == 2, done.stderr
    assert "another load published version" in done.stderr
    assert "Traceback" not in done.stderr and "IntegrityError" not in done.stderr
    assert RuleSet.objects.count() == 1
    assert AuditEvent.objects.filter(action="ruleset.publish").count() == 1
