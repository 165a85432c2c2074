"""FHIR pages: "Import from FHIR" on a case (upload, preview with a checkbox per fact, apply) and
"New case from FHIR". The mapping is treatments/fhir, the writes treatments/services/fhir.py; this
module validates, calls them and shows the result (docs/fhir.md section 7)."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from pydantic import ValidationError

from .. import selectors, services
from ..fhir.mapping import FhirInputError, MappingResult
from ..forms.fhir import FhirNewCaseForm, FhirUploadForm, fhir_error_message
from ..inputs import CaseCreate
from ..models import Case
from ..roles import capability_required
from ..rules.profile import error_list
from .common import acting_user, case_or_404, read_only

TEMPLATE = "treatments/case_fhir_import.html"


@capability_required("manage_cases")
@require_http_methods(["GET", "POST"])
@never_cache
def case_fhir_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 1: upload a Bundle; step 2: the preview, a checkbox per fact; step 3: apply the ticked."""
    case = case_or_404(pk)
    if case.is_archived:
        return read_only(request, case)
    if request.method != "POST":
        return render(request, TEMPLATE, {"case": case, "form": FhirUploadForm()})
    if request.POST.get("step") == "apply":
        return _apply(request, case)
    form = FhirUploadForm(request.POST, request.FILES)
    result = _mapped(form)
    if result is None or form.data_bundle is None:
        return render(request, TEMPLATE, {"case": case, "form": form}, status=400)
    return _preview(request, case, form.data_bundle, result, form.cleaned_data.get("as_of"))


def _mapped(form: FhirUploadForm) -> MappingResult | None:
    if not form.is_valid() or form.data_bundle is None:
        return None
    try:
        return selectors.fhir_map(form.data_bundle, as_of=form.cleaned_data.get("as_of"))
    except FhirInputError as error:
        form.refuse(error)
        return None


def _preview(
    request: HttpRequest,
    case: Case,
    bundle: dict[str, Any],
    result: MappingResult,
    as_of: date | None,
    *,
    version: int | None = None,
    problem: str = "",
    status: int = 200,
    accepted: list[str] | None = None,
) -> HttpResponse:
    rows = selectors.fhir_import_preview(case, result)
    if accepted is None:  # proposals and unchanged values start unticked
        accepted = [row.fact for row in rows if not row.proposed and not row.same]
    context = {
        "case": case,
        "rows": rows,
        "patient_match": selectors.fhir_patient_match(case, result),
        "confirm_patient": request.POST.get("confirm_patient") == "yes",
        "result": result,
        "accepted": accepted,
        "bundle_json": orjson.dumps(bundle).decode(),
        "as_of": result.as_of.isoformat() if as_of else "",
        "version": version or case.version,
        "problem": problem,
        "modality_names": selectors.modality_names(),
    }
    return render(request, "treatments/case_fhir_preview.html", context, status=status)


def _apply(request: HttpRequest, case: Case) -> HttpResponse:
    try:
        bundle = selectors.fhir_load(request.POST.get("bundle", "").encode())
        as_of = date.fromisoformat(request.POST["as_of"]) if request.POST.get("as_of") else None
        version = int(request.POST.get("version", ""))
        result = selectors.fhir_map(bundle, as_of=as_of)
    except (FhirInputError, ValueError) as error:
        message = fhir_error_message(error) if isinstance(error, FhirInputError) else str(error)
        form = FhirUploadForm()
        form.add_error(None, f"The import could not be read again ({message}); upload the Bundle again.")
        return render(request, TEMPLATE, {"case": case, "form": form}, status=400)
    accept = request.POST.getlist("accept")

    def again(shown: Case, seen: int, problem: str, status: int) -> HttpResponse:
        """The preview once more, with the problem on top and the boxes as they were ticked."""
        return _preview(
            request,
            shown,
            bundle,
            result,
            as_of,
            version=seen,
            problem=problem,
            status=status,
            accepted=accept,
        )

    if not accept:
        return again(case, version, "Tick at least one fact to import.", 400)
    try:
        services.case_fhir_import(
            actor=acting_user(request),
            case=case,
            result=result,
            version=version,
            accept=accept,
            bundle_sha256=selectors.bundle_sha256(bundle),
            confirm_patient=request.POST.get("confirm_patient") == "yes",
        )
    except services.EditConflict as exc:
        fresh = case_or_404(case.pk)
        problem = f"{exc.sentence}. The preview below compares with the case as saved now."
        return again(fresh, fresh.version, problem, 409)
    except services.WorkflowError as exc:
        return again(case, version, exc.sentence, exc.status)
    messages.success(
        request, f"{len(accept)} fact{'s' if len(accept) != 1 else ''} imported from FHIR into {case}."
    )
    return redirect("case_detail", pk=case.pk)


@capability_required("manage_cases")
@require_http_methods(["GET", "POST"])
@never_cache
def case_fhir_new(request: HttpRequest) -> HttpResponse:
    """A new case from a Bundle: its facts (not its proposals) with their sources."""
    template = "treatments/case_fhir_new.html"
    if request.method != "POST":
        return render(request, template, {"form": FhirNewCaseForm()})
    form = FhirNewCaseForm(request.POST, request.FILES)
    result = _mapped(form)
    if result is None or form.data_bundle is None:
        return render(request, template, {"form": form}, status=400)
    data = _case_input(form, result)
    if data is None:
        return render(request, template, {"form": form, "result": result}, status=400)
    try:
        case = services.case_create_from_fhir(
            actor=acting_user(request),
            data=data,
            result=result,
            bundle_sha256=selectors.bundle_sha256(form.data_bundle),
        )
    except services.WorkflowError as exc:  # the hospital reference is taken
        form.add_error("hospital_reference", exc.sentence)
        return render(request, template, {"form": form, "result": result}, status=400)
    messages.success(request, f"{case} created from FHIR with {len(result.profile)} facts.")
    return redirect("case_detail", pk=case.pk)


def _case_input(form: FhirNewCaseForm, result: MappingResult) -> CaseCreate | None:
    """The new case as the case form would validate it; errors land by the field they concern."""
    patient = result.patient
    reference = form.cleaned_data.get("hospital_reference") or _hospital_identifier(patient)
    raw = {
        "hospital_reference": reference or "",
        "nhs_number": patient.get("nhs_number") or "",
        "referring_clinician": form.cleaned_data["referring_clinician"],
        "question": form.cleaned_data["question"],
        "profile": result.profile,
    }
    try:
        return CaseCreate.model_validate(raw)
    except ValidationError as exc:
        for error in error_list(exc):
            name = str(error["loc"][0]) if error["loc"] else ""
            if name == "hospital_reference":
                where = "Hospital reference" + (
                    "" if form.cleaned_data.get("hospital_reference") else " (from the Patient)"
                )
                form.add_error("hospital_reference", f"{where}: {error['msg']}")
            elif name == "nhs_number":
                form.add_error("bundle", f"NHS number of the Patient: {error['msg']}")
            elif name in form.fields:
                form.add_error(name, f"{form.fields[name].label}: {error['msg']}")
            else:
                form.add_error(None, f"{'.'.join(map(str, error['loc']))}: {error['msg']}")
        return None


def _hospital_identifier(patient: dict[str, Any]) -> str | None:
    """The Patient's hospital identifier: a medical record number (type MR) first, else the first
    identifier that is not the NHS number."""
    identifiers = patient.get("identifiers") or []
    chosen = next((i for i in identifiers if i.get("type") == "MR"), identifiers[0] if identifiers else None)
    return str(chosen["value"]) if chosen else None
