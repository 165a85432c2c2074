"""Token authentication with a short per-process cache.

Looking a token up costs two queries (the token with its user, then the user's roles); at API
rates that is most of a request's time. A token seen in the last TOKEN_CACHE_SECONDS (default 30)
is trusted without asking the database again. Deleting a token, deactivating a user or changing
their groups clears this process's entry at once; other processes follow within the TTL. Set
TOKEN_CACHE_SECONDS=0 to look every token up.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_delete, post_save
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from treatments.roles import user_roles

_MAX_ENTRIES = 10_000
_entries: OrderedDict[str, tuple[float, Any, Any]] = OrderedDict()
_lock = threading.Lock()


class CachedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        ttl = settings.NETCARE_TOKEN_CACHE_SECONDS
        if ttl <= 0:
            return super().authenticate_credentials(key)
        now = time.monotonic()
        entry = _entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1], entry[2]
        user, token = super().authenticate_credentials(key)
        user_roles(user)  # load the roles now, so that cached requests need no query for them
        with _lock:
            _entries[key] = (now + ttl, user, token)
            _entries.move_to_end(key)
            while len(_entries) > _MAX_ENTRIES:
                _entries.popitem(last=False)
        return user, token


def forget_tokens(user_id: int | None = None) -> None:
    """Drop cached tokens (of one user, or all)."""
    with _lock:
        for key in [key for key, (_, user, _) in _entries.items() if user_id is None or user.pk == user_id]:
            del _entries[key]


def _token_deleted(sender: Any, instance: Token, **kwargs: Any) -> None:
    with _lock:
        _entries.pop(instance.key, None)


def _user_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    forget_tokens(instance.pk)


def _groups_changed(
    sender: Any, instance: Any, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    if not reverse:  # user.groups.add(...): the instance is the user
        forget_tokens(instance.pk)
    elif pk_set:  # group.user_set.add(...): the users are in pk_set
        for user_id in pk_set:
            forget_tokens(user_id)
    else:  # group.user_set.clear(): we do not know whom; forget everyone
        forget_tokens()


def connect_cache_signals() -> None:
    """Forget cached tokens when a token, a user or a user's groups change (TreatmentsConfig.ready)."""
    post_delete.connect(_token_deleted, sender=Token, dispatch_uid="netcare-token-deleted")
    post_save.connect(_user_changed, sender=get_user_model(), dispatch_uid="netcare-user-changed")
    m2m_changed.connect(
        _groups_changed, sender=get_user_model().groups.through, dispatch_uid="netcare-user-groups"
    )
