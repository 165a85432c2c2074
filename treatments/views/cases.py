"""MDT pages: cases, evaluations and reviews, meetings and outcomes, and the case summaries.

Thin like views.py: validate with a form (whose pydantic input is the one the API uses), call one
service or selector, render. Statuses, reasons, staleness, readiness and concordance come from the
engine, the services and the selectors; the pages only show them. Every view asks one capability
(roles.py). Archived cases are read-only here. Patient data is never cached by the browser.

Failed writes answer 4xx with the page and the messages next to the fields: 400 for input that does
not validate, 409 when someone else saved first or the workflow refuses the write.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import pdf, selectors, services
from ..forms import (
    CaseFilterForm,
    CaseForm,
    EvaluationCompareForm,
    MeetingAddCaseForm,
    MeetingForm,
    OutcomeForm,
    PatientForm,
    ReviewForm,
)
from ..inputs import CaseChange, CaseCreate, MeetingOrder
from ..models import Case, Evaluation, Meeting, Outcome, Review
from ..roles import can, capability_required
from ..rules import explain
from ..rules.engine import EvaluationResult, Verdict
from ..rules.profile import PatientProfile
from .check import _field_for, _needs_ruleset

CASES_PER_PAGE = 50


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # capability_required has checked the login


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- lookups (unknown ids are 404) ------------------------------------------------------------------


def _case_or_404(pk: int) -> Case:
    return get_object_or_404(Case.objects.select_related("created_by", "updated_by"), pk=pk)


def _evaluation_or_404(case: Case, pk: int) -> Evaluation:
    return get_object_or_404(Evaluation.objects.select_related("created_by", "rule_set"), pk=pk, case=case)


def _meeting_or_404(pk: int) -> Meeting:
    return get_object_or_404(Meeting.objects.select_related("created_by"), pk=pk)


def _refused(request: HttpRequest, title: str, message: str, *, back: str, status: int = 409) -> HttpResponse:
    """A write the workflow does not allow, said in words with the way back."""
    context = {"title": title, "message": message, "back": back}
    return render(request, "treatments/refused.html", context, status=status)


def _read_only(request: HttpRequest, case: Case) -> HttpResponse:
    return _refused(
        request,
        f"{case} is archived",
        "An archived case is read-only: it cannot be edited, evaluated or reviewed.",
        back=reverse("case_detail", args=[case.pk]),
    )


def _next_url(request: HttpRequest, default: str) -> str:
    """The `next` field of a form when it is a page of this site, else `default`."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


# --- the case list ----------------------------------------------------------------------------------


@capability_required("view_cases")
@require_GET
@never_cache
def case_list(request: HttpRequest) -> HttpResponse:
    form = CaseFilterForm(request.GET)
    criteria = form.criteria()
    page = Paginator(selectors.cases(**criteria), CASES_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "archived": criteria["archived"],
        "filtered": bool(criteria["status"] or criteria["search"]),
        "query": query.urlencode(),
    }
    return render(request, "treatments/cases.html", context)


# --- create and edit --------------------------------------------------------------------------------


@capability_required("manage_cases")
@require_http_methods(["GET", "POST"])
@never_cache
def case_create(request: HttpRequest) -> HttpResponse:
    names = selectors.modality_names()
    if request.method != "POST":
        return render(request, "treatments/case_form.html", {"form": CaseForm(modality_names=names)})
    form = CaseForm(request.POST, modality_names=names)
    if form.is_valid() and isinstance(form.input, CaseCreate):
        try:
            case = services.case_create(actor=_user(request), data=form.input)
        except services.WorkflowError as exc:  # the reference is taken
            form.add_error("hospital_reference", _sentence(str(exc)))
        else:
            messages.success(request, f"{case} created.")
            return redirect("case_detail", pk=case.pk)
    return render(request, "treatments/case_form.html", {"form": form}, status=400)


class SavedDifference(NamedTuple):
    """A case field whose saved value differs from what the user typed (edit conflicts)."""

    label: str
    typed: str
    saved: str


