"""Check a patient: the facts form, the grouped result with reasons, what-if, and saving a check
as a case.

The patient check needs `check_eligibility` (roles.py); saving it as a case needs `manage_cases`,
as creating a case does. The pages hold no clinical logic: statuses, reasons and missing facts come
from the engine, and rules/explain.py only gathers and pairs them for display.

A result's address holds its facts (GET /check/?primary_site=...), so it can be bookmarked and
shared; the check form holds no identifier, so neither does the address. The identifiers a case
needs are typed on the save page and posted, never put in a link.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .. import selectors, services
from ..forms import (
    CaseFromCheckForm,
    PatientForm,
    WhatIfForm,
    profile_query,
)
from ..inputs import CaseCreate
from ..roles import can, capability_required
from ..rules import explain
from ..rules.engine import EvaluationResult
from .common import (
    acting_user,
    add_refusal,
    needs_ruleset,
)
from .context import (
    facts_context,
    result_context,
)

# --- patient check and what-if --------------------------------------------------------------------


@capability_required("check_eligibility")
@require_http_methods(["GET", "POST"])
@never_cache
@needs_ruleset
def check(request: HttpRequest) -> HttpResponse:
    """The form; with facts (the form sent by GET, a bookmarked link, or a POST) the result."""
    names = selectors.published_ruleset().names
    if request.method == "POST":
        form = PatientForm(request.POST, modality_names=names)
    elif request.GET:
        form = PatientForm(request.GET, modality_names=names, from_link=True)
    else:
        return render(request, "treatments/check.html", {"form": PatientForm(modality_names=names)})
    if form.is_valid() and form.profile is not None:
        result = selectors.eligibility(form.profile)
        return render(request, "treatments/result.html", _result_page(request, result, names))
    # Bad input: the form again, with messages by the fields, as a 400 (like the MDT pages).
    return render(request, "treatments/check.html", {"form": form}, status=400)


@capability_required("check_eligibility")
@require_POST
@never_cache
@needs_ruleset
def whatif(request: HttpRequest) -> HttpResponse:
    """Re-evaluate with changed facts, compared with the original check (the hidden `base`, kept
    through every what-if); with htmx only the result region comes back."""
    names = selectors.published_ruleset().names
    form = WhatIfForm(request.POST, modality_names=names)
    valid = form.is_valid()
    if form.base_profile is None:
        response = render(request, "treatments/bad_request.html", {"form": form}, status=400)
    elif valid and form.profile is not None:
        before = selectors.eligibility(form.base_profile)
        after = selectors.eligibility(form.profile)
        changes = {
            "statuses": explain.compare(before, after),
            "facts": explain.changed_facts(before.profile, after.profile),
            "side_by_side": explain.side_by_side(before, after),
        }
        context = _result_page(request, after, names, changes=changes, base=form.base_profile)
        response = render(request, _result_template(request), context)
    else:
        original = selectors.eligibility(form.base_profile)
        context = _result_page(request, original, names, form=form, base=form.base_profile)
        # htmx swaps in only 2xx answers, so its partial carries the messages with a 200.
        status = 200 if getattr(request, "htmx", False) else 400
        response = render(request, _result_template(request), context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _result_page(
    request: HttpRequest, result: EvaluationResult, names: dict[str, str], **options: Any
) -> dict[str, Any]:
    return {
        **result_context(result, names, **options),
        "can_save_case": can(request.user, "manage_cases"),
    }


def _result_template(request: HttpRequest) -> str:
    if getattr(request, "htmx", False):
        return "treatments/includes/result_region.html"
    return "treatments/result.html"


# --- a check saved as a case ----------------------------------------------------------------------


@capability_required("manage_cases")
@require_http_methods(["GET", "POST"])
@never_cache
@needs_ruleset
def check_save(request: HttpRequest) -> HttpResponse:
    """Save the checked facts (in the address, as on the result page) as a new case with its first
    evaluation, and optionally put it on an upcoming meeting. GET asks for the case's identifiers;
    POST creates it. On a refusal everything typed is shown again."""
    names = selectors.published_ruleset().names
    facts = PatientForm(request.GET, modality_names=names, from_link=True)
    if not facts.is_valid() or facts.profile is None:
        return render(request, "treatments/check.html", {"form": facts}, status=400)
    meetings = list(selectors.meeting_list(upcoming=True)) if can(request.user, "manage_meetings") else None
    data = request.POST if request.method == "POST" else None
    form = CaseFromCheckForm(data, meetings=meetings)
    status = 200
    if data is not None:
        if form.is_valid() and isinstance(form.input, CaseCreate):
            created = _save(request, form, form.input.model_copy(update={"profile": facts.profile}))
            if created is not None:
                return created
        status = 400
    context = {
        "form": form,
        "query": profile_query(facts.profile),
        "modality_names": names,
        **facts_context(facts.profile),
    }
    return render(request, "treatments/check_save.html", context, status=status)


def _save(request: HttpRequest, form: CaseFromCheckForm, data: CaseCreate) -> HttpResponse | None:
    """Create the case (and its evaluation, and its place on a meeting); None after a refusal,
    which is put on the form."""
    meeting = form.chosen_meeting()
    try:
        case, evaluation = services.case_create_from_check(
            actor=acting_user(request), data=data, meeting=meeting
        )
    except services.WorkflowError as exc:  # the reference is taken, or the meeting refused it
        add_refusal(form, exc)
        return None
    where = f" and added to {meeting}" if meeting is not None else ""
    messages.success(
        request,
        f"{case} created from the check, evaluated with rule set {evaluation.ruleset_version}{where}.",
    )
    return redirect("case_detail", pk=case.pk)
