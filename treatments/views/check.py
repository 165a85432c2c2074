"""Check a patient: the facts form, the grouped result with reasons, and what-if.

The patient check needs `check_eligibility` (roles.py). The pages hold no clinical logic: statuses,
reasons and missing facts come from the engine, and rules/explain.py only gathers them for display.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from .. import selectors
from ..forms import (
    PatientForm,
    WhatIfForm,
)
from ..roles import capability_required
from ..rules import explain
from .common import (
    needs_ruleset,
)
from .context import (
    result_context,
)

View = Callable[..., HttpResponse]


# --- catalogue ------------------------------------------------------------------------------------


# --- patient check and what-if --------------------------------------------------------------------


@capability_required("check_eligibility")
@require_http_methods(["GET", "POST"])
@never_cache
@needs_ruleset
def check(request: HttpRequest) -> HttpResponse:
    names = selectors.published_ruleset().names
    if request.method == "POST":
        form = PatientForm(request.POST, modality_names=names)
        if form.is_valid() and form.profile is not None:
            result = selectors.eligibility(form.profile)
            return render(request, "treatments/result.html", result_context(result, names))
        # Bad input: the form again, with messages by the fields, as a 400 (like the MDT pages).
        return render(request, "treatments/check.html", {"form": form}, status=400)
    form = PatientForm(modality_names=names)
    return render(request, "treatments/check.html", {"form": form})


@capability_required("check_eligibility")
@require_POST
@never_cache
@needs_ruleset
def whatif(request: HttpRequest) -> HttpResponse:
    """Re-evaluate with changed facts; with htmx only the result region comes back."""
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
        }
        context = result_context(after, names, changes=changes)
        response = render(request, _result_template(request), context)
    else:
        context = result_context(selectors.eligibility(form.base_profile), names, form=form)
        # htmx swaps in only 2xx answers, so its partial carries the messages with a 200.
        status = 200 if getattr(request, "htmx", False) else 400
        response = render(request, _result_template(request), context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _result_template(request: HttpRequest) -> str:
    if getattr(request, "htmx", False):
        return "treatments/includes/result_region.html"
    return "treatments/result.html"
