"""One error shape for the whole API: {"detail": "...", "errors": [{"loc": [...], "msg": "..."}]}.

Every failure - validation, parsing, authentication, permission, not found, method, media type,
size, throttling - is answered in this shape, so clients have one thing to handle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from treatments import services
from treatments.rules.profile import error_list
from treatments.selectors import NoPublishedRuleSet

ErrorItem = dict[str, Any]
T = TypeVar("T")


class InvalidInput(exceptions.APIException):
    """Field-level validation errors, already in the contract's shape."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request is not valid."
    default_code = "invalid"

    def __init__(self, errors: list[ErrorItem], detail: str | None = None):
        self.errors = errors
        super().__init__(detail or self.default_detail)

    @classmethod
    def from_pydantic(cls, exc: PydanticValidationError, prefix: tuple[str | int, ...] = ()) -> InvalidInput:
        return cls(error_list(exc, prefix))


class InvalidCredentials(exceptions.AuthenticationFailed):
    """Wrong username or password at the token endpoint: 401, naming the field."""

    def __init__(self) -> None:
        self.errors = [{"loc": ["password"], "msg": "username and password do not match an active user"}]
        super().__init__("Unable to log in with these credentials.")


def validated(model: type[BaseModel], data: Any) -> Any:
    """A request body validated by a pydantic model, or InvalidInput (400) naming each field."""
    if not isinstance(data, dict):
        raise InvalidInput([{"loc": [], "msg": "the body must be a JSON object"}])
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise InvalidInput.from_pydantic(exc) from exc


class Conflict(exceptions.APIException):
    """409: the write would overwrite someone else's newer change, or the workflow does not allow it."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, detail: str, current: dict[str, Any] | None = None):
        super().__init__(detail)
        self.current = current


def service_call(call: Callable[[], T], *, serialize_current: Callable[[Any], Any] | None = None) -> T:
    """Run a service call; its refusals become the API's errors, each as its type declares (400 names
    the field at fault; 409 carries, for an edit conflict, what the other person saved)."""
    try:
        return call()
    except services.EditConflict as exc:
        current = serialize_current(exc.current) if serialize_current and exc.current is not None else None
        raise Conflict(str(exc), current) from exc
    except services.GatesFailed as exc:
        raise GatesConflict(str(exc), [gate_out(gate) for gate in exc.gates]) from exc
    except services.InvalidKnowledgeBase as exc:
        raise InvalidInput([problem_item(problem) for problem in exc.problems]) from exc
    except services.WorkflowError as exc:
        if exc.status == status.HTTP_400_BAD_REQUEST:
            raise InvalidInput([{"loc": exc.loc or [], "msg": str(exc)}]) from exc
        if exc.status == status.HTTP_403_FORBIDDEN:
            raise exceptions.PermissionDenied(exc.sentence) from exc
        raise Conflict(str(exc)) from exc


class GatesConflict(exceptions.APIException):
    """409: a rule set cannot be published yet; `gates` says which gate failed and why."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "gates_failed"

    def __init__(self, detail: str, gates: list[dict[str, Any]]):
        super().__init__(f"Not published: {detail}")
        self.gates = gates


def gate_out(gate: Any) -> dict[str, Any]:
    return {"gate": gate.gate, "ok": gate.ok, "why": gate.why, "evidence": gate.evidence}


def problem_item(problem: Any) -> ErrorItem:
    """A knowledge-base problem as an error item: the path names modality, rule and field."""
    loc: list[str | int] = ["document"]
    loc += [part for part in (problem.modality, problem.rule_id) if part]
    loc += [part for part in problem.field.split(".") if part]
    return {"loc": loc, "msg": problem.message}


def query_params(model: type[BaseModel], request: Any) -> Any:
    """The query string validated by a pydantic model, or InvalidInput (400) naming each parameter."""
    try:
        return model.model_validate(dict(request.query_params.items()))
    except PydanticValidationError as exc:
        raise InvalidInput.from_pydantic(exc, ("query",)) from exc


def found(obj: T | None) -> T:
    """The object a path names, or 404 in the API's error shape."""
    if obj is None:
        raise Http404
    return obj


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is not ready."
    default_code = "unavailable"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, PydanticValidationError):
        exc = InvalidInput.from_pydantic(exc)
    elif isinstance(exc, NoPublishedRuleSet):
        exc = ServiceUnavailable(str(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let Django log it and answer with handler500
    response.data = {"detail": _detail(exc), "errors": _errors(exc)}
    if hasattr(exc, "current"):  # a 409 edit conflict carries what the other person saved
        response.data["current"] = exc.current
    if isinstance(exc, GatesConflict):  # a refused publication lists every gate
        response.data["gates"] = exc.gates
    return response


def _detail(exc: Exception) -> str:
    if isinstance(exc, exceptions.ValidationError):
        return "The request is not valid."
    detail = getattr(exc, "detail", None)
    return str(detail) if isinstance(detail, str) else str(exc)


def _errors(exc: Exception) -> list[ErrorItem]:
    errors = getattr(exc, "errors", None)  # InvalidInput, InvalidCredentials, a refused batch answer
    if isinstance(errors, list):
        return errors
    if isinstance(exc, exceptions.ValidationError):
        return list(_flatten(exc.detail, []))
    return []


def _flatten(detail: Any, loc: list[str | int]) -> Any:
    """DRF's nested error dicts and lists -> [{"loc": [...], "msg": "..."}]."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            yield from _flatten(value, [*loc, key] if key != "non_field_errors" else loc)
    elif isinstance(detail, list) and detail and all(isinstance(item, str) for item in detail):
        for message in detail:
            yield {"loc": loc, "msg": str(message)}
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            yield from _flatten(item, [*loc, index])
    else:
        yield {"loc": loc, "msg": str(detail)}


def error_body(detail: str, errors: list[ErrorItem] | None = None) -> dict[str, Any]:
    return {"detail": detail, "errors": errors or []}


# Django-level handlers, for what never reaches a DRF view (unmatched /api/ URLs, crashes).


@csrf_exempt  # answers any method with 404; it changes nothing
def api_not_found(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body(f"No API endpoint at {request.path}."), status=404)


def api_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body("Internal error; it has been logged."), status=500)
