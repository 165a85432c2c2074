"""The audit trail: one append-only event per clinically relevant write, and the error that
every read-only record (published rule sets, evaluations, the trail itself) raises when written.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class ReadOnlyError(Exception):
    """A write to something that must not change (a published rule set, the audit trail)."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise ReadOnlyError("the audit trail is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ReadOnlyError("the audit trail is append-only")


class AuditEvent(models.Model):
    """One clinically relevant write: who did what to which object, when, with a short payload."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(
        max_length=150, help_text="Username at the time (kept if the user is renamed)."
    )
    action = models.CharField(max_length=60, help_text="e.g. ruleset.publish, case.create")
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    payload = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or 'system'} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ReadOnlyError("the audit trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ReadOnlyError("the audit trail is append-only")