@capability_required("manage_cases")
@require_http_methods(["GET", "POST"])
@never_cache
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(pk)
    if case.is_archived:
        return _read_only(request, case)
    names = selectors.modality_names()
    if request.method != "POST":
        form = CaseForm(case=case, modality_names=names)
        return render(request, "treatments/case_form.html", {"form": form, "case": case})
    form = CaseForm(request.POST, case=case, modality_names=names)
    if form.is_valid() and isinstance(form.input, CaseChange):
        try:
            services.case_update(actor=_user(request), case=case, data=form.input)
        except services.EditConflict as exc:
            return _case_edit_conflict(request, form, exc, names)
        except services.WorkflowError as exc:  # the new reference is taken
            form.add_error("hospital_reference", _sentence(str(exc)))
        else:
            messages.success(request, f"{case} saved.")
            return redirect("case_detail", pk=case.pk)
    return render(request, "treatments/case_form.html", {"form": form, "case": case}, status=400)


def _case_edit_conflict(
    request: HttpRequest, typed: CaseForm, exc: services.EditConflict, names: dict[str, str]
) -> HttpResponse:
    """Keep what the user typed, against the version saved now, and show what that version holds."""
    current = exc.current
    assert isinstance(current, Case)
    current = _case_or_404(current.pk)
    data = request.POST.copy()
    data["version"] = str(current.version)
    form = CaseForm(data, case=current, modality_names=names)
    form.is_valid()
    differences = []
    if typed.details.input is not None:
        for name in (
            "hospital_reference",
            "nhs_number",
            "referring_clinician",
            "question",
            "clinical_summary",
            "status",
        ):
            mine, theirs = getattr(typed.details.input, name), getattr(current, name)
            if mine is not None and mine != theirs:
                field = typed.details.fields[name]
                differences.append(
                    SavedDifference(str(field.label), _shown(name, mine), _shown(name, theirs))
                )
    fact_changes = []
    if typed.facts.profile is not None:
        saved = PatientProfile.model_validate(current.profile)
        fact_changes = explain.changed_facts(typed.facts.profile, saved)
    context = {
        "form": form,
        "case": current,
        "conflict": {"message": str(exc), "differences": differences, "facts": fact_changes},
        "modality_names": names,
    }
    return render(request, "treatments/case_form.html", context, status=409)


def _shown(name: str, value: str) -> str:
    if name == "status":
        return str(Case.Status(value).label)
    return value or "(empty)"


# --- the case page ----------------------------------------------------------------------------------


class ReviewPanel(NamedTuple):
    """What the case page shows under an option: its review, and the form when the user may review."""

    review: Review | None
    form: ReviewForm | None
    conflict: str = ""
    theirs: Review | None = None  # the review someone else saved first (after a conflict)

    @property
    def open(self) -> bool:
        return bool(self.conflict or (self.form is not None and self.form.is_bound))


def _review_form(key: str, review: Review | None) -> ReviewForm:
    initial: dict[str, Any] = {}
    if review is not None:
        initial = {
            "decision": review.decision,
            "reason_code": review.reason_code,
            "note": review.note,
            "version": review.version,
        }
    return ReviewForm(prefix=key, initial=initial)


def _option_rows(
    result: EvaluationResult, panels: dict[str, ReviewPanel]
) -> list[tuple[str, list[tuple[Verdict, ReviewPanel | None]]]]:
    return [
        (group.status, [(verdict, panels.get(verdict.modality.key)) for verdict in group.verdicts])
        for group in explain.group_by_status(result)
    ]


def _checklist(result: EvaluationResult, facts_form: PatientForm | None) -> list[dict[str, Any]]:
    return [
        {
            "fact": item.fact,
            "modalities": item.modalities,
            "anchor": facts_form.anchor(_field_for(item.fact)) if facts_form is not None else "",
        }
        for item in explain.data_to_obtain(result)
    ]


def _facts_context(profile: PatientProfile) -> dict[str, Any]:
    facts = explain.facts_by_group(profile)
    return {
        "facts": facts,
        "known_count": len(profile.known_facts()),
        "fact_count": sum(len(rows) for _, _, rows in facts),
    }


