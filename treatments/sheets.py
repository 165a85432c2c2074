"""The MDT case sheet as a PDF, cached, and the lean meeting pack made of case sheets.

A sheet is made from an immutable evaluation, but not only from it: the outcome, the reviews, the
case's details and whether the evaluation is out of date (the case's facts, the rule set in force)
show on it too, and so does the template. So the cache is not keyed by the evaluation id alone but
by a digest of everything that goes into the PDF: the sheet's own HTML (which names the evaluation
and shows all of the above), the stylesheet and the renderer's version. A change to any input
changes the HTML, hence the key: a stale sheet cannot be served. The HTML carries no clock time and
no reader (the audit trail records who exported what), so an unchanged case renders to the same key.

Rendering the HTML costs a few milliseconds; laying it out as a PDF (WeasyPrint) most of a second.
A pack of cached sheets is their PDFs joined behind a freshly made cover (pypdf), with a bookmark per
case.
"""

from __future__ import annotations

import functools
import hashlib
import io
import multiprocessing
import re
import signal
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from . import pdf, selectors
from .models import Case, CaseSheet, Meeting
from .sheet_context import summary_context

SHEET_TEMPLATE = "treatments/pdf/case_summary.html"
COVER_TEMPLATE = "treatments/pdf/meeting_pack.html"
# Raise to drop every cached sheet at once (e.g. after a change to pdf.py's rendering itself).
SHEET_FORMAT = "1"


class Sheet(NamedTuple):
    """One case sheet as a PDF: its bytes, its number of pages, and whether it came from the cache."""

    pdf: bytes
    pages: int
    cached: bool


def sheet_title(case: Case) -> str:
    return f"Case sheet {case.hospital_reference}"


def sheet_html(summary: dict[str, Any]) -> str:
    """The sheet's HTML for the PDF (no request: nothing of the reader's may be on it)."""
    return render_to_string(SHEET_TEMPLATE, {"summary": summary, "title": sheet_title(summary["case"])})


@functools.cache
def _renderer_version() -> str:
    import weasyprint

    return f"{SHEET_FORMAT}/weasyprint {weasyprint.__version__}"


def sheet_key(html: str) -> str:
    """The cache key of a sheet: SHA-256 of its HTML, its stylesheet and the renderer's version."""
    digest = hashlib.sha256()
    for part in (_renderer_version(), pdf.stylesheet_digest(), html):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def case_sheet(summary: dict[str, Any]) -> Sheet:
    """The case sheet of `summary` (sheet_context.summary_context) as a PDF, from the cache if the
    same sheet was made before, else rendered and kept."""
    html = sheet_html(summary)
    key = sheet_key(html)
    found = CaseSheet.objects.filter(key=key).values_list("pdf", "pages").first()
    if found is not None:
        return Sheet(bytes(found[0]), found[1], cached=True)
    document, pages = pdf.html_to_pdf(html, SHEET_TEMPLATE)
    _keep(key, summary, document, pages)
    return Sheet(document, pages, cached=False)


def case_sheet_of(case: Case, *, appendix: bool = False) -> Sheet:
    """A case's own sheet (not in a meeting's pack): its latest evaluation and latest outcome."""

    outcome = selectors.case_outcomes(case).first()
    return case_sheet(summary_context(case, outcome=outcome, appendix=appendix))


