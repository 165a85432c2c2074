"""Cross-origin calls to the CDS endpoints only (CDS Hooks 2.0 §Cross-Origin Resource Sharing): from
the configured origins (CDS_HOOKS_CORS_ORIGINS), with the Authorization and Content-Type headers,
never with credentials. Every other path stays same-origin."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

from .outcomes import is_cds_path

Handler = Callable[[HttpRequest], HttpResponse]


class CdsCorsMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_cds_path(request.path):
            return self.get_response(request)
        origin = request.headers.get("Origin", "")
        allowed = bool(origin) and origin in settings.CDS_HOOKS_CORS_ORIGINS
        preflight = request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
        response = HttpResponse(status=204) if preflight else self.get_response(request)
        patch_vary_headers(response, ("Origin",))
        if allowed:
            response["Access-Control-Allow-Origin"] = origin
            if preflight:
                response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
                response["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
                response["Access-Control-Max-Age"] = "600"
        return response