def _render_case(
    request: HttpRequest,
    case: Case,
    *,
    key: str = "",
    form: ReviewForm | None = None,
    conflict: str = "",
    theirs: Review | None = None,
    status: int = 200,
) -> HttpResponse:
    """The case page; after a failed review of option `key`, its form as posted and the problem."""
    user = request.user
    names = selectors.modality_names()
    evaluation = selectors.latest_evaluation(case)
    editable = not case.is_archived
    context: dict[str, Any] = {
        "case": case,
        "evaluation": evaluation,
        "modality_names": names,
        "editable": editable,
        "can_manage": editable and can(user, "manage_cases"),
        "can_export": can(user, "export_summary"),
        "history": _history(case),
        "meetings": list(case.meetings.order_by("-date")),
        **_facts_context(PatientProfile.model_validate(case.profile)),
    }
    if evaluation is not None:
        result = selectors.evaluation_result(evaluation)
        reviews = selectors.reviews_by_modality(evaluation)
        may_review = editable and can(user, "review_options")
        panels = {}
        for verdict in result.verdicts:
            option = verdict.modality.key
            review = reviews.get(option)
            if option == key and form is not None:
                panels[option] = ReviewPanel(review, form, conflict, theirs)
            else:
                panels[option] = ReviewPanel(review, _review_form(option, review) if may_review else None)
        facts_form = PatientForm(modality_names=names) if context["can_manage"] else None
        context.update(
            {
                "result": result,
                "groups": _option_rows(result, panels),
                "checklist": _checklist(result, facts_form),
                "stale": selectors.evaluation_staleness(evaluation, case),
                "reviewed": len(reviews),
            }
        )
    return render(request, "treatments/case_detail.html", context, status=status)


def _history(case: Case) -> list[tuple[Evaluation, Evaluation | None]]:
    """The case's evaluations, newest first, each with the one made before it."""
    evaluations = list(selectors.case_evaluations(case))
    return list(zip(evaluations, [*evaluations[1:], None], strict=False))  # [] when none


@capability_required("view_cases")
@require_GET
@never_cache
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_case(request, _case_or_404(pk))


