"""FHIR R4 input over the API (/api/v2/ only: /api/v1/ is frozen, docs/adr/0009).

- POST fhir/profile/: a Bundle -> the facts with their sources, proposals and issues; stores nothing.
- POST fhir/eligibility/: the same, and the eligibility answer for the mapped facts.
- POST cases/{id}/fhir-import/: a Bundle previews what an import would change; `{"bundle",
  "version", "accept"}` applies the accepted facts with the case's edit-conflict rules.

Bodies may be application/fhir+json or application/json, up to FHIR_MAX_BYTES. A caller that asks
for application/fhir+json gets errors as an OperationOutcome. The mapping is treatments/fhir; no
clinical logic here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from pydantic import BaseModel, ConfigDict
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from treatments import selectors, services
from treatments.fhir.mapping import FhirInputError, MappingResult
from treatments.rules.profile import PatientProfile
from treatments.rules.serialize import result_to_json

from .exceptions import InvalidInput, found, query_params, service_call, validated
from .outputs import case_out
from .parsers import FhirJSONParser, FhirPlusJSONParser
from .permissions import acting_user, capability
from .renderers import FhirJSONRenderer, JSONRenderer
from .schemas import (
    CONFLICT_RESPONSE,
    FhirBundle,
    FhirEligibilityAnswer,
    FhirImportAnswer,
    FhirImportApply,
    FhirImportRequest,
    FhirMapping,
)
from .versions import VersionedView

# Errors that mean "too much": the whole body, or too many entries in it.
TOO_LARGE_CODES = frozenset({"too_large", "too_many_entries"})


class FhirRefused(exceptions.APIException):
    """The input cannot be mapped: 400 (invalid FHIR, two patients, deceased, ...) or 413 (too large),
    with the elements at fault in `errors` (loc from "bundle", as FHIRPath in an OperationOutcome)."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, error: FhirInputError):
        super().__init__(f"{error.message} ({error.code})")
        self.errors = error.errors
        if error.code in TOO_LARGE_CODES:
            self.status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


class AsOfQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    as_of: dt.date | None = None


AS_OF = OpenApiParameter(
    "as_of",
    dt.date,
    description="The day the data are read as of (freshness windows, age); default today (UTC).",
)
FHIR_BODY = {"application/fhir+json": FhirBundle, "application/json": FhirBundle}
FHIR_REFUSED = {
    400: OpenApiResponse(
        description="Invalid FHIR, two patients, a deceased patient: `errors` name the elements."
    ),
    413: OpenApiResponse(description="The bundle is larger than FHIR_MAX_BYTES or has too many entries."),
}


class FhirView(VersionedView):
    parser_classes = [FhirPlusJSONParser, FhirJSONParser]
    renderer_classes = [JSONRenderer, FhirJSONRenderer]

    def mapped(self, request: Request, bundle: Any, as_of: dt.date | None = None) -> MappingResult:
        if not isinstance(bundle, dict):
            raise InvalidInput([{"loc": ["bundle"], "msg": "must be a FHIR Bundle (a JSON object)"}])
        day = as_of or query_params(AsOfQuery, request).as_of
        try:
            return selectors.fhir_map(bundle, as_of=day)
        except FhirInputError as error:
            raise FhirRefused(error) from None

    def json(self, request: Request, body: bytes, code: int = 200) -> HttpResponse:
        # Pre-encoded; the content type the caller negotiated (application/json or fhir+json).
        return HttpResponse(body, status=code, content_type=request.accepted_media_type or "application/json")


class FhirProfileView(FhirView):
    """The patient profile a FHIR R4 Bundle gives: each fact with its source, date and code; the
    values a clinician must confirm (proposals, never facts); and what was not used, and why.
    Absence stays unknown. Stores nothing."""

    permission_classes = [capability("check_eligibility")]

    @extend_schema(
        request=FHIR_BODY,
        parameters=[AS_OF],
        responses={200: FhirMapping, **FHIR_REFUSED},
        tags=["fhir"],
    )
    def post(self, request: Request) -> HttpResponse:
        return self.json(request, orjson.dumps(self.mapped(request, request.data).as_json()))


class FhirEligibilityView(FhirView):
    """A FHIR R4 Bundle mapped to facts (as fhir/profile/), and the eligibility answer for those
    facts. Proposals are not evaluated: confirm them on a case first."""

    permission_classes = [capability("check_eligibility")]

    @extend_schema(
        request=FHIR_BODY,
        parameters=[AS_OF],
        responses={200: FhirEligibilityAnswer, **FHIR_REFUSED},
        tags=["fhir"],
    )
    def post(self, request: Request) -> HttpResponse:
        result = self.mapped(request, request.data)
        answer = selectors.eligibility(PatientProfile.model_validate(result.profile))
        body = (
            b'{"mapping":'
            + orjson.dumps(result.as_json())
            + b',"eligibility":'
            + result_to_json(answer)
            + b"}"
        )
        return self.json(request, body)


class CaseFhirImportView(FhirView):
    """Import facts from a FHIR R4 Bundle into a case. Send the Bundle: a preview of every fact
    (the case's value, the imported one, its level and source) and how the Patient's NHS number
    matches the case's, nothing stored. Then send `{"bundle", "version", "accept": [facts]}`: the
    accepted facts are set, with their sources, unless someone saved the case since `version` (409
    with their version) or the NHS numbers differ and `confirm_patient` is not true (409)."""

    permission_classes = [capability("manage_cases")]

    @extend_schema(
        request={"application/json": FhirImportRequest, "application/fhir+json": FhirBundle},
        parameters=[AS_OF],
        responses={
            200: FhirImportAnswer,
            **FHIR_REFUSED,
            **CONFLICT_RESPONSE,
        },
        tags=["fhir"],
        operation_id="cases_fhir_import",
    )
    def post(self, request: Request, case_id: int) -> Response | HttpResponse:
        case = found(selectors.case_get(case_id))
        data = request.data
        if isinstance(data, dict) and data.get("resourceType") == "Bundle":
            return self.preview(request, case, data)
        body = validated(FhirImportApply, data)
        result = self.mapped(request, body.bundle, body.as_of)
        updated = service_call(
            lambda: services.case_fhir_import(
                actor=acting_user(request),
                case=case,
                result=result,
                version=body.version,
                accept=body.accept,
                bundle_sha256=selectors.bundle_sha256(body.bundle),
                confirm_patient=body.confirm_patient,
            ),
            serialize_current=case_out,
        )
        out = {
            "id": updated.pk,
            "version": updated.version,
            "profile": updated.profile,
            "fact_sources": updated.fact_sources,
        }
        return self.json(request, orjson.dumps(out))

    def preview(self, request: Request, case: Any, bundle: dict[str, Any]) -> HttpResponse:
        result = self.mapped(request, bundle)
        rows = selectors.fhir_import_preview(case, result)
        out = {
            "case": case.pk,
            "version": case.version,
            "patient": selectors.fhir_patient_match(case, result).as_json(),
            "changes": [row.as_json() for row in rows],
            "issues": [issue.as_json() for issue in result.issues],
            "proposals": result.proposals,
            "mapping_version": result.mapping_version,
            "as_of": result.as_of.isoformat(),
        }
        return self.json(request, orjson.dumps(out))
