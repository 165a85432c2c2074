"""The CDS Hooks endpoints: discovery, the service and its feedback (docs/cds-hooks.md).

No login, no session, no CSRF token: every call carries a JWT signed by a registered EHR, checked
before anything else (auth.py). Every refusal is an OperationOutcome with a 4xx or 503 status.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

import orjson
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from pydantic import BaseModel, ValidationError

from .. import selectors
from ..api.throttling import rate_take
from ..fhir.mapping import FhirInputError
from ..models import CdsClient
from ..rules.profile import error_list
from ..services.cds import card_feedback_record
from . import hooks, prefetch
from .auth import CdsAuthFailed, JwtUse, authenticate_deferred, use_jti
from .outcomes import operation_outcome
from .schemas import FeedbackRequest, HookRequest

logger = logging.getLogger("netcare.cds")

CdsView = Callable[[HttpRequest, CdsClient, JwtUse], HttpResponse]


def cds_endpoint(
    *methods: str, store_jti_in_view: bool = False
) -> Callable[[CdsView], Callable[[HttpRequest], HttpResponse]]:
    """Checks every call makes before the view: configured, method, JWT (aud = the public URL of
    this path, never the Host header), rate per client; database outages answer 503.

    The JWT id is stored (replay store) before the view, or with `store_jti_in_view` by the view in
    the transaction that keeps its answer (one commit per call instead of two), and after the view
    if it did not: a replay is refused either way."""

    def decorator(view: CdsView) -> Callable[[HttpRequest], HttpResponse]:
        @csrf_exempt
        @never_cache
        @wraps(view)
        def wrapped(request: HttpRequest) -> HttpResponse:
            if not settings.CDS_HOOKS_BASE_URL:
                return operation_outcome(503, "The CDS service is not configured (CDS_HOOKS_BASE_URL).")
            if request.method not in methods:
                response = operation_outcome(405, f'Method "{request.method}" not allowed.')
                response["Allow"] = ", ".join(methods)
                return response
            audience = settings.CDS_HOOKS_BASE_URL + request.path.removeprefix("/cds-hooks")
            try:
                client, jwt_use = authenticate_deferred(
                    request.headers.get("Authorization", ""), audience=audience
                )
                allowed, wait = rate_take(f"cds_throttle_{client.pk}", settings.CDS_HOOKS_THROTTLE)
                if not allowed:
                    response = operation_outcome(429, "Too many calls from this client; try again shortly.")
                    response["Retry-After"] = str(max(1, round(wait)))
                    return response
                if not store_jti_in_view:
                    use_jti(jwt_use)
                answer = view(request, client, jwt_use)
                use_jti(jwt_use)  # nothing if the view stored it
                return answer
            except CdsAuthFailed as exc:
                logger.warning("cds: refused %s %s: %s", request.method, request.path, exc)
                return operation_outcome(401, "Authentication failed.")
            except (OperationalError, InterfaceError) as exc:
                logger.error("cds: database unavailable on %s: %s", request.path, type(exc).__name__)
                return operation_outcome(503, "The database is unavailable. Try again shortly.")

        return wrapped

    return decorator


class BadBody(Exception):
    def __init__(self, response: HttpResponse):
        self.response = response


def _body(request: HttpRequest, model: type[BaseModel]) -> Any:
    """The JSON body as `model`; BadBody carries the 400/413/415 answer naming the fields."""
    content_type = request.content_type or ""
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise BadBody(operation_outcome(415, "Send the body as application/json."))
    length = int(request.headers.get("Content-Length") or 0)
    if length > settings.CDS_HOOKS_MAX_BODY_BYTES:
        raise BadBody(operation_outcome(413, f"The body is over {settings.CDS_HOOKS_MAX_BODY_BYTES} bytes."))
    try:
        data = orjson.loads(request.read(settings.CDS_HOOKS_MAX_BODY_BYTES + 1))
    except orjson.JSONDecodeError as exc:
        raise BadBody(operation_outcome(400, f"The body is not valid JSON: {exc}")) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = error_list(exc)
        paths = [[str(part) for part in error["loc"]] or ["body"] for error in errors]
        message = "; ".join(
            f"{'.'.join(path)}: {error['msg']}" for path, error in zip(paths, errors, strict=True)
        )
        raise BadBody(operation_outcome(400, message, expressions=paths)) from None


def _json(body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(orjson.dumps(body), content_type="application/json")


# --- the endpoints -----------------------------------------------------------------------------------


@cds_endpoint("GET")
def discovery(request: HttpRequest, client: CdsClient, jwt_use: JwtUse) -> HttpResponse:
    return _json({"services": [hooks.service_definition()]})


@cds_endpoint("POST", store_jti_in_view=True)
def service(request: HttpRequest, client: CdsClient, jwt_use: JwtUse) -> HttpResponse:
    started = time.perf_counter()
    received_at = datetime.now(UTC)
    try:
        call = _body(request, HookRequest)
    except BadBody as bad:
        return bad.response
    if call.hook != hooks.HOOK:
        return operation_outcome(400, f"This service answers the {hooks.HOOK} hook.", expressions=[["hook"]])
    if call.fhirAuthorization is not None:
        use_jti(jwt_use)  # before NETcare may query the EHR's FHIR server with the call's token
    try:
        answer = hooks.patient_view(call, client, jwt_use, received_at=received_at, started=started)
    except selectors.NoPublishedRuleSet:
        return operation_outcome(503, "No rule set is published in NETcare yet.")
    except prefetch.PrefetchMissing as exc:
        return operation_outcome(412, str(exc), expressions=[["prefetch", key] for key in exc.keys])
    except FhirInputError as exc:
        return operation_outcome(
            400, f"The prefetch cannot be read: {exc.message}", expressions=[[exc.location]]
        )
    return _json(answer)


@cds_endpoint("POST")
def feedback(request: HttpRequest, client: CdsClient, jwt_use: JwtUse) -> HttpResponse:
    try:
        body = _body(request, FeedbackRequest)
    except BadBody as bad:
        return bad.response
    card_feedback_record(client=client, items=list(body.feedback))
    return HttpResponse(status=200)


def not_found(request: HttpRequest) -> JsonResponse:
    return operation_outcome(404, f"No CDS Hooks endpoint at {request.path}.")
