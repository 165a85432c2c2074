"""The OpenAPI documents: v1 as published (the saved file, byte for byte), v2 as generated."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from .v1 import V1_JSON, V1_YAML


@require_safe
def v1_document(request: HttpRequest) -> HttpResponse:
    """GET /api/schema/: the v1 document exactly as published (YAML, or JSON with ?format=json or
    an Accept header asking for JSON), as drf-spectacular served it."""
    wants_json = request.GET.get("format") == "json" or (
        "json" in request.headers.get("Accept", "") and request.GET.get("format") != "yaml"
    )
    if wants_json:
        return HttpResponse(V1_JSON.read_bytes(), content_type="application/vnd.oai.openapi+json")
    return HttpResponse(V1_YAML.read_bytes(), content_type="application/vnd.oai.openapi; charset=utf-8")
