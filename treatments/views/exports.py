"""What a meeting sends out: the outcome letter (PDF), the coordinator's chase list (page, print,
CSV), and the outcomes as CSV and as a FHIR Bundle. Every export is in the audit trail."""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .. import exports, letters, pdf, selectors, services
from ..roles import capability_required
from .common import acting_user, case_or_404, meeting_or_404


def _download(body: str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    add_never_cache_headers(response)
    return response


@capability_required("export_summary")
@require_GET
@never_cache
def outcome_letter(request: HttpRequest, pk: int, case_pk: int) -> HttpResponse:
    """The outcome letter to the GP and the referrer, as a PDF (404 before an outcome is recorded)."""
    outcome = selectors.outcome_get(meeting_or_404(pk), case_or_404(case_pk))
    if outcome is None:
        raise Http404("No outcome is recorded for this case at this meeting.")
    document = letters.outcome_letter_pdf(outcome, user=acting_user(request))
    services.summary_exported(actor=acting_user(request), obj=outcome.entry.case, fmt="letter.pdf")
    return pdf.pdf_response(document, letters.letter_filename(outcome))


@capability_required("view_cases")
@require_GET
@never_cache
def chase_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The pre-MDT chase list: each test or opinion with the cases waiting for it (prints cleanly)."""
    meeting = meeting_or_404(pk)
    rows = selectors.meeting_worklist(meeting)
    context = {"meeting": meeting, "jobs": exports.chase_list(rows), "cases": len(rows)}
    services.summary_exported(actor=acting_user(request), obj=meeting, fmt="chase.html")
    return render(request, "treatments/meeting_chase.html", context)


@capability_required("view_cases")
@require_GET
@never_cache
def chase_csv(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_or_404(pk)
    body = exports.chase_csv(exports.chase_list(selectors.meeting_worklist(meeting)))
    services.summary_exported(actor=acting_user(request), obj=meeting, fmt="chase.csv")
    return _download(
        body, "text/csv; charset=utf-8", f"netcare-chase-{meeting.date:%Y-%m-%d}-{meeting.pk}.csv"
    )


@capability_required("export_summary")
@require_GET
@never_cache
def outcomes_csv(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_or_404(pk)
    body = exports.outcomes_csv(selectors.meeting_outcomes(meeting), selectors.modality_names())
    services.summary_exported(actor=acting_user(request), obj=meeting, fmt="outcomes.csv")
    return _download(
        body, "text/csv; charset=utf-8", f"netcare-outcomes-{meeting.date:%Y-%m-%d}-{meeting.pk}.csv"
    )


@capability_required("export_summary")
@require_GET
@never_cache
def outcomes_fhir(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_or_404(pk)
    bundle = exports.outcomes_bundle(meeting, selectors.meeting_outcomes(meeting), selectors.modality_names())
    services.summary_exported(actor=acting_user(request), obj=meeting, fmt="outcomes.fhir")
    return _download(
        json.dumps(bundle, indent=1),
        "application/fhir+json",
        f"netcare-outcomes-{meeting.date:%Y-%m-%d}-{meeting.pk}.fhir.json",
    )
