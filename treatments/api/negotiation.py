"""Content negotiation that matches what the API serves, without DRF's full parse of the Accept header
(measurably slow on every eligibility call)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import Http404
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.settings import api_settings


class SimpleNegotiation(BaseContentNegotiation):
    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> Any:
        content_type = request.content_type.split(";", 1)[0].strip().lower()
        return next((parser for parser in parsers if parser.media_type == content_type), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> Any:
        renderers = list(renderers)
        wanted = format_suffix or request.query_params.get(str(api_settings.URL_FORMAT_OVERRIDE))
        if wanted:
            renderer = next((r for r in renderers if r.format == wanted), None)
            if renderer is None:
                raise Http404(f"No {wanted!r} format here.")
            return renderer, renderer.media_type
        accept = request.META.get("HTTP_ACCEPT", "").lower()
        if not accept or "*/*" in accept:
            return renderers[0], renderers[0].media_type
        for renderer in renderers:
            kind = renderer.media_type.split(";", 1)[0]
            if kind in accept or f"{kind.split('/')[0]}/*" in accept:
                return renderer, renderer.media_type
        raise NotAcceptable(available_renderers=renderers)