def file_reference(case: Case) -> str:
    """The case's reference as a safe part of a file name."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", case.hospital_reference).strip("-") or "case"


def sheet_filename(case: Case) -> str:
    return f"netcare-case-sheet-{file_reference(case)}.pdf"


def pack_filename(meeting: Meeting) -> str:
    return f"netcare-mdt-pack-{meeting.date:%Y-%m-%d}-{meeting.pk}.pdf"


def forget_expired_sheets() -> int:
    """Delete the sheets made more than NETCARE_PACK_KEEP_HOURS ago (they hold patient data)."""
    expired = timezone.now() - timedelta(hours=settings.NETCARE_PACK_KEEP_HOURS)
    return CaseSheet.objects.filter(created_at__lt=expired).delete()[0]


Progress = Callable[[int], None]
COVER_ROWS_PER_PAGE = 16


def meeting_pack(
    meeting: Meeting,
    user: User | None,
    *,
    appendix: bool = False,
    progress: Progress | None = None,
    processes: int = 1,
) -> bytes:
    """The lean meeting pack: a cover listing the cases in order (with the page each starts on), then
    each case's sheet. `progress` is told how many sheets are done as they are made. The sheets not
    in the cache are laid out on `processes` processes (the task worker passes
    NETCARE_PACK_PROCESSES; a web request lays out its few sheets itself)."""

    rows = selectors.meeting_worklist(meeting)
    summaries = [
        summary_context(row.case, outcome=row.outcome, meeting=meeting, appendix=appendix) for row in rows
    ]
    sheets = case_sheets(summaries, progress=progress, processes=processes)
    cover = _cover(meeting, user, rows, sheets, appendix)
    references = [row.case.hospital_reference for row in rows]
    return _joined(meeting, cover, list(zip(references, sheets, strict=True)))


def case_sheets(
    summaries: list[dict[str, Any]], *, progress: Progress | None = None, processes: int = 1
) -> list[Sheet]:
    """The sheets of `summaries`, in order: the cached ones in one query, the others laid out (on
    several processes when asked and worth it) and kept. `progress` hears the count done."""
    htmls = [sheet_html(summary) for summary in summaries]
    keys = [sheet_key(html) for html in htmls]
    stored = CaseSheet.objects.filter(key__in=set(keys)).values_list("key", "pdf", "pages")
    found = {key: Sheet(bytes(document), pages, cached=True) for key, document, pages in stored}
    sheets = {index: found[key] for index, key in enumerate(keys) if key in found}
    done = len(sheets)
    if progress is not None:
        progress(done)
    missing = [index for index, key in enumerate(keys) if key not in found]
    for index, (document, count) in _laid_out([htmls[index] for index in missing], processes):
        position = missing[index]
        _keep(keys[position], summaries[position], document, count)
        sheets[position] = Sheet(document, count, cached=False)
        done += 1
        if progress is not None:
            progress(done)
    return [sheets[index] for index in range(len(summaries))]


def _keep(key: str, summary: dict[str, Any], document: bytes, pages: int) -> None:
    """Store a sheet just laid out; another process storing the same key first is no error."""
    try:
        with transaction.atomic():  # a savepoint: another process may have stored the same key
            CaseSheet.objects.create(
                key=key, case=summary["case"], evaluation=summary.get("evaluation"), pages=pages, pdf=document
            )
    except IntegrityError:
        pass  # the same HTML, so the same sheet: theirs is as good as ours


# Below this many sheets to lay out, starting processes costs more than it saves.
PARALLEL_FROM = 4


def _laid_out(htmls: list[str], processes: int) -> Iterator[tuple[int, tuple[bytes, int]]]:
    """(index, (PDF, pages)) for each HTML as it is laid out, in no set order when in parallel.

    The processes are forked from this one after WeasyPrint and the parsed stylesheet are loaded, so
    each starts warm; they only lay out HTML (no database: they never touch the inherited
    connections, and a forked pool worker leaves by os._exit, closing none of them)."""
    if processes <= 1 or len(htmls) < PARALLEL_FROM:
        for index, html in enumerate(htmls):
            yield index, pdf.html_to_pdf(html, SHEET_TEMPLATE)
        return
    pdf.warm_up()
    pool = multiprocessing.get_context("fork").Pool(min(processes, len(htmls)), initializer=_in_child)
    finished = False
    try:
        yield from pool.imap_unordered(_lay_out, enumerate(htmls))
        finished = True
    finally:
        # Done: let the processes leave on their own. Failed or abandoned: stop them now.
        if finished:
            pool.close()
        else:
            pool.terminate()
        pool.join()


def _in_child() -> None:
    """A layout process takes the default signal handlers: the task worker's own (inherited by the
    fork) only note a shutdown request, so a SIGTERM from Pool.terminate() would not end it."""
    for name in ("SIGTERM", "SIGINT", "SIGQUIT"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)


def _lay_out(item: tuple[int, str]) -> tuple[int, tuple[bytes, int]]:
    index, html = item
    return index, pdf.html_to_pdf(html, SHEET_TEMPLATE)


def _cover(
    meeting: Meeting,
    user: User | None,
    rows: list[selectors.WorklistRow],
    sheets: list[Sheet],
    appendix: bool,
) -> bytes:
    """The cover, laid out until the page numbers it prints account for its own length (the first
    guess, about sixteen cases a page, is usually right: a second layout costs a second for 40)."""
    cover_pages = 1 + len(rows) // COVER_ROWS_PER_PAGE
    while True:
        starts, page = [], cover_pages + 1
        for sheet in sheets:
            starts.append((page, page + sheet.pages - 1))
            page += sheet.pages
        context = {
            "meeting": meeting,
            "entries": list(zip(rows, starts, strict=True)),
            "appendix": appendix,
            "total_pages": page - 1,
            "title": f"{meeting.title}, {meeting.date:%d %B %Y}",
            "user": user,
        }
        html = render_to_string(COVER_TEMPLATE, context)
        document, pages = pdf.html_to_pdf(html, COVER_TEMPLATE)
        if pages == cover_pages:
            return document
        cover_pages = pages


def _joined(meeting: Meeting, cover: bytes, sheets: list[tuple[str, Sheet]]) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(cover)), outline_item="Cover: the cases in order")
    for number, (reference, sheet) in enumerate(sheets, start=1):
        writer.append(PdfReader(io.BytesIO(sheet.pdf)), outline_item=f"{number}. Case {reference}")
    writer.add_metadata(
        {"/Title": f"{meeting.title}, {meeting.date:%d %B %Y} · NETcare", "/Author": "NETcare"}
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
