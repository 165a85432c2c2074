"""Structured logs: one JSON object per line, each carrying the id of the request it belongs to.

LOG_FORMAT=json (production, `make serve`) writes
    {"time": ..., "level": ..., "logger": ..., "message": ..., "request_id": ..., "method": ...,
     "path": ..., "status": ..., "duration_ms": ..., "user_id": ...}
and LOG_FORMAT=text a readable line for development. RequestIdMiddleware takes X-Request-ID from a
trusted proxy (NETCARE_TRUSTED_PROXIES) or makes one, returns it in the response header, and logs one
line per request.

What a line may hold is fixed here, never a patient identifier or profile: the path without its
query string (searches carry hospital references), the user's database id (not the username), and
for an exception its type and where it was raised, not its message (a database error message can
quote the row it refused, patient data included).
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

request_id: ContextVar[str | None] = ContextVar("netcare_request_id", default=None)

# The request fields a record may carry (as `extra=`), in the order they are written.
REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "user_id")

# A proxy's id is believed only if it looks like one: no spaces, quotes or line breaks in a log line.
_GOOD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

logger = logging.getLogger("netcare.request")


class RequestIdFilter(logging.Filter):
    """Stamps every record with the current request id ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the fields of REQUEST_FIELDS when the record has them."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        for field in REQUEST_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info and record.exc_info[1] is not None:
            entry["exception"] = exception_summary(record.exc_info[1])
        return json.dumps(entry, default=str, ensure_ascii=False)


def exception_summary(exc: BaseException) -> dict[str, Any]:
    """The exception's type and the frames it passed through, without its message."""
    frames = traceback.extract_tb(exc.__traceback__)
    return {
        "type": f"{type(exc).__module__}.{type(exc).__qualname__}",
        "frames": [f"{frame.filename}:{frame.lineno} {frame.name}" for frame in frames[-8:]],
    }


class TextFormatter(logging.Formatter):
    """Development: a readable line, with the request id; exceptions without their messages too."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return json.dumps(exception_summary(ei[1]), indent=1) if ei and ei[1] else ""


def incoming_request_id(request: HttpRequest) -> str | None:
    """The proxy's X-Request-ID, if the request came through a trusted proxy and the id is sane."""
    if str(request.META.get("REMOTE_ADDR", "")) not in set(settings.NETCARE_TRUSTED_PROXIES):
        return None
    value = str(request.META.get("HTTP_X_REQUEST_ID", "")).strip()
    return value if _GOOD_ID.fullmatch(value) else None


def _user_id(request: HttpRequest) -> int | None:
    # Only a user the request already loaded: looking one up here would cost a query per request.
    user = request.__dict__.get("user")
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is empty or not getattr(wrapped, "is_authenticated", False):
        return None
    return int(wrapped.pk)


class RequestIdMiddleware:
    """First in MIDDLEWARE: gives the request its id, returns it as X-Request-ID, logs the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = incoming_request_id(request) or uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = rid
            status = response.status_code
            level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
            fields = {
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": _user_id(request),
            }
            logger.log(level, "%s %s %s", request.method, request.path, status, extra=fields)
            return response
        finally:
            request_id.reset(token)
