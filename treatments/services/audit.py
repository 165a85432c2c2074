"""The audit trail's writer: one event per clinically relevant write or read of a case, and per change
of who may do what (logins, tokens, roles), and who did it."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import models

from ..models import (
    ApiToken,
    AuditEvent,
    Case,
    Meeting,
)

Actor = User | AnonymousUser | None  # None: the system (e.g. the loader command)


def audit_record(
    *, actor: Actor, action: str, obj: models.Model, payload: dict[str, Any] | None = None
) -> AuditEvent:
    """Append one event to the audit trail."""
    user = actor if isinstance(actor, User) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=user.get_username() if user is not None else "system",
        action=action,
        object_type=obj._meta.model_name or type(obj).__name__,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        payload=payload or {},
    )


def display_name(user: Any) -> str:
    """How a user is named on pages and in messages: full name, else username."""
    return str(user.get_full_name() or user.get_username())


def summary_exported(*, actor: User, obj: Case | Meeting, fmt: str) -> None:
    """Record that a case summary or a meeting pack left the system (HTML or PDF)."""
    audit_record(actor=actor, action="summary.export", obj=obj, payload={"format": fmt})


# --- access: logins, tokens, roles (security review F5) ---------------------------------------------
#
# Not clinical writes, but the trail must show who could act as whom: a login, a failed login, an API
# token issued or revoked, a change of group, permission or admin flag. None of these payloads holds a
# password, a token's secret or a patient's data.


def masked_username(username: str) -> str:
    """A failed login's username, hashed: the trail can match repeats without storing what was typed
    (often a password typed into the wrong field)."""
    return "sha256:" + hashlib.sha256(username.casefold().encode("utf-8", "surrogatepass")).hexdigest()[:16]


def login_succeeded(*, user: User, address: str) -> None:
    audit_record(actor=user, action="auth.login", obj=user, payload={"address": address})


def login_failed(*, username: str, address: str, locked: bool = False) -> None:
    """A failed login (or the lockout it caused), by someone who is not known to be anyone."""
    AuditEvent.objects.create(
        actor=None,
        actor_name="anonymous",
        action="auth.lockout" if locked else "auth.login_failed",
        object_type="user",
        object_id="",
        object_repr=masked_username(username),
        payload={"address": address},
    )


def token_issued(*, actor: User, token: ApiToken) -> None:
    audit_record(actor=actor, action="token.issue", obj=token, payload=_token_payload(token))


def token_revoked(*, actor: Actor, token: ApiToken, reason: str) -> None:
    audit_record(
        actor=actor, action="token.revoke", obj=token, payload={**_token_payload(token), "reason": reason}
    )


def _token_payload(token: ApiToken) -> dict[str, Any]:
    return {"user": token.user.get_username(), "client": token.client, "prefix": token.prefix}


def access_changed(*, actor: Actor, obj: models.Model, change: str, names: list[str]) -> None:
    """A user's groups or permissions, or a group's permissions, or a user's admin flags changed."""
    audit_record(actor=actor, action=f"access.{change}", obj=obj, payload={"names": sorted(names)})


def case_read(*, actor: User, case: Case, view: str, evaluation: int | None = None) -> None:
    """Record that someone read a case (its page, its API answer, one of its evaluations): who, which
    case, when, and through what - never what they saw."""
    payload: dict[str, Any] = {"view": view}
    if evaluation is not None:
        payload["evaluation"] = evaluation
    audit_record(actor=actor, action="case.read", obj=case, payload=payload)
