"""Rate limits per user and per anonymous address, and per username and address at the token endpoint.

A fixed-window counter: each request adds one to the count of the current window (one cache
increment), where DRF's default keeps and rewrites the timestamp of every request in the window,
which grows with the allowed rate. Rates are read from settings on each request
(REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]), so they can be changed there and in tests.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle


class _FixedWindow:
    wait_seconds: float = 0.0

    def get_rate(self) -> str | None:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(str(getattr(self, "scope", "")))
        return None if rate is None else str(rate)

    def allow_request(self, request: Request, view: Any) -> bool:
        rate = self.get_rate()
        if rate is None:
            return True
        ident = self.get_cache_key(request, view)  # type: ignore[attr-defined]
        if ident is None:
            return True
        allowed, self.wait_seconds = rate_take(ident, rate)
        return allowed

    def wait(self) -> float:
        return self.wait_seconds


def rate_take(ident: str, rate: str) -> tuple[bool, float]:
    """Count one request of `ident` against `rate` (e.g. "600/min"): (allowed, seconds until the
    window ends). Shared by the API throttles and the CDS Hooks service."""
    limit, period = _parse(rate)
    now = time.time()
    window = math.floor(now / period)
    key = f"{ident}:{window}"
    # add() then incr(): the first request of a window creates the counter, the rest count up.
    if cache.add(key, 1, timeout=period + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=period + 1)
            count = 1
    return count <= limit, (window + 1) * period - now


def _parse(rate: str) -> tuple[int, int]:
    number, period = rate.split("/")
    return int(number), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]


class AnonThrottle(_FixedWindow, AnonRateThrottle):
    pass


class UserThrottle(_FixedWindow, UserRateThrottle):
    pass


class TokenRequestThrottle(_FixedWindow, SimpleRateThrottle):
    """POST /auth/token/: requests per username and client address (API_THROTTLE_TOKEN), whoever
    asks - the endpoint authenticates nobody, so a valid token does not buy a larger budget."""

    scope = "token"

    def get_rate(self) -> str | None:
        return str(settings.NETCARE_TOKEN_THROTTLE)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        from netcare.middleware import client_address  # it imports the API's error shape, which imports this

        data = request.data
        username = data.get("username") if isinstance(data, dict) else None
        name = username.casefold() if isinstance(username, str) else ""
        user = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[
            :32
        ]  # no username in the cache
        return f"throttle_token_{user}_{client_address(request)}"
