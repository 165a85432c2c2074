"""What a meeting sends out, over /api/v2/: the outcome letter (`Accept: application/pdf`), and the
meeting's outcomes as CSV (`Accept: text/csv`) or as a FHIR R4 Bundle (`Accept: application/fhir+json`,
or JSON). Every export is in the audit trail, as on the pages."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from treatments import exports, letters, selectors, services

from .exceptions import found
from .permissions import acting_user, capability
from .renderers import CSVRenderer, FHIRRenderer, JSONRenderer, PDFRenderer
from .versions import VersionedView


class OutcomeLetterView(VersionedView):
    """The MDT outcome letter to the GP and the referrer, as a PDF (404 before an outcome exists)."""

    permission_classes = [capability("export_summary")]
    # PDF only: any other Accept is 406 from the negotiation (errors still go out as JSON, below).
    renderer_classes = [PDFRenderer]

    @extend_schema(
        responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The letter")},
        tags=["meetings"],
    )
    def get(self, request: Request, meeting_id: int, case_id: int) -> Response:
        meeting = found(selectors.meeting_get(meeting_id))
        case = found(selectors.case_get(case_id))
        outcome = selectors.outcome_get(meeting, case)
        if outcome is None:
            raise Http404("No outcome is recorded for this case at this meeting.")
        document = letters.outcome_letter_pdf(outcome, user=acting_user(request))
        services.summary_exported(actor=acting_user(request), obj=case, fmt="letter.pdf")
        response = Response(document, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{letters.letter_filename(outcome)}"'
        response["Cache-Control"] = "no-store"
        return response

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # An error (404, 403, 406) is JSON in the API's error shape, whatever was asked for.
        if response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


class OutcomeExportView(VersionedView):
    """A meeting's outcomes: a FHIR R4 Bundle of CarePlans (JSON or application/fhir+json) or CSV."""

    permission_classes = [capability("export_summary")]
    renderer_classes = [FHIRRenderer, JSONRenderer, CSVRenderer]

    @extend_schema(
        responses={
            (200, "application/fhir+json"): OpenApiResponse(OpenApiTypes.OBJECT, description="FHIR Bundle"),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One line per case"),
        },
        tags=["meetings"],
    )
    def get(self, request: Request, meeting_id: int) -> Response:
        meeting = found(selectors.meeting_get(meeting_id))
        outcomes = selectors.meeting_outcomes(meeting)
        names = selectors.modality_names()
        if request.accepted_renderer.format == "csv":
            services.summary_exported(actor=acting_user(request), obj=meeting, fmt="outcomes.csv")
            return Response(exports.outcomes_csv(outcomes, names))
        services.summary_exported(actor=acting_user(request), obj=meeting, fmt="outcomes.fhir")
        return Response(exports.outcomes_bundle(meeting, outcomes, names))

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
