"""Issuing and revoking API tokens, and the cache that spares a database lookup per request.

A checked token is kept in Django's default cache under its hash for TOKEN_CACHE_SECONDS (and never
past its expiry). Revoking a token deletes that entry, so a revocation is seen at once by every
process sharing the cache (Redis); with the default per-process LocMemCache, other processes see it
within TOKEN_CACHE_SECONDS. A password change or deactivation revokes every token of the user; a
change of their groups or flags drops the cached entries (the roles are cached with the user).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from ..models import ApiToken
from . import audit

CACHE_PREFIX = "netcare:api-token:"

# Why a token was revoked, as recorded in the audit trail.
REVOKED_BY_CLIENT = "revoked_by_client"
REVOKED_BY_ADMIN = "revoked_by_admin"
PASSWORD_CHANGED = "password_changed"
USER_DEACTIVATED = "user_deactivated"


def cache_key(digest: str) -> str:
    return CACHE_PREFIX + digest


def token_issue(*, user: Any, client: str) -> tuple[ApiToken, str]:
    """A new token for one client of `user`, and its secret (shown to the client once, never stored)."""
    lifetime = timedelta(days=settings.NETCARE_API_TOKEN_DAYS)
    with transaction.atomic():
        token, secret = ApiToken.new(user, client, lifetime)
        audit.token_issued(actor=user, token=token)
    return token, secret


def token_revoke(*, token: ApiToken, actor: audit.Actor, reason: str) -> bool:
    """Revoke one token now, in this process and in every process sharing the cache.

    False when it was already revoked (nothing is recorded then).
    """
    with transaction.atomic():
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if revoked:
            audit.token_revoked(actor=actor, token=token, reason=reason)
        # After the commit too: another process may have cached the token again in between.
        transaction.on_commit(lambda: cache.delete(cache_key(token.digest)))
    cache.delete(cache_key(token.digest))
    return bool(revoked)


def user_tokens_revoke(*, user: Any, actor: audit.Actor, reason: str) -> int:
    """Revoke every usable token of a user (password changed, user deactivated); how many."""
    tokens = list(ApiToken.objects.filter(user=user, revoked_at__isnull=True))
    return sum(token_revoke(token=token, actor=actor, reason=reason) for token in tokens)


def user_tokens_forget(user_ids: Iterable[Any]) -> None:
    """Drop the cached entries of these users' tokens (their roles or flags changed); the tokens stay."""
    digests = ApiToken.objects.filter(user_id__in=list(user_ids), revoked_at__isnull=True).values_list(
        "digest", flat=True
    )
    cache.delete_many([cache_key(digest) for digest in digests])
