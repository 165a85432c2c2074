"""MDT meeting pages: the list, one meeting's worklist with readiness, its order, and the outcomes."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .. import selectors, services, tasks
from ..forms import (
    AttendeeForm,
    MeetingAddCaseForm,
    MeetingEditForm,
    MeetingForm,
    OutcomeForm,
)
from ..inputs import MeetingOrder
from ..models import Case, Meeting, Outcome
from ..roles import can, capability_required
from ..services.audit import case_read
from .common import (
    acting_user,
    add_refusal,
    case_or_404,
    meeting_or_404,
    next_url,
    refusal,
)
from .context import (
    outcome_options,
    present_options,
    work_rows,
)


def _render_meetings(request: HttpRequest, form: MeetingForm, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "upcoming": selectors.meeting_list(upcoming=True),
        "past": selectors.meeting_list(upcoming=False)[:50],
        "today": timezone.localdate(),
    }
    return render(request, "treatments/meetings.html", context, status=status)


@capability_required("view_cases")
@require_GET
@never_cache
def meeting_list(request: HttpRequest) -> HttpResponse:
    return _render_meetings(request, MeetingForm())


@capability_required("manage_meetings")
@require_POST
@never_cache
def meeting_create(request: HttpRequest) -> HttpResponse:
    form = MeetingForm(request.POST)
    if not form.is_valid():
        return _render_meetings(request, form, status=400)
    meeting = services.meeting_create(actor=acting_user(request), data=form.input)
    messages.success(request, f"Meeting created: {meeting}.")
    return redirect("meeting_detail", pk=meeting.pk)


def _render_meeting(
    request: HttpRequest,
    meeting: Meeting,
    *,
    add_form: MeetingAddCaseForm | None = None,
    edit_form: MeetingEditForm | None = None,
    case_pk: int | None = None,
    outcome_form: OutcomeForm | None = None,
    attendee_form: AttendeeForm | None = None,
    conflict: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    rows = selectors.meeting_worklist(meeting)
    attendees = selectors.meeting_attendees(meeting)
    concordance = selectors.meeting_concordance(meeting)
    work = work_rows(
        rows,
        names=selectors.modality_names(),
        may_record=can(user, "record_outcome"),
        case_pk=case_pk,
        posted=outcome_form,
        conflict=conflict,
    )
    context = {
        "meeting": meeting,
        "rows": work,
        "concordance": concordance,
        "no_option": concordance.recorded - concordance.decided,
        "add_form": add_form or MeetingAddCaseForm(cases=_cases_to_add(meeting)),
        "edit_form": edit_form
        or MeetingEditForm(
            prefix="meeting",
            initial={"title": meeting.title, "date": meeting.date.isoformat(), "version": meeting.version},
        ),
        "can_manage": can(user, "manage_meetings"),
        "can_evaluate": can(user, "manage_cases"),
        "can_export": can(user, "export_summary"),
        "ready_count": sum(1 for row in rows if row.ready),
        # The meeting pack box (treatments/includes/meeting_pack.html).
        "pack": tasks.latest_pack(meeting) if can(user, "export_summary") else None,
        "pack_direct": len(rows) <= settings.NETCARE_PACK_DIRECT_MAX_CASES,
        "pack_cases": len(rows),
        "attendees": attendees,
        "quoracy": selectors.meeting_quoracy(attendees),
        "attendee_form": attendee_form or AttendeeForm(prefix="attendee"),
        "can_attend": can(user, "record_attendance"),
    }
    return render(request, "treatments/meeting.html", context, status=status)


def _cases_to_add(meeting: Meeting) -> list[Case]:
    """The active cases that are not on the meeting's list yet."""
    return list(selectors.cases_to_add(meeting))


@capability_required("view_cases")
@require_GET
@never_cache
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_meeting(request, meeting_or_404(pk))


