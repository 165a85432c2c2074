"""One set of views for /api/v1/ and /api/v2/: the URL map gives each view its `api_version`.

v2 is contract 1.2 as the engine answers it. v1 is the published document (v1.py): its requests are
checked against the saved schemas, its answers reduced to what the document allows, and every answer
carries the deprecation headers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from pydantic import BaseModel
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import v1
from .exceptions import InvalidInput, validated

ApiVersion = Literal["v1", "v2"]
VERSIONS: tuple[ApiVersion, ...] = ("v1", "v2")


class VersionedView(APIView):
    """An API view serving both versions; `as_view(api_version="v1")` makes its v1 instance."""

    api_version: ApiVersion = "v2"

    @property
    def is_v1(self) -> bool:
        return self.api_version == "v1"

    def validated(self, model: type[BaseModel], data: Any, component: str, sent: Any = None) -> Any:
        """The body validated by `model`; in v1 also by the saved document's schema `component`
        (checked on `sent`, what the client sent, when `data` has been completed from the store)."""
        extra = v1.request_errors(component, data if sent is None else sent) if self.is_v1 else []
        try:
            body = validated(model, data)
        except InvalidInput as exc:
            raise InvalidInput(v1.combined(exc.errors, extra)) from exc
        if extra:
            raise InvalidInput(extra)
        return body

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.is_v1:
            if isinstance(response, Response) and response.data is not None:
                # Every answer, errors too (a 409 carries `current`), in the shapes v1 published.
                response.data = v1.body(response.data)
            for header, value in v1.deprecation_headers().items():
                response[header] = value
        return response


def deprecated(view: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """A plain Django view of v1 (the 404 for unknown paths) with the deprecation headers."""

    def wrapped(request: HttpRequest) -> HttpResponse:
        response = view(request)
        for header, value in v1.deprecation_headers().items():
            response[header] = value
        return response

    wrapped.csrf_exempt = True  # type: ignore[attr-defined]
    return wrapped
