"""Case summaries and the meeting pack, as HTML and PDF; every export is in the audit trail."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .. import pdf, selectors, services
from ..models import Case, Outcome
from ..roles import capability_required
from .common import (
    acting_user,
    case_or_404,
    meeting_or_404,
)
from .context import (
    summary_context,
)


def _latest_outcome(case: Case) -> Outcome | None:
    return selectors.case_outcomes(case).first()


def _filename(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-") or "case"


@capability_required("export_summary")
@require_GET
@never_cache
def case_summary(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_or_404(pk)
    context = {"case": case, "summary": summary_context(case, outcome=_latest_outcome(case))}
    services.summary_exported(actor=acting_user(request), obj=case, fmt="html")
    return render(request, "treatments/case_summary.html", context)


@capability_required("export_summary")
@require_GET
@never_cache
def case_summary_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_or_404(pk)
    context = {
        "summary": summary_context(case, outcome=_latest_outcome(case)),
        "title": f"Case summary {case.hospital_reference}",
    }
    document = pdf.render_pdf("treatments/pdf/case_summary.html", context, request)
    services.summary_exported(actor=acting_user(request), obj=case, fmt="pdf")
    return pdf.pdf_response(document, f"netcare-summary-{_filename(case.hospital_reference)}.pdf")


@capability_required("export_summary")
@require_GET
@never_cache
def meeting_pack(request: HttpRequest, pk: int) -> HttpResponse:
    """A cover page listing the cases in order, then each case's summary from a new page."""
    meeting = meeting_or_404(pk)
    rows = selectors.meeting_worklist(meeting)
    context = {
        "meeting": meeting,
        "rows": rows,
        "summaries": [summary_context(row.case, outcome=row.outcome, meeting=meeting) for row in rows],
        "title": f"{meeting.title}, {meeting.date:%d %B %Y}",
    }
    document = pdf.render_pdf("treatments/pdf/meeting_pack.html", context, request)
    services.summary_exported(actor=acting_user(request), obj=meeting, fmt="pdf")
    return pdf.pdf_response(document, f"netcare-mdt-pack-{meeting.date:%Y-%m-%d}-{meeting.pk}.pdf")
