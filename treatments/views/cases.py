"""Case pages: the list, create and edit, the case with its latest evaluation and the reviews of
its options, past evaluations and what changed between two.

Each view validates with a form (whose pydantic input is the one the API uses), calls one service
or selector, and renders a page model from context.py. Statuses, reasons and staleness come from
the engine, the services and the selectors; the pages only show them. Every view asks one
capability (roles.py). Archived cases are read-only here. Patient data is never cached by the browser.

Failed writes answer 4xx with the page and the messages next to the fields: 400 for input that does
not validate, 409 when someone else saved first or the workflow refuses the write.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import selectors, services
from ..forms import (
    CASE_FIELDS,
    CaseFilterForm,
    CaseForm,
    EvaluationCompareForm,
    PatientForm,
    ReviewForm,
    WaiverForm,
)
from ..inputs import CaseChange, CaseCreate
from ..models import CardFeedback, Case, Review
from ..roles import can, capability_required
from ..rules import explain
from ..rules.profile import fact_label
from ..selectors import governance
from ..services.audit import case_read
from .common import (
    acting_user,
    add_refusal,
    case_or_404,
    evaluation_or_404,
    needs_ruleset,
    next_url,
    read_only,
    refusal,
)
from .context import (
    ReviewPanel,
    SavedDifference,
    checklist,
    data_jobs,
    facts_context,
    history,
    history_page,
    option_rows,
    review_form,
    shown,
)

CASES_PER_PAGE = 50


# --- lookups (unknown ids are 404) ------------------------------------------------------------------


# --- the case list ----------------------------------------------------------------------------------


@capability_required("view_cases")
@require_GET
@never_cache
def case_list(request: HttpRequest) -> HttpResponse:
    form = CaseFilterForm(request.GET)
    criteria = form.criteria()
    page = Paginator(selectors.case_list(**criteria), CASES_PER_PAGE).get_page(request.GET.get("page"))
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
            case = services.case_create(actor=acting_user(request), data=form.input)
        except services.WorkflowError as exc:  # the reference is taken
            add_refusal(form, exc)
        else:
            messages.success(request, f"{case} created.")
            return redirect("case_detail", pk=case.pk)
    return render(request, "treatments/case_form.html", {"form": form}, status=400)


@capability_required("manage_cases")
@require_http_methods(["GET", "POST"])
@never_cache
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_or_404(pk)
    if case.is_archived:
        return read_only(request, case)
    names = selectors.modality_names()
    if request.method != "POST":
        form = CaseForm(case=case, modality_names=names)
        return render(request, "treatments/case_form.html", {"form": form, "case": case})
    form = CaseForm(request.POST, case=case, modality_names=names)
    if form.is_valid() and isinstance(form.input, CaseChange):
        try:
            services.case_update(actor=acting_user(request), case=case, data=form.input)
        except services.EditConflict as exc:
            return _case_edit_conflict(request, form, exc, names)
        except services.WorkflowError as exc:  # the new reference is taken
            add_refusal(form, exc)
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
    current = case_or_404(current.pk)
    data = request.POST.copy()
    data["version"] = str(current.version)
    form = CaseForm(data, case=current, modality_names=names)
    form.is_valid()
    differences = []
    if typed.details.input is not None:
        for name in CASE_FIELDS:
            mine, theirs = getattr(typed.details.input, name), getattr(current, name)
            if mine is not None and mine != theirs:
                field = typed.details.fields[name]
                differences.append(SavedDifference(str(field.label), shown(name, mine), shown(name, theirs)))
    fact_changes = []
    if typed.facts.profile is not None:
        saved = current.facts
        fact_changes = explain.changed_facts(typed.facts.profile, saved)
    context = {
        "form": form,
        "case": current,
        "conflict": {"message": str(exc), "differences": differences, "facts": fact_changes},
        "modality_names": names,
    }
    return render(request, "treatments/case_form.html", context, status=409)


# --- the case page ----------------------------------------------------------------------------------


def _render_case(
    request: HttpRequest,
    case: Case,
    *,
    key: str = "",
    form: ReviewForm | None = None,
    conflict: str = "",
    theirs: Review | None = None,
    waiver_form: WaiverForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The case page; after a failed review of option `key`, its form as posted and the problem
    (or, after a refused "not needed", that form with its message)."""
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
        "history": history(case, history_page(request.GET.get("history"))),
        "meetings": list(case.meetings.order_by("-date")),
        # What EHR users said about NETcare's CDS cards for this patient, not yet a review.
        "ehr_feedback": list(selectors.pending_feedback(case)),
        "may_record_feedback": editable and can(user, "review_options"),
        **facts_context(case.facts, case.fact_sources),
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
                panels[option] = ReviewPanel(review, review_form(option, review) if may_review else None)
        facts_form = PatientForm(modality_names=names) if context["can_manage"] else None
        context.update(
            {
                "result": result,
                "groups": option_rows(result, panels),
                "checklist": checklist(result, facts_form),
                "data": data_jobs(result, selectors.case_waivers(case), facts_form),
                "can_waive": editable and can(user, "waive_data"),
                "waiver_form": waiver_form,
                # Out of date: changed facts, a newer rule set, and what that publication changes
                # for this patient (the impact report its publisher acknowledged).
                "stale": selectors.evaluation_staleness(evaluation, case)
                + governance.impact_on_case(case.pk, evaluation, names),
                "reviewed": len(reviews),
            }
        )
    return render(request, "treatments/case_detail.html", context, status=status)


