"""The catalogue pages: home, every option by category with search, and one option with its rules."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .. import selectors
from ..forms import (
    CatalogueFilterForm,
)
from ..roles import capability_required
from ..rules import explain
from ..rules.document import CATEGORY_LABELS
from ..rules.engine import RULE_KINDS


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "treatments/home.html", {"statuses": explain.STATUS_LABELS})


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
