"""JSON rendering with orjson: an eligibility answer explains ~140 rules, so encoding speed matters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from django.utils.functional import Promise
from rest_framework.renderers import BaseRenderer


class JSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None  # JSON is UTF-8 by definition (RFC 8259)

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS)


def _default(value: Any) -> Any:
    if isinstance(value, Promise):  # lazy translation strings in framework messages
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


# An HTTP error status as the FHIR issue type of an OperationOutcome (http://hl7.org/fhir/issue-type).
_ISSUE_TYPES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    413: "too-long",
    415: "not-supported",
    429: "throttled",
}


class FhirJSONRenderer(JSONRenderer):
    """application/fhir+json for callers that ask for it: an error becomes an OperationOutcome (one
    issue per error, its location as FHIRPath); an answer is NETcare's JSON document as it is."""

    media_type = "application/fhir+json"
    # The same ?format= as JSON (which wins it): the media type is chosen by the Accept header only.
    format = "json"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        response = (renderer_context or {}).get("response")
        status = getattr(response, "status_code", 200)
        if status >= 400 and isinstance(data, dict) and "detail" in data:
            data = operation_outcome(status, str(data["detail"]), data.get("errors") or [])
        return super().render(data, accepted_media_type, renderer_context)


def operation_outcome(status: int, detail: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The API's error shape as a FHIR OperationOutcome."""
    from treatments.fhir.mapping import fhirpath

    code = _ISSUE_TYPES.get(status, "exception")
    issues = [
        {
            "severity": "error",
            "code": code,
            "diagnostics": f"{detail} {error.get('msg', '')}".strip(),
            **({"expression": [fhirpath(error["loc"])]} if error.get("loc") else {}),
        }
        for error in errors
    ] or [{"severity": "error", "code": code, "diagnostics": detail}]
    return {"resourceType": "OperationOutcome", "issue": issues}


class PDFRenderer(BaseRenderer):
    """Content negotiation only: a view that accepts it answers the PDF bytes it made (views that can
    send a PDF list it after JSON, so `*/*` still gets JSON). Errors are JSON (`PdfOrJson`)."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        raise TypeError("PDFRenderer renders PDF bytes only")


class PdfOrJson:
    """A view mixin: JSON by default, the PDF it makes to `Accept: application/pdf` (or `?format=pdf`);
    its errors are JSON in the API's error shape whatever was asked for."""

    renderer_classes: Sequence[type[BaseRenderer]] = [JSONRenderer, PDFRenderer]

    def wants_pdf(self, request: Any) -> bool:
        return (
            getattr(request, "accepted_renderer", None) is not None
            and request.accepted_renderer.format == "pdf"
        )

    def handle_exception(self, exc: Exception) -> Any:
        request = getattr(self, "request", None)
        if request is not None and self.wants_pdf(request):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)  # type: ignore[misc]


class CSVRenderer(BaseRenderer):
    """Text the view has already made as CSV (a meeting's outcomes)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return data.encode() if isinstance(data, str) else b""


class FHIRRenderer(FhirJSONRenderer):
    """A FHIR resource (a meeting's outcomes as a Bundle) as application/fhir+json, also by
    `?format=fhir`; its errors are OperationOutcomes, as for every FHIR caller."""

    format = "fhir"
