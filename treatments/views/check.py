"""HTML pages (thin: validate with a form, call selectors, render) and the health check.

Every page needs a login; the catalogue needs `view_catalogue` and the patient check
`check_eligibility` (roles.py). The pages hold no clinical logic: statuses, reasons and missing
facts come from the engine, and rules/explain.py only gathers them for display.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import selectors
from ..forms import (
    PRIOR_MODE_FIELD,
    CatalogueFilterForm,
    PatientForm,
    WhatIfForm,
    encode_profile,
    profile_initial,
)
from ..roles import capability_required
from ..rules import explain
from ..rules.document import CATEGORY_LABELS
from ..rules.engine import RULE_KINDS, EvaluationResult
from ..rules.profile import fact_kind

View = Callable[..., HttpResponse]


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database check for load balancers; no login."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "error"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def _needs_ruleset(view: View) -> View:
    """Answer 503 with instructions, rather than an error, until a rule set is published."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except selectors.NoPublishedRuleSet:
            return render(request, "treatments/no_ruleset.html", status=503)

    return wrapped


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "treatments/home.html", {"statuses": explain.STATUS_LABELS})


# --- catalogue ------------------------------------------------------------------------------------


@capability_required("view_catalogue")
@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    form = CatalogueFilterForm(request.GET)
    criteria = form.criteria()
    shown = selectors.catalogue(category=criteria["category"], search=criteria["search"])
    try:
        total = len(selectors.published_ruleset().modalities)
    except selectors.NoPublishedRuleSet:
        total = 0
    sections = [
        (category, label, [modality for modality in shown if modality.category == category])
        for category, label in CATEGORY_LABELS.items()
    ]
    context = {
        "form": form,
        "sections": [section for section in sections if section[2]],
        "shown": len(shown),
        "total": total,
        "filtered": any(criteria.values()),
    }
    return render(request, "treatments/catalogue.html", context)


@capability_required("view_catalogue")
@require_GET
def modality(request: HttpRequest, key: str) -> HttpResponse:
    found = selectors.modality_detail(key)
    if found is None:
        raise Http404("No treatment option with this key in the rule set in force.")
    rules = list(found.rules.all())
    rule_groups = [(kind, [rule for rule in rules if rule.kind == kind]) for kind in RULE_KINDS]
    context = {
        "modality": found,
        "rule_count": len(rules),
        "rule_groups": [(kind, group) for kind, group in rule_groups if group],
    }
    return render(request, "treatments/modality.html", context)


# --- patient check and what-if --------------------------------------------------------------------


def _modality_names() -> dict[str, str]:
    return explain.modality_names(selectors.published_ruleset().modalities)


@capability_required("check_eligibility")
@require_http_methods(["GET", "POST"])
@never_cache
@_needs_ruleset
def check(request: HttpRequest) -> HttpResponse:
    names = _modality_names()
    if request.method == "POST":
        form = PatientForm(request.POST, modality_names=names)
        if form.is_valid() and form.profile is not None:
            result = selectors.eligibility(form.profile)
            return render(request, "treatments/result.html", _result_context(result, names))
        # Bad input: the form again, with messages by the fields, as a 400 (like the MDT pages).
        return render(request, "treatments/check.html", {"form": form}, status=400)
    form = PatientForm(modality_names=names)
    return render(request, "treatments/check.html", {"form": form})


@capability_required("check_eligibility")
@require_POST
@never_cache
@_needs_ruleset
def whatif(request: HttpRequest) -> HttpResponse:
    """Re-evaluate with changed facts; with htmx only the result region comes back."""
    names = _modality_names()
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
        }
        context = _result_context(after, names, changes=changes)
        response = render(request, _result_template(request), context)
    else:
        context = _result_context(selectors.eligibility(form.base_profile), names, form=form)
        # htmx swaps in only 2xx answers, so its partial carries the messages with a 200.
        status = 200 if getattr(request, "htmx", False) else 400
        response = render(request, _result_template(request), context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _result_template(request: HttpRequest) -> str:
    if getattr(request, "htmx", False):
        return "treatments/includes/result_region.html"
    return "treatments/result.html"


def _result_context(
    result: EvaluationResult,
    names: dict[str, str],
    *,
    form: WhatIfForm | None = None,
    changes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    profile = result.profile
    if form is None:
        form = WhatIfForm(
            initial={**profile_initial(profile), "base": encode_profile(profile)}, modality_names=names
        )
    checklist = [
        {"fact": item.fact, "modalities": item.modalities, "anchor": form.anchor(_field_for(item.fact))}
        for item in explain.data_to_obtain(result)
    ]
    facts = explain.facts_by_group(profile)
    return {
        "result": result,
        "groups": explain.group_by_status(result),
        "checklist": checklist,
        "facts": facts,
        "known_count": len(profile.known_facts()),
        "fact_count": sum(len(rows) for _, _, rows in facts),
        "modality_names": names,
        "form": form,
        "changes": changes,
    }


def _field_for(fact: str) -> str:
    # The list fact is entered as a mode (unknown / none / given) plus boxes; errors land on the mode.
    return PRIOR_MODE_FIELD if fact_kind(fact) == "list" else fact
