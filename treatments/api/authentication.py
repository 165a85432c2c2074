"""API token authentication (`Authorization: Token <secret>`), with the checked token cached.

Looking a token up costs two queries (the token with its user, then the user's roles); at API rates
that is most of a request's time. A checked token is kept in Django's default cache under the hash of
its secret for TOKEN_CACHE_SECONDS (default 30; 0 looks every token up), never past its expiry.
Revoking a token, a password change, deactivating a user or changing their groups deletes the entry
(treatments/services/tokens.py): with a shared cache (Redis) every process sees it on its next
request; with the default per-process cache, other processes follow within TOKEN_CACHE_SECONDS.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from treatments.models import ApiToken, token_digest
from treatments.roles import user_roles
from treatments.services import tokens

# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
REFUSED = "Invalid token: unknown, expired or revoked. Ask for a new one at POST /api/v2/auth/token/."


class ApiTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        digest = token_digest(key)
        ttl = settings.NETCARE_TOKEN_CACHE_SECONDS
        if ttl > 0:
            entry = cache.get(tokens.cache_key(digest))
            if entry is not None and entry[2] > time.time():
                return entry[0], entry[1]
        token = ApiToken.objects.select_related("user").filter(digest=digest).first()
        if token is None or not token.is_usable or not token.user.is_active:
            raise AuthenticationFailed(REFUSED)
        _touch(token)
        if ttl > 0:
            expires = token.expires_at.timestamp()
            user_roles(token.user)  # loaded now and cached with the user: a cached request needs no query
            timeout = max(1, min(ttl, int(expires - time.time())))
            cache.set(tokens.cache_key(digest), (token.user, token, expires), timeout=timeout)
        return token.user, token


class TokenSchemeOnly(ApiTokenAuthentication):
    """Authenticates nobody, so that a token cannot lift the token endpoint's anonymous rate limit;
    it only makes a 401 name the scheme (WWW-Authenticate: Token)."""

    def authenticate(self, request: Request) -> None:
        return None


def _touch(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
