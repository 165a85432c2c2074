"""Meeting packs as a background task: "Prepare pack" queues it, the page shows its state, and the
file is served from the database behind login and the export role. In the tests the task runs
inside the request (immediate backend); two tests start the real worker process (manage.py task_worker)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, override_settings

from tests.conftest import ROOT
from tests.pages.conftest import logged_in
from tests.pages.mdt import create_meeting, evaluated_case
from treatments import services
from treatments.models import AuditEvent, Meeting, MeetingPack


@pytest.fixture
def meeting(clinician: User, published: Any) -> Meeting:
    meeting = create_meeting(clinician)
    for reference in ("NET-PACK-1", "NET-PACK-2"):
        services.meeting_add_case(actor=clinician, meeting=meeting, case=evaluated_case(clinician, reference))
    return meeting


def prepare(client: Client, meeting: Meeting, **extra: Any) -> Any:
    return client.post(f"/meetings/{meeting.pk}/pack/prepare/", **extra)


def test_prepare_pack_builds_it_and_the_page_offers_the_prepared_file(
    clinician: User, meeting: Meeting
) -> None:
    client = logged_in(clinician)
    response = prepare(client, meeting)
    assert response.status_code == 302 and response["Location"].endswith(f"/meetings/{meeting.pk}/#pack")

    pack = MeetingPack.objects.get(meeting=meeting)
    assert pack.status == "ready" and pack.cases == 2 and pack.requested_by == clinician
    page = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert f"/meetings/{meeting.pk}/pack/{pack.pk}.pdf" in page and "Prepare pack" in page

    download = client.get(f"/meetings/{meeting.pk}/pack/{pack.pk}.pdf")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download.content.startswith(b"%PDF") and "no-cache" in download["Cache-Control"]
    assert AuditEvent.objects.filter(action="summary.export", object_id=str(meeting.pk)).exists()


def test_with_htmx_prepare_answers_the_pack_box_which_polls_until_the_pack_is_finished(
    clinician: User, meeting: Meeting
) -> None:
    client = logged_in(clinician)
    MeetingPack.objects.create(meeting=meeting, requested_by=clinician, cases=2)  # a worker's, unfinished

    waiting = client.get(f"/meetings/{meeting.pk}/pack/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 2s"' in waiting and "waiting for a worker" in waiting

    finished = prepare(client, meeting, HTTP_HX_REQUEST="true").content.decode()
    assert finished.lstrip().startswith('<div id="pack"') and "hx-trigger" not in finished
    assert "Download the prepared pack" in finished
    assert MeetingPack.objects.filter(meeting=meeting).count() == 1  # the old one was replaced


def test_only_roles_that_export_summaries_may_prepare_see_or_download_a_pack(
    clinician: User, rule_author: User, meeting: Meeting
) -> None:
    prepare(logged_in(clinician), meeting)
    pack = MeetingPack.objects.get(meeting=meeting)
    urls = [f"/meetings/{meeting.pk}/pack/", f"/meetings/{meeting.pk}/pack/{pack.pk}.pdf"]

    author = logged_in(rule_author)
    assert prepare(author, meeting).status_code == 403
    for url in urls:
        assert author.get(url).status_code == 403, url
        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and "/login/" in anonymous["Location"], url


def test_a_pack_is_served_only_from_its_own_meeting_and_only_when_ready(
    clinician: User, meeting: Meeting
) -> None:
    client = logged_in(clinician)
    other = create_meeting(clinician, title="Other MDT")
    prepare(client, meeting)
    pack = MeetingPack.objects.get(meeting=meeting)

    assert client.get(f"/meetings/{other.pk}/pack/{pack.pk}.pdf").status_code == 404
    MeetingPack.objects.filter(pk=pack.pk).update(status="running")
    assert client.get(f"/meetings/{meeting.pk}/pack/{pack.pk}.pdf").status_code == 404


def test_a_meeting_with_no_cases_gets_a_message_not_an_empty_pack(clinician: User, published: Any) -> None:
    empty = create_meeting(clinician)
    client = logged_in(clinician)

    response = prepare(client, empty, follow=True)

    assert "nothing to put in a pack" in response.content.decode()
    assert not MeetingPack.objects.exists()


def test_a_large_meeting_offers_only_the_prepared_pack_and_the_direct_url_leads_there(
    clinician: User, meeting: Meeting, settings: Any
) -> None:
    settings.NETCARE_PACK_DIRECT_MAX_CASES = 1
    client = logged_in(clinician)

    page = client.get(f"/meetings/{meeting.pk}/").content.decode()
    direct = client.get(f"/meetings/{meeting.pk}/pack.pdf", follow=True)

    assert "Download meeting pack (PDF)" not in page and "prepare the pack" in page
    assert direct.redirect_chain[-1][0].endswith(f"/meetings/{meeting.pk}/#pack")
    assert "This meeting has 2 cases" in direct.content.decode()


def test_preparing_deletes_packs_older_than_the_keep_hours(clinician: User, meeting: Meeting) -> None:
    other = create_meeting(clinician, title="Last month")
    old = MeetingPack.objects.create(
        meeting=other, requested_by=clinician, cases=1, status="ready", pdf=b"%PDF"
    )
    MeetingPack.objects.filter(pk=old.pk).update(
        created_at=old.created_at.replace(year=old.created_at.year - 1)
    )

    prepare(logged_in(clinician), meeting)

    assert not MeetingPack.objects.filter(pk=old.pk).exists()


def test_a_pack_that_cannot_be_built_is_marked_failed_with_a_message_and_no_patient_data_logged(
    clinician: User, meeting: Meeting, caplog: pytest.LogCaptureFixture
) -> None:
    client = logged_in(clinician)
    # No static files at all: the PDF's stylesheet cannot be read, so treatments/pdf.py refuses it.
    with override_settings(STATICFILES_DIRS=[], STATICFILES_FINDERS=[]):
        prepare(client, meeting)

    pack = MeetingPack.objects.get(meeting=meeting)
    assert pack.status == "failed" and pack.pdf is None and pack.finished_at is not None
    page = client.get(f"/meetings/{meeting.pk}/pack/").content.decode()
    assert f"tell the service desk (pack {pack.pk})" in page and "hx-trigger" not in page
    assert client.get(f"/meetings/{meeting.pk}/pack/{pack.pk}.pdf").status_code == 404
    assert [r.getMessage() for r in caplog.records if r.name == "treatments.tasks"] == [
        f"meeting pack {pack.pk} failed"
    ]
    assert "NET-PACK" not in caplog.text


# --- the real worker --------------------------------------------------------------------------------


def _database_url() -> str:
    """The test database, as a URL another process can use."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user, host, port = db.get("USER") or "postgres", db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def _start_worker(environment: dict[str, str]) -> subprocess.Popen[str]:
    command = [sys.executable, "manage.py", "task_worker", "--interval", "0.2", "--retry-seconds", "0.5"]
    return subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _worker_environment() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "netcare.settings",
        "NETCARE_ENV_FILE": "",
        # Static files from the apps: this checkout has no collectstatic manifest (the PDFs under
        # the manifest storage have their own tests in tests/test_deployment.py).
        "DEBUG": "true",
        "DATABASE_URL": _database_url(),
        "TASK_BACKEND": "database",
        "LOG_FORMAT": "json",
    }


