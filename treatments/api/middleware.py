"""The last word on every response under /api/: an error that is not JSON becomes the API's one error
shape, whoever made it - Django's own 404 and 405 (with DEBUG on, its HTML debug pages), the schema
and docs views, a CSRF refusal, a crash. API clients and schemathesis never have to parse HTML."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

import orjson
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from .exceptions import error_body

Handler = Callable[[HttpRequest], HttpResponse]


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def error_detail(request: HttpRequest, status: int) -> str:
    if status == HTTPStatus.NOT_FOUND:
        return f"No API endpoint at {request.path}."
    if status == HTTPStatus.METHOD_NOT_ALLOWED:
        return f'Method "{request.method}" not allowed.'
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return "Internal error; it has been logged."
    try:
        return HTTPStatus(status).phrase + "."
    except ValueError:
        return "The request failed."


class ApiJsonErrorsMiddleware:
    """Rewrites a non-JSON error answer to an /api/ path into {"detail": ..., "errors": []}, keeping
    its status and headers (Allow, Retry-After, the v1 deprecation headers)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= HTTPStatus.BAD_REQUEST
            and is_api_path(request.path)
            and not isinstance(response, StreamingHttpResponse)
            and not response.get("Content-Type", "").startswith(("application/json", "application/fhir+json"))
        ):
            response.content = orjson.dumps(error_body(error_detail(request, response.status_code)))
            response["Content-Type"] = "application/json"
            if response.has_header("Content-Length"):  # set by an inner middleware for the old body
                response["Content-Length"] = str(len(response.content))
        return response
