"""Project-wide HTTP behaviour that belongs to no single view: request bodies that cannot be read,
a database that cannot be reached, the Content-Security-Policy, and the readiness check.

- A chunked request body (no Content-Length) reads as empty under WSGI: it is refused with 411,
  rather than answered as if the client had sent nothing (security review F17).
- A lost or unreachable database (or shared cache) answers 503 with Retry-After, not 500, so clients and load
  balancers can tell an outage from a bug (F8). API paths answer in the API's error shape.
- Every response carries a Content-Security-Policy (F14): scripts, styles and images from our own
  static files only; the pages have no inline script or style.
- `/readyz` (readiness) checks what serving needs (database, cache, rule set, static manifest);
  `/healthz` stays the liveness check.
- Failed logins are counted per username and client address; past the limit logins answer 429
  (F4). X-Forwarded-For is believed only from NETCARE_TRUSTED_PROXIES. Logins, failed logins (the
  username hashed) and lockouts are audit events (F5).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from treatments.api.exceptions import error_body
from treatments.services import audit

logger = logging.getLogger("netcare")

Handler = Callable[[HttpRequest], HttpResponse]


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


# --- chunked bodies (F17) -------------------------------------------------------------------------


class RefuseChunkedBodyMiddleware:
    """411 Length Required for a body sent with Transfer-Encoding (WSGI would read it as empty)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.META.get("HTTP_TRANSFER_ENCODING", "").strip():
            detail = "Send the body with a Content-Length header; chunked request bodies are not accepted."
            response: HttpResponse
            if _is_api(request):
                response = JsonResponse(error_body(detail), status=411)
            else:
                response = HttpResponse(detail, status=411, content_type="text/plain; charset=utf-8")
            return response
        return self.get_response(request)


# --- database unavailable (F8) --------------------------------------------------------------------


def database_unavailable(request: HttpRequest, what: str = "database") -> HttpResponse:
    """503 with Retry-After; the page needs no database (no user, no rule set in the footer)."""
    response: HttpResponse
    if _is_api(request):
        response = JsonResponse(error_body(f"The {what} is unavailable. Try again shortly."), status=503)
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(settings.NETCARE_RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


class DatabaseUnavailableMiddleware:
    """Maps a lost or refused database connection in a view or template to 503 (last in MIDDLEWARE,
    so it sees the view's exception first)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RedisConnectionError | RedisTimeoutError):
            # Throttles and lockouts cannot be counted without the shared cache (REDIS_URL): an
            # outage, like the database's, not a bug. /readyz reports it too.
            logger.error(
                "cache unavailable on %s %s: %s", request.method, request.path, type(exception).__name__
            )
            return database_unavailable(request, "shared cache")
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        if _statement_cancelled(exception):  # DATABASE_STATEMENT_TIMEOUT_MS ran out (F1)
            logger.error("statement timeout on %s %s", request.method, request.path)
            return database_unavailable(request)
        # The driver's message names the server and the failure, never the data of a row.
        logger.error("database unavailable on %s %s: %s", request.method, request.path, exception)
        return database_unavailable(request)


def _statement_cancelled(exception: Exception) -> bool:
    """PostgreSQL cancelled the statement (SQLSTATE 57014: statement_timeout or a cancel request)."""
    return getattr(exception.__cause__, "sqlstate", None) == "57014"


# --- Content-Security-Policy (F14) ----------------------------------------------------------------


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# htmx 2 adds this <style> element for its request indicators; allowed by its hash, nothing else inline.
HTMX_INDICATOR_STYLE = (
    ".htmx-indicator{opacity:0;visibility: hidden} "
    ".htmx-request .htmx-indicator, .htmx-request.htmx-indicator"
    "{opacity:1;visibility: visible;transition: opacity 200ms ease-in}"
)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        f"style-src 'self' {_sha256(HTMX_INDICATOR_STYLE)}",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# The API docs page (drf-spectacular's Swagger UI) starts itself with an inline script and style.
# It shows no patient data; every other page keeps the strict policy.
API_DOCS_POLICY = CONTENT_SECURITY_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
API_DOCS_POLICY = API_DOCS_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


def _with_script_sources(policy: str, sources: list[str]) -> str:
    if not sources:
        return policy
    return policy.replace("script-src 'self'", "script-src 'self' " + " ".join(sources), 1)


class ContentSecurityPolicyMiddleware:
    """Adds the Content-Security-Policy header (NETCARE_CSP replaces the policy) unless a view set one."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            if request.path.startswith(("/api/docs/", "/api/v2/docs/")):
                response["Content-Security-Policy"] = API_DOCS_POLICY
            else:
                response["Content-Security-Policy"] = settings.NETCARE_CSP or _with_script_sources(
                    CONTENT_SECURITY_POLICY, settings.NETCARE_CSP_EXTRA_SCRIPT_SRC
                )
        return response


# --- readiness ------------------------------------------------------------------------------------

# The static files every page and PDF asks for by name: the manifest must know them.
REQUIRED_STATIC = ("css/netcare.css", "css/print.css", "css/pdf.css", "img/favicon.svg", "js/netcare.js")


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_ruleset() -> str:
    from treatments import selectors

    rule_set = selectors.current_ruleset()
    if rule_set is None:
        raise LookupError("no rule set is published (manage.py load_knowledge_base)")
    return f"version {rule_set.version}"


def _check_static() -> str:
    if not hasattr(staticfiles_storage, "hashed_files"):
        return "not hashed (development)"
    if staticfiles_storage.read_manifest() is None:  # type: ignore[attr-defined]
        raise LookupError("no staticfiles manifest: run manage.py collectstatic")
    for name in REQUIRED_STATIC:
        staticfiles_storage.stored_name(name)  # type: ignore[attr-defined]  # ValueError if missing
    return "ok"


def _check_cache() -> str:
    """Write and read back a key: throttles, lockouts and the rule-set broadcast depend on it."""
    key = f"netcare:readyz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "ok", timeout=10)
        found = cache.get(key)
        cache.delete(key)
    except Exception as exc:  # the cache client's own errors (redis.ConnectionError, timeouts)
        raise LookupError(f"cache unavailable ({type(exc).__name__})") from exc
    if found != "ok":
        raise LookupError("the cache did not keep a value")
    return "ok" if settings.REDIS_URL else "ok (per process)"


READINESS_CHECKS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("database", _check_database),
    ("cache", _check_cache),
    ("ruleset", _check_ruleset),
    ("static", _check_static),
)


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness for load balancers (no login): database, cache, published rule set, static manifest.

    503 until every check passes; each check says what it found, never a patient's data.
    """
    checks: dict[str, str] = {}
    for name, check in READINESS_CHECKS:
        if checks.get("database", "ok") != "ok":
            checks[name] = "error: database unavailable"
            continue
        try:
            checks[name] = check()
        except DatabaseError:
            checks[name] = "error"
        except (LookupError, ValueError, OSError) as exc:
            checks[name] = f"error: {exc}"
    ready = not any(value.startswith("error") for value in checks.values())
    status = 200 if ready else 503
    response = JsonResponse({"status": "ok" if ready else "error", "checks": checks}, status=status)
    if not ready:
        response["Retry-After"] = str(settings.NETCARE_RETRY_AFTER_SECONDS)
    return response


# --- login throttling (F4) ------------------------------------------------------------------------
#
# Failed logins are counted per username and client address, and per client address alone (password
# spraying), in Django's cache (shared when the cache is, e.g. Redis). Past the limit, every login
# from there - the page, the admin, the API token endpoint - answers 429 with Retry-After until the
# lockout ends, even with the right password. The client address is REMOTE_ADDR; X-Forwarded-For is
# believed only from NETCARE_TRUSTED_PROXIES, so a client cannot reset its count by changing it.


def client_address(request: HttpRequest) -> str:
    """The address of the client: REMOTE_ADDR, or behind a trusted proxy the last hop it added."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    trusted = set(settings.NETCARE_TRUSTED_PROXIES)
    if remote not in trusted:
        return remote
    forwarded = [hop.strip() for hop in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    for hop in reversed([hop for hop in forwarded if hop]):
        if hop not in trusted:
            return hop
    return remote


def _login_keys(username: str, address: str) -> list[tuple[str, int]]:
    """(cache key, failure limit): the username at this address, and this address for any username."""
    user = hashlib.sha256(username.casefold().encode()).hexdigest()[:32]  # no username in the cache
    return [
        (f"netcare:login-failures:{user}:{address}", settings.NETCARE_LOGIN_FAILURES),
        (f"netcare:login-failures:*:{address}", settings.NETCARE_LOGIN_FAILURES_PER_ADDRESS),
    ]


def login_locked_for(username: str, address: str) -> int:
    """Seconds until a login of this username from this address is allowed again (0: allowed now)."""
    now = time.time()
    until = max((cache.get(f"{key}:locked", 0.0) for key, _ in _login_keys(username, address)), default=0.0)
    return max(0, math.ceil(until - now))


def _count_failure(username: str, address: str) -> None:
    lockout = settings.NETCARE_LOGIN_LOCKOUT_SECONDS
    for key, limit in _login_keys(username, address):
        if cache.add(key, 1, timeout=lockout):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, timeout=lockout)
                count = 1
        if count >= limit:
            cache.set(f"{key}:locked", time.time() + lockout, timeout=lockout)
            cache.delete(key)
            logger.warning("login locked for %s s after %s failures from %s", lockout, count, address)
            audit.login_failed(username=username, address=address, locked=True)


