"""Case summaries and the meeting pack, as HTML and PDF; every export is in the audit trail."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .. import pdf, selectors, services, sheets, tasks
from ..models import Case, Meeting, MeetingPack, Outcome
from ..roles import capability_required
from ..sheet_context import summary_context
from .common import (
    acting_user,
    case_or_404,
    meeting_or_404,
)
from .context import patient_sheet_context


def _latest_outcome(case: Case) -> Outcome | None:
    return selectors.case_outcomes(case).first()


def appendix_wanted(request: HttpRequest) -> bool:
    """`?appendix=1` (or yes, true, on): the sheet with every option's rules; off by default."""
    return request.GET.get("appendix", "").strip().lower() in ("1", "yes", "true", "on")


@capability_required("export_summary")
@require_GET
@never_cache
def case_summary(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_or_404(pk)
    appendix = appendix_wanted(request)
    context = {
        "case": case,
        "appendix": appendix,
        "summary": summary_context(case, outcome=_latest_outcome(case), appendix=appendix),
    }
    services.summary_exported(actor=acting_user(request), obj=case, fmt="html")
    return render(request, "treatments/case_summary.html", context)


@capability_required("export_summary")
@require_GET
@never_cache
def case_summary_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_or_404(pk)
    sheet = sheets.case_sheet_of(case, appendix=appendix_wanted(request))
    services.summary_exported(actor=acting_user(request), obj=case, fmt="pdf")
    return pdf.pdf_response(sheet.pdf, sheets.sheet_filename(case))


def direct_pack_allowed(cases: int) -> bool:
    """Whether a pack this size may be built inside a web request (else: Prepare pack)."""
    return cases <= settings.NETCARE_PACK_DIRECT_MAX_CASES


@capability_required("export_summary")
@require_GET
@never_cache
def meeting_pack(request: HttpRequest, pk: int) -> HttpResponse:
    """The pack built while the browser waits: for meetings up to NETCARE_PACK_DIRECT_MAX_CASES."""
    meeting = meeting_or_404(pk)
    cases = meeting.entries.count()
    if not direct_pack_allowed(cases):
        messages.info(
            request, f"This meeting has {cases} cases: prepare the pack, then download it when it is ready."
        )
        return redirect(reverse("meeting_detail", args=[meeting.pk]) + "#pack")
    document = sheets.meeting_pack(meeting, acting_user(request), appendix=appendix_wanted(request))
    services.summary_exported(actor=acting_user(request), obj=meeting, fmt="pdf")
    return pdf.pdf_response(document, sheets.pack_filename(meeting))


def render_pack_state(request: HttpRequest, meeting: Meeting, status: int = 200) -> HttpResponse:
    """The pack box of the meeting page (polled by htmx while a pack is being prepared)."""
    cases = meeting.entries.count()
    context = {
        "meeting": meeting,
        "pack": tasks.latest_pack(meeting),
        "pack_direct": direct_pack_allowed(cases),
        "pack_cases": cases,
    }
    return render(request, "treatments/includes/meeting_pack.html", context, status=status)


@capability_required("export_summary")
@require_POST
@never_cache
def meeting_pack_prepare(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_or_404(pk)
    cases = meeting.entries.count()
    if not cases:
        messages.error(request, "The meeting has no cases: there is nothing to put in a pack.")
        return redirect(reverse("meeting_detail", args=[meeting.pk]) + "#pack")
    appendix = request.POST.get("appendix", "") in ("1", "on", "true", "yes")
    tasks.pack_prepare(meeting=meeting, user=acting_user(request), cases=cases, appendix=appendix)
    if request.htmx:  # type: ignore[attr-defined]
        return render_pack_state(request, meeting)
    return redirect(reverse("meeting_detail", args=[meeting.pk]) + "#pack")


@capability_required("export_summary")
@require_GET
@never_cache
def meeting_pack_state(request: HttpRequest, pk: int) -> HttpResponse:
    return render_pack_state(request, meeting_or_404(pk))


@capability_required("export_summary")
@require_GET
@never_cache
def meeting_pack_download(request: HttpRequest, pk: int, pack_pk: int) -> HttpResponse:
    """A prepared pack: only the meeting's own, only when ready; every download is audited."""
    meeting = meeting_or_404(pk)
    pack = MeetingPack.objects.filter(pk=pack_pk, meeting=meeting, status=MeetingPack.Status.READY).first()
    if pack is None or pack.pdf is None:
        raise Http404("No such pack, or it is not ready (packs are replaced and expire).")
    services.summary_exported(actor=acting_user(request), obj=meeting, fmt="pdf")
    return pdf.pdf_response(bytes(pack.pdf), sheets.pack_filename(meeting))


# --- the patient options sheet ------------------------------------------------------------------


@capability_required("export_summary")
@require_GET
@never_cache
def patient_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    """Plain-language descriptions of the options discussed, for the patient (print it, or the PDF)."""
    case = case_or_404(pk)
    context, valid = patient_sheet_context(case, request.GET)
    if valid:
        services.summary_exported(actor=acting_user(request), obj=case, fmt="patient-html")
    return render(request, "treatments/patient_sheet.html", context, status=200 if valid else 400)


@capability_required("export_summary")
@require_GET
@never_cache
def patient_sheet_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_or_404(pk)
    context, valid = patient_sheet_context(case, request.GET)
    if not valid:
        return render(request, "treatments/patient_sheet.html", context, status=400)
    context["title"] = "Your treatment options"
    document = pdf.render_pdf("treatments/pdf/patient_sheet.html", context, None)
    services.summary_exported(actor=acting_user(request), obj=case, fmt="patient-pdf")
    return pdf.pdf_response(document, f"netcare-patient-options-{sheets.file_reference(case)}.pdf")
