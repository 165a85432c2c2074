"""JSON rendering with orjson (an eligibility answer explains ~140 rules, so encoding speed matters),
and the PDF "renderer" that lets a client ask for the case sheet or pack with `Accept: application/pdf`."""

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
