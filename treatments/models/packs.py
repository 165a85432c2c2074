"""Meeting packs prepared in the background (treatments/tasks.py), kept in the database.

The PDF lives in its row, not in a file: it is served only through the pack view (login and role
checks), it is backed up and restored with everything else, and no restart, shared volume or
MEDIA_URL can expose it. A meeting keeps only its newest pack; packs older than
NETCARE_PACK_KEEP_HOURS are deleted whenever a new one is prepared.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .mdt import Meeting


class MeetingPack(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Being prepared"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="packs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    cases = models.PositiveIntegerField(default=0)
    pdf = models.BinaryField(null=True, editable=False)
    # What went wrong, in words fit for the page and the log: never a patient's data.
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"pack {self.pk} of meeting {self.meeting_id} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.READY, self.Status.FAILED)