@capability_required("manage_meetings")
@require_POST
@never_cache
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_or_404(pk)
    form = MeetingEditForm(request.POST, prefix="meeting")
    if not form.is_valid():
        return _render_meeting(request, meeting, edit_form=form, status=400)
    try:
        services.meeting_update(actor=acting_user(request), meeting=meeting, data=form.input)
    except services.EditConflict as exc:
        # Keep what was typed, now against the version saved, so saving again is a conscious act.
        data = request.POST.copy()
        data["meeting-version"] = str(getattr(exc.current, "version", ""))
        form = MeetingEditForm(data, prefix="meeting")
        form.is_valid()
        form.add_error(None, exc.sentence)
        return _render_meeting(request, meeting_or_404(pk), edit_form=form, status=409)
    messages.success(request, f"Meeting changed: {meeting}.")
    return redirect("meeting_detail", pk=meeting.pk)


@capability_required("manage_meetings")
@require_POST
@never_cache
def meeting_add_case(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_or_404(pk)
    form = MeetingAddCaseForm(request.POST, cases=_cases_to_add(meeting))
    if not form.is_valid():
        return _render_meeting(request, meeting, add_form=form, status=400)
    case = case_or_404(form.input.case)
    try:
        services.meeting_add_case(actor=acting_user(request), meeting=meeting, case=case)
    except services.WorkflowError as exc:
        add_refusal(form, exc)
        return _render_meeting(request, meeting, add_form=form, status=409)
    messages.success(request, f"{case} added to the list.")
    return redirect(reverse("meeting_detail", args=[meeting.pk]) + f"#case-{case.pk}")


@capability_required("manage_meetings")
@require_POST
@never_cache
def meeting_remove_case(request: HttpRequest, pk: int, case_pk: int) -> HttpResponse:
    meeting = meeting_or_404(pk)
    case = case_or_404(case_pk)
    try:
        services.meeting_remove_case(actor=acting_user(request), meeting=meeting, case=case)
    except services.WorkflowError as exc:
        messages.error(request, exc.sentence + ".")
        return _render_meeting(request, meeting, status=409)
    messages.success(request, f"{case} taken off the list.")
    return redirect(reverse("meeting_detail", args=[meeting.pk]) + "#worklist")


@capability_required("manage_meetings")
@require_POST
@never_cache
def meeting_reorder(request: HttpRequest, pk: int) -> HttpResponse:
    """Posts the whole new order (so a page that is out of date cannot scramble the list)."""
    meeting = meeting_or_404(pk)
    try:
        order = MeetingOrder.model_validate(
            {"cases": [int(value) for value in request.POST.getlist("cases")]}
        )
        services.meeting_reorder(actor=acting_user(request), meeting=meeting, case_ids=order.cases)
    except (ValueError, services.WorkflowError):  # pydantic's ValidationError is a ValueError
        messages.error(
            request, "The list changed since you opened the page, so the order was not changed. Try again."
        )
        return _render_meeting(request, meeting, status=409)
    moved = request.POST.get("moved", "")
    anchor = f"#case-{moved}" if moved.isdigit() else "#worklist"
    messages.success(request, "Order changed.")
    return redirect(reverse("meeting_detail", args=[meeting.pk]) + anchor)


@capability_required("record_outcome")
@require_POST
@never_cache
def meeting_outcome(request: HttpRequest, pk: int, case_pk: int) -> HttpResponse:
    meeting = meeting_or_404(pk)
    case = case_or_404(case_pk)
    try:
        evaluation = services.outcome_allowed(meeting=meeting, case=case)
    except services.WorkflowError as exc:
        return refusal(request, exc, back=reverse("meeting_detail", args=[meeting.pk]))
    prefix = f"case{case.pk}"
    form = OutcomeForm(request.POST, prefix=prefix, options=outcome_options(evaluation))
    if not form.is_valid():
        return _render_meeting(request, meeting, case_pk=case.pk, outcome_form=form, status=400)
    try:
        services.outcome_record(actor=acting_user(request), meeting=meeting, case=case, data=form.input)
    except services.EditConflict as exc:
        theirs = exc.current if isinstance(exc.current, Outcome) else None
        data = request.POST.copy()
        data[f"{prefix}-version"] = str(theirs.version) if theirs else ""
        form = OutcomeForm(data, prefix=prefix, options=outcome_options(evaluation))
        return _render_meeting(
            request, meeting, case_pk=case.pk, outcome_form=form, conflict=exc.sentence, status=409
        )
    except services.EvaluationSuperseded as exc:
        # The form now shows the latest evaluation's options: saving again is a conscious act.
        data = request.POST.copy()
        data[f"{prefix}-evaluation"] = str(evaluation.pk)
        form = OutcomeForm(data, prefix=prefix, options=outcome_options(evaluation))
        form.is_valid()
        form.add_error(None, exc.sentence)
        return _render_meeting(request, meeting, case_pk=case.pk, outcome_form=form, status=409)
    except services.WorkflowError as exc:
        form.add_error(None, exc.sentence)
        return _render_meeting(request, meeting, case_pk=case.pk, outcome_form=form, status=409)
    messages.success(request, f"Outcome recorded for {case}.")
    return HttpResponseRedirect(
        next_url(request, reverse("meeting_detail", args=[meeting.pk]) + f"#case-{case.pk}")
    )


# --- attendance and quoracy ------------------------------------------------------------------


@capability_required("record_attendance")
@require_POST
@never_cache
def meeting_attendee_add(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = meeting_or_404(pk)
    form = AttendeeForm(request.POST, prefix="attendee")
    if form.is_valid():
        try:
            services.attendee_add(actor=acting_user(request), meeting=meeting, data=form.input)
        except services.WorkflowError as exc:
            add_refusal(form, exc)
    if form.errors:
        return _render_meeting(request, meeting, attendee_form=form, status=400)
    messages.success(request, f"{form.input.name} recorded as present.")
    return HttpResponseRedirect(
        next_url(request, reverse("meeting_detail", args=[meeting.pk]) + "#attendance")
    )


@capability_required("record_attendance")
@require_POST
@never_cache
def meeting_attendee_remove(request: HttpRequest, pk: int, attendee_pk: int) -> HttpResponse:
    meeting = meeting_or_404(pk)
    try:
        services.attendee_remove(actor=acting_user(request), meeting=meeting, attendee_id=attendee_pk)
    except services.WorkflowError as exc:
        messages.error(request, exc.sentence + ".")
    return redirect(reverse("meeting_detail", args=[meeting.pk]) + "#attendance")


# --- meeting mode: one case per screen, for the room's projector ------------------------------


@capability_required("view_cases")
@require_GET
@never_cache
def meeting_present(request: HttpRequest, pk: int, position: int) -> HttpResponse:
    """One case of the list, large, with next and previous, its options to review and its outcome.

    `position` counts from 1 in the list's order; past the end is a 404."""
    meeting = meeting_or_404(pk)
    user = request.user
    rows = selectors.meeting_worklist(meeting)
    if not 1 <= position <= len(rows):
        raise Http404("No case at this position on the list.")
    work = work_rows(rows, names=selectors.modality_names(), may_record=can(user, "record_outcome"))
    item = work[position - 1]
    context = {
        "meeting": meeting,
        "item": item,
        "row": item.row,
        "case": item.row.case,
        "position": position,
        "total": len(rows),
        "previous_position": position - 1 if position > 1 else None,
        "next_position": position + 1 if position < len(rows) else None,
        "return_to": reverse("meeting_present", args=[meeting.pk, position]),
        "evaluation": item.row.evaluation,
        "can_export": can(user, "export_summary"),
        "quoracy": selectors.meeting_quoracy(selectors.meeting_attendees(meeting)),
        **present_options(item.row, may_review=can(user, "review_options")),
    }
    case_read(actor=acting_user(request), case=item.row.case, view="meeting mode")
    return render(request, "treatments/meeting_present.html", context)
