"""Where a CDS card's link leads (docs/cds-hooks.md, "Cards"): after login, the NETcare case the call
was linked to, or else the check the call made, as the patient-check result page shows it."""

from __future__ import annotations

from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .. import selectors
from ..models import HookEvaluation
from ..roles import can, capability_required
from ..rules.serialize import result_from_dict
from .context import result_context


@capability_required("check_eligibility")
@require_GET
@never_cache
def hook_evaluation(request: HttpRequest, pk: UUID) -> HttpResponse:
    try:
        stored = selectors.hook_evaluation_get(pk)
    except HookEvaluation.DoesNotExist:
        raise Http404("No such CDS evaluation.") from None
    if stored.linked_case is not None and can(request.user, "view_cases"):
        return redirect("case_detail", pk=stored.linked_case.pk)
    result = result_from_dict(stored.result, stored.profile)
    names = {verdict.modality.key: verdict.modality.name for verdict in result.verdicts}
    context = result_context(result, names)
    context["cds_evaluation"] = stored
    return render(request, "treatments/result.html", context)
