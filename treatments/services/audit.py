"""The audit trail's writer: one event per clinically relevant write, and who did it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import models

from ..models import (
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