@capability_required("manage_cases")
@require_POST
@never_cache
@_needs_ruleset
def case_evaluate(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(pk)
    if case.is_archived:
        return _read_only(request, case)
    evaluation = services.case_evaluate(actor=_user(request), case=case)
    messages.success(request, f"{case} evaluated with rule set {evaluation.ruleset_version}.")
    return HttpResponseRedirect(_next_url(request, reverse("case_detail", args=[case.pk]) + "#options"))


@capability_required("manage_cases")
@require_http_methods(["GET", "POST"])
@never_cache
def case_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST archives."""
    case = _case_or_404(pk)
    if case.is_archived:
        messages.info(request, f"{case} is already archived.")
        return redirect("case_detail", pk=case.pk)
    if request.method == "POST":
        services.case_archive(actor=_user(request), case=case)
        messages.success(request, f"{case} archived. It stays readable here and in past meetings.")
        return redirect("case_detail", pk=case.pk)
    return render(request, "treatments/case_archive.html", {"case": case})


@capability_required("review_options")
@require_POST
@never_cache
def case_review(request: HttpRequest, pk: int, eid: int, modality: str) -> HttpResponse:
    case = _case_or_404(pk)
    evaluation = _evaluation_or_404(case, eid)
    if modality not in {option["modality"] for option in evaluation.result["options"]}:
        raise Http404("This evaluation has no such option.")
    if case.is_archived:
        return _read_only(request, case)
    form = ReviewForm(request.POST, prefix=modality)
    latest = selectors.latest_evaluation(case)
    if latest is not None and latest.pk != evaluation.pk:
        # The page was made from an older evaluation: nothing is saved, what was typed is kept.
        current = selectors.reviews_by_modality(latest).get(modality)
        form = _rebound(request.POST, modality, current.version if current else None)
        message = (
            "A newer evaluation of this case was made since you opened the page, so your review was "
            "not saved. It is kept below: check the option in the latest evaluation and save again."
        )
        return _render_case(request, case, key=modality, form=form, conflict=message, status=409)
    if not form.is_valid():
        return _render_case(request, case, key=modality, form=form, status=400)
    try:
        services.option_review(
            actor=_user(request), evaluation=evaluation, modality=modality, data=form.input
        )
    except services.EditConflict as exc:
        theirs = exc.current if isinstance(exc.current, Review) else None
        form = _rebound(request.POST, modality, theirs.version if theirs else None)
        return _render_case(
            request, case, key=modality, form=form, conflict=_sentence(str(exc)), theirs=theirs, status=409
        )
    except services.WorkflowError as exc:
        form.add_error(None, _sentence(str(exc)))
        return _render_case(request, case, key=modality, form=form, status=409)
    messages.success(request, "Review saved.")
    return redirect(reverse("case_detail", args=[case.pk]) + f"#option-{modality}")


def _rebound(posted: QueryDict, prefix: str, version: int | None) -> ReviewForm:
    """The review as the user typed it, now against the version saved by someone else."""
    data = posted.copy()
    data[f"{prefix}-version"] = "" if version is None else str(version)
    return ReviewForm(data, prefix=prefix)


# --- past evaluations and what changed ------------------------------------------------------------


@capability_required("view_cases")
@require_GET
@never_cache
def evaluation_detail(request: HttpRequest, pk: int, eid: int) -> HttpResponse:
    """An evaluation exactly as it was made: its facts, options, reviews and rule-set version."""
    case = _case_or_404(pk)
    evaluation = _evaluation_or_404(case, eid)
    result = selectors.evaluation_result(evaluation)
    reviews = selectors.reviews_by_modality(evaluation)
    panels = {
        verdict.modality.key: ReviewPanel(reviews.get(verdict.modality.key), None)
        for verdict in result.verdicts
    }
    latest = selectors.latest_evaluation(case)
    context = {
        "case": case,
        "evaluation": evaluation,
        "result": result,
        "groups": _option_rows(result, panels),
        "checklist": _checklist(result, None),
        "stale": selectors.evaluation_staleness(evaluation, case),
        "latest": latest,
        "is_latest": latest is not None and latest.pk == evaluation.pk,
        "modality_names": selectors.modality_names(),
        **_facts_context(result.profile),
    }
    return render(request, "treatments/evaluation.html", context)


@capability_required("view_cases")
@require_GET
@never_cache
def evaluation_changes(request: HttpRequest, pk: int) -> HttpResponse:
    """What changed between two evaluations of a case (by default: the last two)."""
    case = _case_or_404(pk)
    evaluations = list(selectors.case_evaluations(case))
    context: dict[str, Any] = {"case": case, "evaluations": evaluations}
    if len(evaluations) < 2:
        return render(request, "treatments/evaluation_changes.html", context)
    data = request.GET if request.GET else {"before": evaluations[1].pk, "after": evaluations[0].pk}
    form = EvaluationCompareForm(data, evaluations=evaluations)
    context["form"] = form
    if not form.is_valid():
        return render(request, "treatments/evaluation_changes.html", context, status=400)
    before, after = form.pair()
    changes = selectors.evaluation_changes(before, after)
    context.update(
        {
            "before": before,
            "after": after,
            "changes": {"facts": changes.facts, "statuses": changes.options},
            "modality_names": selectors.modality_names(),
        }
    )
    return render(request, "treatments/evaluation_changes.html", context)


# --- meetings -------------------------------------------------------------------------------------


def _render_meetings(request: HttpRequest, form: MeetingForm, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "upcoming": selectors.meetings(upcoming=True),
        "past": selectors.meetings(upcoming=False)[:50],
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
    meeting = services.meeting_create(actor=_user(request), data=form.input)
    messages.success(request, f"Meeting created: {meeting}.")
    return redirect("meeting_detail", pk=meeting.pk)


class WorkRow(NamedTuple):
    """A case on the worklist, with the orders its up/down buttons post and its outcome form."""

    row: selectors.WorklistRow
    up: list[int] | None
    down: list[int] | None
    form: OutcomeForm | None
    conflict: str
    chosen: list[tuple[str, str, str]]  # the recorded outcome's options: key, name, status


def _outcome_options(evaluation: Evaluation | None) -> list[tuple[str, str, str]]:
    if evaluation is None:
        return []
    return [(option["modality"], option["name"], option["status"]) for option in evaluation.result["options"]]


def _outcome_form(case: Case, evaluation: Evaluation | None, outcome: Outcome | None) -> OutcomeForm:
    initial: dict[str, Any] = {}
    if outcome is not None:
        initial = {
            "chosen_modalities": outcome.chosen_modalities,
            "plan": outcome.plan,
            "version": outcome.version,
        }
    return OutcomeForm(prefix=f"case{case.pk}", initial=initial, options=_outcome_options(evaluation))


def _render_meeting(
    request: HttpRequest,
    meeting: Meeting,
    *,
    add_form: MeetingAddCaseForm | None = None,
    edit_form: MeetingForm | None = None,
    case_pk: int | None = None,
    outcome_form: OutcomeForm | None = None,
    conflict: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    rows = selectors.meeting_worklist(meeting)
    concordance = selectors.meeting_concordance(meeting)
    order = [row.case.pk for row in rows]
    names = selectors.modality_names()
    may_record = can(user, "record_outcome")
    work = []
    for index, row in enumerate(rows):
        up = down = None
        if index > 0:
            up = order[: index - 1] + [order[index], order[index - 1]] + order[index + 1 :]
        if index < len(rows) - 1:
            down = order[:index] + [order[index + 1], order[index]] + order[index + 2 :]
        form = None
        if row.case.pk == case_pk and outcome_form is not None:
            form = outcome_form
        elif may_record and row.evaluation is not None and not row.case.is_archived:
            form = _outcome_form(row.case, row.evaluation, row.outcome)
        chosen = []
        if row.outcome is not None:
            chosen = [
                (key, names.get(key, key), row.outcome.statuses.get(key, ""))
                for key in row.outcome.chosen_modalities
            ]
        work.append(WorkRow(row, up, down, form, conflict if row.case.pk == case_pk else "", chosen))
    context = {
        "meeting": meeting,
        "rows": work,
        "concordance": concordance,
        "no_option": concordance.recorded - concordance.decided,
        "add_form": add_form or MeetingAddCaseForm(cases=_cases_to_add(meeting)),
        "edit_form": edit_form
        or MeetingForm(prefix="meeting", initial={"title": meeting.title, "date": meeting.date.isoformat()}),
        "can_manage": can(user, "manage_meetings"),
        "can_evaluate": can(user, "manage_cases"),
        "can_export": can(user, "export_summary"),
        "ready_count": sum(1 for row in rows if row.ready),
    }
    return render(request, "treatments/meeting.html", context, status=status)


def _cases_to_add(meeting: Meeting) -> list[Case]:
    """The active cases that are not on the meeting's list yet."""
    return list(selectors.cases_to_add(meeting))


@capability_required("view_cases")
@require_GET
@never_cache
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_meeting(request, _meeting_or_404(pk))


@capability_required("manage_meetings")
@require_POST
@never_cache
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(pk)
    form = MeetingForm(request.POST, prefix="meeting")
    if not form.is_valid():
        return _render_meeting(request, meeting, edit_form=form, status=400)
    services.meeting_update(actor=_user(request), meeting=meeting, data=form.input)
    messages.success(request, f"Meeting changed: {meeting}.")
    return redirect("meeting_detail", pk=meeting.pk)


@capability_required("manage_meetings")
@require_POST
@never_cache
def meeting_add_case(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting_or_404(pk)
    form = MeetingAddCaseForm(request.POST, cases=_cases_to_add(meeting))
    if not form.is_valid():
        return _render_meeting(request, meeting, add_form=form, status=400)
    case = _case_or_404(form.input.case)
    try:
        services.meeting_add_case(actor=_user(request), meeting=meeting, case=case)
    except services.WorkflowError as exc:
        form.add_error("case", _sentence(str(exc)))
        return _render_meeting(request, meeting, add_form=form, status=409)
    messages.success(request, f"{case} added to the list.")
    return redirect(reverse("meeting_detail", args=[meeting.pk]) + f"#case-{case.pk}")


@capability_required("manage_meetings")
@require_POST
@never_cache
def meeting_remove_case(request: HttpRequest, pk: int, case_pk: int) -> HttpResponse:
    meeting = _meeting_or_404(pk)
    case = _case_or_404(case_pk)
    try:
        services.meeting_remove_case(actor=_user(request), meeting=meeting, case=case)
    except services.WorkflowError as exc:
        messages.error(request, _sentence(str(exc)) + ".")
        return _render_meeting(request, meeting, status=409)
    messages.success(request, f"{case} taken off the list.")
    return redirect(reverse("meeting_detail", args=[meeting.pk]) + "#worklist")


@capability_required("manage_meetings")
@require_POST
@never_cache
def meeting_reorder(request: HttpRequest, pk: int) -> HttpResponse:
    """Posts the whole new order (so a page that is out of date cannot scramble the list)."""
    meeting = _meeting_or_404(pk)
    try:
        order = MeetingOrder.model_validate(
            {"cases": [int(value) for value in request.POST.getlist("cases")]}
        )
        services.meeting_reorder(actor=_user(request), meeting=meeting, case_ids=order.cases)
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
    meeting = _meeting_or_404(pk)
    case = _case_or_404(case_pk)
    if not meeting.entries.filter(case=case).exists():
        raise Http404("This case is not on this meeting's list.")
    if case.is_archived:
        return _read_only(request, case)
    evaluation = selectors.latest_evaluation(case)
    prefix = f"case{case.pk}"
    form = OutcomeForm(request.POST, prefix=prefix, options=_outcome_options(evaluation))
    if evaluation is None:
        return _refused(
            request,
            f"{case} has not been evaluated",
            "Evaluate the case before recording the MDT's decision.",
            back=reverse("meeting_detail", args=[meeting.pk]),
        )
    if not form.is_valid():
        return _render_meeting(request, meeting, case_pk=case.pk, outcome_form=form, status=400)
    try:
        services.outcome_record(actor=_user(request), meeting=meeting, case=case, data=form.input)
    except services.EditConflict as exc:
        theirs = exc.current if isinstance(exc.current, Outcome) else None
        data = request.POST.copy()
        data[f"{prefix}-version"] = str(theirs.version) if theirs else ""
        form = OutcomeForm(data, prefix=prefix, options=_outcome_options(evaluation))
        return _render_meeting(
            request, meeting, case_pk=case.pk, outcome_form=form, conflict=_sentence(str(exc)), status=409
        )
    except services.WorkflowError as exc:
        form.add_error(None, _sentence(str(exc)))
        return _render_meeting(request, meeting, case_pk=case.pk, outcome_form=form, status=409)
    messages.success(request, f"Outcome recorded for {case}.")
    return redirect(reverse("meeting_detail", args=[meeting.pk]) + f"#case-{case.pk}")


# --- summaries: HTML and PDF ----------------------------------------------------------------------


def summary_context(case: Case, *, outcome: Outcome | None, meeting: Meeting | None = None) -> dict[str, Any]:
    """What a case summary shows: the case, its latest evaluation (facts, options by status, data to
    obtain, reviews), whether it is out of date, and the MDT outcome (or blank lines)."""
    evaluation = selectors.latest_evaluation(case)
    names = selectors.modality_names()
    context: dict[str, Any] = {
        "case": case,
        "evaluation": evaluation,
        "outcome": outcome,
        "meeting": meeting,
        "modality_names": names,
    }
    if evaluation is None:
        context.update(_facts_context(PatientProfile.model_validate(case.profile)))
        return context
    result = selectors.evaluation_result(evaluation)
    reviews = selectors.reviews_by_modality(evaluation)
    statuses = result.statuses()
    outcome_rows = []
    if outcome is not None:
        outcome_rows = [
            (key, names.get(key, key), outcome.statuses.get(key, statuses.get(key, "")))
            for key in outcome.chosen_modalities
        ]
    context.update(
        {
            "result": result,
            "groups": [group for group in explain.group_by_status(result)],
            "checklist": explain.data_to_obtain(result),
            "stale": selectors.evaluation_staleness(evaluation, case),
            "changed_facts": explain.changed_facts(
                result.profile, PatientProfile.model_validate(case.profile)
            ),
            "reviews": [
                (verdict, reviews[verdict.modality.key])
                for verdict in result.verdicts
                if verdict.modality.key in reviews
            ],
            "outcome_rows": outcome_rows,
            **_facts_context(result.profile),
        }
    )
    return context


def _latest_outcome(case: Case) -> Outcome | None:
    return selectors.case_outcomes(case).first()


def _filename(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-") or "case"


@capability_required("export_summary")
@require_GET
@never_cache
def case_summary(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(pk)
    context = {"case": case, "summary": summary_context(case, outcome=_latest_outcome(case))}
    services.summary_exported(actor=_user(request), obj=case, fmt="html")
    return render(request, "treatments/case_summary.html", context)


@capability_required("export_summary")
@require_GET
@never_cache
def case_summary_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(pk)
    context = {
        "summary": summary_context(case, outcome=_latest_outcome(case)),
        "title": f"Case summary {case.hospital_reference}",
    }
    document = pdf.render_pdf("treatments/pdf/case_summary.html", context, request)
    services.summary_exported(actor=_user(request), obj=case, fmt="pdf")
    return pdf.pdf_response(document, f"netcare-summary-{_filename(case.hospital_reference)}.pdf")


@capability_required("export_summary")
@require_GET
@never_cache
def meeting_pack(request: HttpRequest, pk: int) -> HttpResponse:
    """A cover page listing the cases in order, then each case's summary from a new page."""
    meeting = _meeting_or_404(pk)
    rows = selectors.meeting_worklist(meeting)
    context = {
        "meeting": meeting,
        "rows": rows,
        "summaries": [summary_context(row.case, outcome=row.outcome, meeting=meeting) for row in rows],
        "title": f"{meeting.title}, {meeting.date:%d %B %Y}",
    }
    document = pdf.render_pdf("treatments/pdf/meeting_pack.html", context, request)
    services.summary_exported(actor=_user(request), obj=meeting, fmt="pdf")
    return pdf.pdf_response(document, f"netcare-mdt-pack-{meeting.date:%Y-%m-%d}-{meeting.pk}.pdf")
