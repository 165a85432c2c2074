"""Slow work as background tasks (django-tasks; ADR 0008).

A meeting pack of many cases takes longer than a web request should (about a third of a second for
each case sheet not yet cached): the page asks for it (`pack_prepare`), a worker builds it
(`build_meeting_pack`) and counts the sheets done in the pack's row, and the page polls, showing
that progress, until it is ready. With TASK_BACKEND=immediate (development, tests) the task runs
inside the request.

`prepare_case_sheets` lays out a case's sheets for its coming meetings when it is evaluated or added
to one (NETCARE_SHEETS_AHEAD), so that the pack, when asked for, finds them cached.

The task is given ids only, never patient data: its arguments are stored in the task table and may
be logged by the worker.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from netcare.logging import request_id as current_request_id

from . import sheets
from .models import Case, Meeting, MeetingPack
from .sheet_context import summary_context

logger = logging.getLogger(__name__)

PACK_FAILED = "The pack could not be made. Try again; if it fails again, tell the service desk (pack {pk})."


def pack_prepare(*, meeting: Meeting, user: User, cases: int, appendix: bool = False) -> MeetingPack:
    """A new pack of the meeting, queued for a worker; the meeting's older packs, and every pack and
    cached case sheet past NETCARE_PACK_KEEP_HOURS, are deleted (each holds patient data)."""
    expired = timezone.now() - timedelta(hours=settings.NETCARE_PACK_KEEP_HOURS)
    with transaction.atomic():
        MeetingPack.objects.filter(meeting=meeting).delete()
        MeetingPack.objects.filter(created_at__lt=expired).delete()
        sheets.forget_expired_sheets()
        pack = MeetingPack.objects.create(meeting=meeting, requested_by=user, cases=cases, appendix=appendix)
    # After the commit, so that a worker (or the immediate backend) finds the row.
    build_meeting_pack.enqueue(pack.pk, request_id=current_request_id.get() or "")
    pack.refresh_from_db()
    return pack


def latest_pack(meeting: Meeting) -> MeetingPack | None:
    """The meeting's pack, without its PDF (which only the download reads)."""
    return MeetingPack.objects.filter(meeting=meeting).defer("pdf").first()


@task()
def build_meeting_pack(pack_id: int, request_id: str = "") -> str:
    """Build the PDF of a queued pack and store it in its row; returns the pack's new status."""
    # The worker's log lines about this pack carry the id of the request that asked for it.
    token = current_request_id.set(request_id or None)
    try:
        return _build(pack_id)
    finally:
        current_request_id.reset(token)


def _build(pack_id: int) -> str:
    pack = (
        MeetingPack.objects.select_related("meeting", "requested_by").defer("pdf").filter(pk=pack_id).first()
    )
    if pack is None:  # replaced by a newer pack before a worker got to it
        return "gone"
    MeetingPack.objects.filter(pk=pack_id).update(status=MeetingPack.Status.RUNNING)
    try:
        document = sheets.meeting_pack(
            pack.meeting,
            pack.requested_by,
            appendix=pack.appendix,
            progress=_progress(pack_id),
            processes=settings.NETCARE_PACK_PROCESSES,
        )
    except Exception as exc:  # any failure must reach the page as "failed", never a pack left running
        logger.error("meeting pack %s failed", pack_id, exc_info=exc)
        _finish(pack_id, status=MeetingPack.Status.FAILED, error=PACK_FAILED.format(pk=pack_id))
        return str(MeetingPack.Status.FAILED)
    _finish(pack_id, status=MeetingPack.Status.READY, pdf=document)
    logger.info("meeting pack %s ready: %s cases, %s bytes", pack_id, pack.cases, len(document))
    return str(MeetingPack.Status.READY)


def sheets_ahead(case: Case) -> None:
    """After this transaction commits, have a worker lay out the case's sheets for its coming
    meetings (when NETCARE_SHEETS_AHEAD), so that the meeting's pack finds them in the cache.

    Called by every service that changes what a sheet shows before the meeting: an evaluation, an
    edit of the case, a review, a fact marked (or no longer) not needed, the case added to a list."""
    if settings.NETCARE_SHEETS_AHEAD:
        case_id = case.pk
        transaction.on_commit(lambda: prepare_case_sheets.enqueue(case_id))


@task()
def prepare_case_sheets(case_id: int) -> int:
    """Lay out (or find cached) the case's sheet for each meeting of today or later that lists it,
    exactly as that meeting's pack will ask for it (without the appendix); returns how many were
    laid out. Stale by the time of the pack (a review, an outcome, a new evaluation since)? The
    pack's key differs and the pack lays that sheet out itself: never a wrong sheet, only a slower
    pack."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        return 0
    entries = case.meeting_entries.filter(meeting__date__gte=timezone.localdate()).select_related(
        "meeting", "outcome"
    )
    made = 0
    for entry in entries:
        outcome = getattr(entry, "outcome", None)
        summary = summary_context(case, outcome=outcome, meeting=entry.meeting, appendix=False)
        made += not sheets.case_sheet(summary).cached
    return made


def _progress(pack_id: int) -> sheets.Progress:
    def record(done: int) -> None:
        MeetingPack.objects.filter(pk=pack_id).update(done=done)

    return record


def _finish(pack_id: int, **fields: object) -> None:
    MeetingPack.objects.filter(pk=pack_id).update(finished_at=timezone.now(), **fields)
