"""The retention purge (`manage.py cds_purge`, interop spec B.9): EHR calls not linked to a case go
after CDS_RETENTION_DAYS with their cards and feedback, linked ones stay with the case, expired JWT
ids go; running it again deletes nothing more; each run is audited; bad arguments exit 2."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from tests.cds.conftest import Ehr
from tests.cds.test_cds_feedback import _cards, _overridden, _prefers
from treatments.models import AuditEvent, CardFeedback, Case, CdsJti, HookCard, HookEvaluation, ReadOnlyError
from treatments.services.cds import cds_purge

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent
LATER = timezone.now() + timedelta(days=91)  # every call made in the test is then past 90 days


def test_unlinked_calls_past_the_retention_go_with_their_cards_and_feedback(ehr: Ehr, case: Case) -> None:
    unlinked = _cards(ehr)
    _cards(ehr, linked=True)
    ehr.feedback([_overridden(unlinked[1], _prefers())])
    assert (HookEvaluation.objects.count(), CardFeedback.objects.count()) == (2, 1)

    counts = cds_purge(actor=None, days=90, now=LATER)

    kept = HookEvaluation.objects.get()
    assert kept.linked_case == case
    assert (counts.hook_evaluations, counts.cards, counts.feedback) == (1, len(unlinked), 1)
    assert not CardFeedback.objects.exists()
    assert set(HookCard.objects.values_list("hook_evaluation", flat=True)) == {kept.pk}
    event = AuditEvent.objects.get(action="cds.retention_purge")
    assert event.payload["hook_evaluations"] == 1
    assert event.payload["days"] == 90


def test_calls_within_the_retention_stay(ehr: Ehr) -> None:
    _cards(ehr)

    counts = cds_purge(actor=None, days=90, now=timezone.now() + timedelta(days=89))

    assert counts.hook_evaluations == 0
    assert HookEvaluation.objects.count() == 1


def test_a_second_run_deletes_nothing_more_and_is_audited_too(ehr: Ehr) -> None:
    _cards(ehr)
    cds_purge(actor=None, days=90, now=LATER)

    again = cds_purge(actor=None, days=90, now=LATER)

    assert (again.hook_evaluations, again.cards, again.feedback, again.jtis) == (0, 0, 0, 0)
    assert AuditEvent.objects.filter(action="cds.retention_purge").count() == 2


def test_a_dry_run_counts_and_deletes_nothing(ehr: Ehr) -> None:
    _cards(ehr)

    counts = cds_purge(actor=None, days=90, now=LATER, dry_run=True)

    assert counts.hook_evaluations == 1
    assert HookEvaluation.objects.count() == 1
    assert not AuditEvent.objects.filter(action="cds.retention_purge").exists()


def test_jwt_ids_a_day_past_their_expiry_go_and_recent_ones_stay(ehr: Ehr) -> None:
    now = datetime.now(UTC)
    CdsJti.objects.create(iss="x", jti="old", expires_at=now - timedelta(days=1, minutes=1))
    CdsJti.objects.create(iss="x", jti="recent", expires_at=now - timedelta(hours=23))

    counts = cds_purge(actor=None, days=90, now=now)

    assert counts.jtis == 1
    assert list(CdsJti.objects.values_list("jti", flat=True)) == ["recent"]


def test_a_call_linked_to_a_case_cannot_be_deleted(ehr: Ehr, case: Case) -> None:
    _cards(ehr, linked=True)
    linked = HookEvaluation.objects.get()

    with pytest.raises(ReadOnlyError):
        linked.delete()
    with pytest.raises(ReadOnlyError):
        HookEvaluation.objects.all().delete()
    assert HookEvaluation.objects.count() == 1


def test_raw_sql_cannot_rewrite_a_call_nor_delete_a_linked_one(ehr: Ehr, case: Case) -> None:
    _cards(ehr, linked=True)
    _cards(ehr)
    linked = HookEvaluation.objects.get(linked_case=case)
    table = connection.ops.quote_name(HookEvaluation._meta.db_table)

    def run(statement: str, *params: str) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)

    with pytest.raises(DatabaseError, match="immutable"):
        run(f"UPDATE {table} SET hook = 'x'")
    if connection.vendor == "postgresql":  # SQLite refuses UPDATE only (migration 0008's reason)
        with pytest.raises(DatabaseError, match="kept with the case"):
            run(f"DELETE FROM {table} WHERE id = %s", linked.pk.hex)
    run(f"DELETE FROM {connection.ops.quote_name(HookCard._meta.db_table)} WHERE hook_evaluation_id <> %s",
        linked.pk.hex)  # fmt: skip
    run(f"DELETE FROM {table} WHERE linked_case_id IS NULL")  # the purge's own delete
    assert list(HookEvaluation.objects.all()) == [linked]


def test_the_command_purges_with_the_days_given(ehr: Ehr, capsys: pytest.CaptureFixture[str]) -> None:
    _cards(ehr)

    call_command("cds_purge", "--days", "1")  # the call is minutes old: kept

    assert HookEvaluation.objects.count() == 1
    assert "deleted 0 EHR call(s) older than 1 days" in capsys.readouterr().out


@pytest.mark.parametrize("days", ["0", "-3"])
def test_the_command_refuses_a_retention_under_one_day(days: str) -> None:
    with pytest.raises(CommandError) as refused:
        call_command("cds_purge", "--days", days)
    assert refused.value.returncode == 2


def test_bad_arguments_exit_2_from_the_command_line() -> None:
    run = subprocess.run(
        [sys.executable, "manage.py", "cds_purge", "--days", "ninety"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "netcare.settings_test"},
    )
    assert run.returncode == 2
    assert "--days" in run.stderr
