"""Rate limits per user and per anonymous address; rates are read from settings on each request, so
they can be changed in settings (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]) and in tests."""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


def _rate(scope: str | None) -> str | None:
    rate = api_settings.DEFAULT_THROTTLE_RATES.get(str(scope))
    return None if rate is None else str(rate)


class AnonThrottle(AnonRateThrottle):
    def get_rate(self) -> str | None:
        return _rate(self.scope)


class UserThrottle(UserRateThrottle):
    def get_rate(self) -> str | None:
        return _rate(self.scope)