@capability_required("view_cases")
@require_GET
@never_cache
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_or_404(pk)
    case_read(actor=acting_user(request), case=case, view="page")
    return _render_case(request, case)


@capability_required("manage_cases")
@require_POST
@never_cache
@needs_ruleset
def case_evaluate(request: HttpRequest, pk: int) -> HttpResponse:
    case = case_or_404(pk)
    try:
        evaluation, created = services.case_evaluate_once(actor=acting_user(request), case=case)
    except services.WorkflowError as exc:
        return refusal(request, exc, back=reverse("case_detail", args=[case.pk]))
    if created:
        messages.success(request, f"{case} evaluated with rule set {evaluation.ruleset_version}.")
    else:
        messages.info(
            request,
            f"Nothing has changed since the latest evaluation of {case} (same facts, rule set "
            f"{evaluation.ruleset_version}): it is kept, and no copy is made.",
        )
    return HttpResponseRedirect(next_url(request, reverse("case_detail", args=[case.pk]) + "#options"))


@capability_required("manage_cases")
@require_http_methods(["GET", "POST"])
@never_cache
def case_archive(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST archives."""
    case = case_or_404(pk)
    if case.is_archived:
        messages.info(request, f"{case} is already archived.")
        return redirect("case_detail", pk=case.pk)
    if request.method == "POST":
        services.case_archive(actor=acting_user(request), case=case)
        messages.success(request, f"{case} archived. It stays readable here and in past meetings.")
        return redirect("case_detail", pk=case.pk)
    return render(request, "treatments/case_archive.html", {"case": case})


@capability_required("review_options")
@require_POST
@never_cache
def case_review(request: HttpRequest, pk: int, eid: int, modality: str) -> HttpResponse:
    case = case_or_404(pk)
    evaluation = evaluation_or_404(case, eid)
    form = ReviewForm(request.POST, prefix=modality)
    try:
        services.review_allowed(evaluation=evaluation, modality=modality)
    except services.EvaluationSuperseded:
        # The page was made from an older evaluation: nothing is saved, what was typed is kept.
        latest = selectors.latest_evaluation(case)
        current = selectors.reviews_by_modality(latest).get(modality) if latest else None
        form = _rebound(request.POST, modality, current.version if current else None)
        message = (
            "A newer evaluation of this case was made since you opened the page, so your review was "
            "not saved. It is kept below: check the option in the latest evaluation and save again."
        )
        return _render_case(request, case, key=modality, form=form, conflict=message, status=409)
    except services.WorkflowError as exc:
        return refusal(request, exc, back=reverse("case_detail", args=[case.pk]))
    if not form.is_valid():
        return _render_case(request, case, key=modality, form=form, status=400)
    try:
        services.option_review(
            actor=acting_user(request), evaluation=evaluation, modality=modality, data=form.input
        )
    except services.EditConflict as exc:
        theirs = exc.current if isinstance(exc.current, Review) else None
        form = _rebound(request.POST, modality, theirs.version if theirs else None)
        return _render_case(
            request, case, key=modality, form=form, conflict=exc.sentence, theirs=theirs, status=409
        )
    except services.WorkflowError as exc:
        form.add_error(None, exc.sentence)
        return _render_case(request, case, key=modality, form=form, status=409)
    messages.success(request, "Review saved.")
    # Meeting mode posts `next` to come back to the case on the room's screen.
    return HttpResponseRedirect(
        next_url(request, reverse("case_detail", args=[case.pk]) + f"#option-{modality}")
    )


@capability_required("review_options")
@require_POST
@never_cache
@needs_ruleset
def case_ehr_feedback_review(request: HttpRequest, pk: int, fid: int) -> HttpResponse:
    """Record one piece of the EHR's feedback on a CDS card as the clinician's review of that option."""
    case = case_or_404(pk)
    feedback = get_object_or_404(CardFeedback, pk=fid, hook_evaluation__linked_case=case)
    try:
        review = services.cds_feedback_review(actor=acting_user(request), feedback=feedback)
    except services.WorkflowError as exc:
        return refusal(request, exc, back=reverse("case_detail", args=[case.pk]))
    messages.success(request, f"EHR feedback recorded as a review ({review.get_decision_display().lower()}).")
    return redirect(reverse("case_detail", args=[case.pk]) + f"#option-{review.modality}")


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
    case = case_or_404(pk)
    evaluation = evaluation_or_404(case, eid)
    case_read(actor=acting_user(request), case=case, view="evaluation page", evaluation=evaluation.pk)
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
        "groups": option_rows(result, panels),
        "checklist": checklist(result, None),
        "stale": selectors.evaluation_staleness(evaluation, case),
        "latest": latest,
        "is_latest": latest is not None and latest.pk == evaluation.pk,
        "modality_names": selectors.modality_names(),
        **facts_context(result.profile, evaluation.fact_sources),
    }
    return render(request, "treatments/evaluation.html", context)


@capability_required("view_cases")
@require_GET
@never_cache
def evaluation_changes(request: HttpRequest, pk: int) -> HttpResponse:
    """What changed between two evaluations of a case (by default: the last two)."""
    case = case_or_404(pk)
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
            "changes": {
                "facts": changes.facts,
                "statuses": changes.options,
                "side_by_side": changes.side_by_side,
            },
            "before_label": form.label_of(before),
            "after_label": form.label_of(after),
            "modality_names": selectors.modality_names(),
        }
    )
    return render(request, "treatments/evaluation_changes.html", context)


# --- data not needed ----------------------------------------------------------------------------------


@capability_required("waive_data")
@require_POST
@never_cache
def case_waive(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark an unknown fact "not needed" for the case, with a reason (readiness then ignores it)."""
    case = case_or_404(pk)
    form = WaiverForm(request.POST, prefix="waive")
    if not form.is_valid():
        return _render_case(request, case, waiver_form=form, status=400)
    try:
        services.waiver_record(actor=acting_user(request), case=case, data=form.input)
    except services.WorkflowError as exc:
        return refusal(request, exc, back=reverse("case_detail", args=[case.pk]))
    messages.success(request, f"{fact_label(form.input.fact)} marked as not needed for {case}.")
    return HttpResponseRedirect(next_url(request, reverse("case_detail", args=[case.pk]) + "#data-jobs"))


@capability_required("waive_data")
@require_POST
@never_cache
def case_unwaive(request: HttpRequest, pk: int, fact: str) -> HttpResponse:
    """The fact is needed after all."""
    case = case_or_404(pk)
    try:
        services.waiver_remove(actor=acting_user(request), case=case, fact=fact)
    except services.WorkflowError as exc:
        return refusal(request, exc, back=reverse("case_detail", args=[case.pk]))
    messages.success(request, f"{fact_label(fact)} is needed again for {case}.")
    return HttpResponseRedirect(next_url(request, reverse("case_detail", args=[case.pk]) + "#data-jobs"))