class LoginLockoutBackend(BaseBackend):
    """First in AUTHENTICATION_BACKENDS: refuses every login while its username and address are
    locked out (the password is not even checked), and marks the request for the 429 answer."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None, **kwargs: Any) -> None:
        if request is None or not username:
            return None
        retry_after = login_locked_for(username, client_address(request))
        if retry_after:
            request.netcare_login_locked = retry_after  # type: ignore[attr-defined]
            raise PermissionDenied("too many failed logins")
        return None

    def get_user(self, user_id: Any) -> Any:
        # Being first, this backend is what Client.force_login and login() without a backend name
        # record in the session; the user is the model backend's.
        return ModelBackend().get_user(user_id)


@receiver(user_login_failed)
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    username = credentials.get("username")
    # Attempts refused by a lockout are neither counted nor audited one by one: the lockout was.
    if request is None or not username or getattr(request, "netcare_login_locked", None):
        return
    address = client_address(request)
    audit.login_failed(username=str(username), address=address)  # never the password
    _count_failure(str(username), address)


@receiver(user_logged_in)
def _logged_in(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    if request is not None:
        address = client_address(request)
        cache.delete(_login_keys(user.get_username(), address)[0][0])
        audit.login_succeeded(user=user, address=address)


class LoginLockoutMiddleware:
    """Answers 429 with Retry-After for a login refused by LoginLockoutBackend."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        retry_after = getattr(request, "netcare_login_locked", None)
        if not retry_after:
            return response
        detail = f"Too many failed logins. Try again in {retry_after} seconds."
        if _is_api(request):
            response = JsonResponse(error_body(detail), status=429)
        else:
            response = HttpResponse(render_to_string("429.html", {"detail": detail}), status=429)
        response["Retry-After"] = str(retry_after)
        add_never_cache_headers(response)
        return response