def _wait_until_finished(pack: MeetingPack, worker: subprocess.Popen[str], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not pack.finished and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.5)
        pack.refresh_from_db()


def _allow_connections(database: str, allow: bool) -> None:
    """ALTER DATABASE from the server's maintenance database (a database cannot refuse itself)."""
    import psycopg

    db = connection.settings_dict
    with psycopg.connect(
        dbname="postgres",
        user=db.get("USER") or "postgres",
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        password=db.get("PASSWORD") or None,
        autocommit=True,
    ) as admin:
        admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allow).lower()}')


def _stop(worker: subprocess.Popen[str]) -> str:
    worker.send_signal(signal.SIGTERM)
    return worker.communicate(timeout=30)[0]


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_process_builds_a_queued_pack(clinician: User, meeting: Meeting, settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    worker = _start_worker(_worker_environment())
    try:
        client = logged_in(clinician)
        assert prepare(client, meeting).status_code == 302
        pack = MeetingPack.objects.get(meeting=meeting)
        assert pack.status == "queued"  # nothing ran in this process

        _wait_until_finished(pack, worker)
        assert pack.status == "ready", (pack.status, pack.error)
        download = client.get(f"/meetings/{meeting.pk}/pack/{pack.pk}.pdf")
        assert download.content.startswith(b"%PDF")
    finally:
        output = _stop(worker)
    assert "NET-PACK-1" not in output  # the worker's log names the pack, never a patient
    assert '"message": "meeting pack' in output  # its lines are JSON too


@pytest.mark.django_db(transaction=True)
def test_the_worker_waits_out_a_database_that_refuses_connections_then_builds_the_pack(
    clinician: User, meeting: Meeting, settings: Any
) -> None:
    # django-tasks' own db_worker exits when the database refuses a connection (benchmarks/soak.py);
    # task_worker starts it again. Refusing new connections to the test database leaves this
    # test's own connection open.
    if connection.vendor != "postgresql":
        pytest.skip("refusing new connections to one database needs PostgreSQL (CI runs both databases)")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    name = connection.settings_dict["NAME"]
    client = logged_in(clinician)
    assert prepare(client, meeting).status_code == 302
    pack = MeetingPack.objects.get(meeting=meeting)
    _allow_connections(name, False)
    try:
        worker = _start_worker(_worker_environment())
        time.sleep(3)  # several refused attempts
        assert worker.poll() is None, "the worker gave up"
    finally:
        _allow_connections(name, True)
    try:
        _wait_until_finished(pack, worker)
        assert pack.status == "ready", (pack.status, pack.error)
    finally:
        output = _stop(worker)
    assert "database unavailable (OperationalError); trying again" in output


def test_task_backend_defaults_to_the_database_in_production_and_refuses_unknown_names(tmp_path: Any) -> None:
    from tests.test_scale_cache import settings_in_a_new_process

    code = "import netcare.settings as s; print(s.TASKS['default']['BACKEND'])"
    production = {"DEBUG": "false", "SECRET_KEY": "p" * 50}
    assert settings_in_a_new_process(tmp_path, code=code, **production).stdout.strip() == (
        "django_tasks_db.DatabaseBackend"
    )
    assert settings_in_a_new_process(tmp_path, code=code).stdout.strip().endswith("ImmediateBackend")
    unknown = settings_in_a_new_process(tmp_path, code=code, TASK_BACKEND="celery")
    assert unknown.returncode != 0
    assert "TASK_BACKEND='celery' is not a task backend: use database or immediate" in unknown.stderr
