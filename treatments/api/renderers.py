"""JSON rendering with orjson: an eligibility answer explains ~140 rules, so encoding speed matters."""

from __future__ import annotations

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


class PDFRenderer(BaseRenderer):
    """A PDF the view has already made (bytes); errors still go out as JSON (see PdfView)."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return data if isinstance(data, bytes) else b""


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return data.encode() if isinstance(data, str) else b""


class FHIRRenderer(JSONRenderer):
    media_type = "application/fhir+json"
    format = "fhir"
