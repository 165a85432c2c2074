"""Backup and restore (security review F16): the clinical record - cases, evaluations, reviews,
meetings, outcomes, the audit trail - lives only in the database. docs/deployment.md section 9 is
the runbook; these tests run it: PostgreSQL with pg_dump and pg_restore into a new database, SQLite
(the embedded default) with sqlite3's online backup API. Each compares every row of the clinical
tables, by checksum, before and after.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.conftest import make_user
from tests.personas import SI_NET
from tests.test_immutability import IMMUTABLE_TABLES
from treatments import roles, services
from treatments.inputs import CaseCreate, MeetingInput, OutcomeInput, ReviewInput

TABLES = [
    "treatments_case",
    "treatments_evaluation",
    "treatments_review",
    "treatments_meeting",
    "treatments_meetingcase",
    "treatments_outcome",
    "treatments_auditevent",
    "treatments_ruleset",
    "treatments_modality",
    "treatments_rule",
    "auth_user",
]
POSTGRES = connection.vendor == "postgresql"


def clinical_record() -> None:
    """A case evaluated, reviewed and decided at a meeting: a row in every clinical table."""
    clinician = make_user("dr_backup", roles.CLINICIAN)
    case = services.case_create(
        actor=clinician,
        data=CaseCreate.model_validate(
            {
                "hospital_reference": "BAK-0001",
                "referring_clinician": "Dr Ada Lovelace",
                "question": "Is PRRT an option? (Ünïcode kept: µmol/L)",
                "profile": SI_NET,
            }
        ),
    )
    evaluation = services.case_evaluate(actor=clinician, case=case)
    review = ReviewInput(decision="accept", reason_code="clinically_appropriate", note="Agreed.")
    services.option_review(actor=clinician, evaluation=evaluation, modality="prrt_lu177", data=review)
    meeting = services.meeting_create(
        actor=clinician, data=MeetingInput(title="NET MDT", date=dt.date(2027, 1, 5))
    )
    services.meeting_add_case(actor=clinician, meeting=meeting, case=case)
    services.outcome_record(
        actor=clinician,
        meeting=meeting,
        case=case,
        data=OutcomeInput(chosen_modalities=["prrt_lu177"], plan="Four cycles of Lu-177 DOTATATE."),
    )


# --- PostgreSQL: pg_dump, then pg_restore into a new database -------------------------------------


def pg_uri(name: str) -> str:
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    return f"postgresql://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def pg_env() -> dict[str, str]:
    password = connection.settings_dict.get("PASSWORD")
    return {**os.environ, **({"PGPASSWORD": password} if password else {})}


def pg_checksums(cursor: Any) -> dict[str, tuple[int, str]]:
    sums = {}
    for table in TABLES:
        cursor.execute(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM {table} t"
        )
        count, digest = cursor.fetchone()
        sums[table] = (count, digest)
    return sums


@pytest.fixture
def restored_database() -> Iterator[str]:
    name = f"{connection.settings_dict['NAME']}_restored"
    env = pg_env()
    subprocess.run(
        ["dropdb", "--if-exists", "--maintenance-db", pg_uri("postgres"), name], check=True, env=env
    )
    subprocess.run(["createdb", "--maintenance-db", pg_uri("postgres"), name], check=True, env=env)
    try:
        yield name
    finally:
        subprocess.run(["dropdb", "--maintenance-db", pg_uri("postgres"), name], check=True, env=env)


@pytest.mark.skipif(not POSTGRES, reason="pg_dump and pg_restore need PostgreSQL (CI runs both databases)")
@pytest.mark.django_db(transaction=True)  # pg_dump reads committed data only
def test_a_pg_dump_restored_into_a_new_database_holds_the_same_clinical_record(
    published: Any, restored_database: str, tmp_path: Path
) -> None:
    import psycopg

    clinical_record()
    dump = tmp_path / "netcare.dump"
    source = pg_uri(connection.settings_dict["NAME"])
    env = pg_env()

    # The runbook's commands (docs/deployment.md section 9).
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", source], check=True, env=env)
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={pg_uri(restored_database)}", str(dump)],
        check=True,
        env=env,
    )

    with connection.cursor() as cursor:
        before = pg_checksums(cursor)
    with psycopg.connect(pg_uri(restored_database), password=env.get("PGPASSWORD")) as restored:
        after = pg_checksums(restored.cursor())
        triggers = restored.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'netcare_%'"
        ).fetchone()
    assert all(count > 0 for count, _ in before.values()), before
    assert after == before
    assert triggers == (len(IMMUTABLE_TABLES),)  # the restored database refuses rewrites as the original


# --- SQLite: the online backup API ---------------------------------------------------------------


def sqlite_checksums(db: sqlite3.Connection) -> dict[str, tuple[int, str]]:
    sums = {}
    for table in TABLES:
        rows = db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
        sums[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return sums


@pytest.mark.skipif(POSTGRES, reason="the SQLite path is for the embedded default database")
@pytest.mark.django_db(transaction=True)
def test_an_sqlite_online_backup_restores_the_same_clinical_record(published: Any, tmp_path: Path) -> None:
    clinical_record()
    live = Path(connection.settings_dict["NAME"])
    backup, restored = tmp_path / "netcare-backup.sqlite3", tmp_path / "db.sqlite3"

    # Back up while the application may be running (sqlite3's online backup: a consistent copy).
    with sqlite3.connect(live) as source, sqlite3.connect(backup) as target:
        source.backup(target)
    # Restore: with the application stopped, the backup becomes the database file.
    shutil.copyfile(backup, restored)

    with sqlite3.connect(live) as source, sqlite3.connect(restored) as copy:
        before, after = sqlite_checksums(source), sqlite_checksums(copy)
        # The check constraints use REGEXP, which Django (not SQLite) provides.
        copy.create_function("REGEXP", 2, lambda pattern, value: re.search(pattern, value or "") is not None)
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        triggers = copy.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'").fetchone()
    assert all(count > 0 for count, _ in before.values()), before
    assert after == before
    assert triggers == (len(IMMUTABLE_TABLES),)


@pytest.mark.skipif(POSTGRES or shutil.which("sqlite3") is None, reason="SQLite with the sqlite3 shell")
@pytest.mark.django_db(transaction=True)
def test_the_sqlite3_shell_backup_command_of_the_runbook_works(published: Any, tmp_path: Path) -> None:
    clinical_record()
    backup = tmp_path / "netcare-backup.sqlite3"

    subprocess.run(["sqlite3", connection.settings_dict["NAME"], f".backup '{backup}'"], check=True)

    with sqlite3.connect(connection.settings_dict["NAME"]) as source, sqlite3.connect(backup) as copy:
        assert sqlite_checksums(copy) == sqlite_checksums(source)
