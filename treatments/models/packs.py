"""Meeting packs prepared in the background (treatments/tasks.py), and the rendered case sheets they
are made of, kept in the database.

The PDF lives in its row, not in a file: it is served only through the pack view (login and role
checks), it is backed up and restored with everything else, and no restart, shared volume or
MEDIA_URL can expose it. A meeting keeps only its newest pack; packs older than
NETCARE_PACK_KEEP_HOURS are deleted whenever a new one is prepared.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .mdt import Case, Evaluation, Meeting


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
    done = models.PositiveIntegerField(default=0, help_text="Case sheets made so far (the page's progress).")
    appendix = models.BooleanField(default=False, help_text="Each sheet with the full rule detail.")
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


class CaseSheet(models.Model):
    """One case sheet rendered to PDF, kept so that a meeting pack need not render it again.

    `key` is the SHA-256 of the sheet's own HTML, its stylesheet and the renderer (treatments/sheets.py):
    whatever the sheet shows (evaluation, outcome, reviews, case details, staleness, template) is in
    its HTML, so a change of any of them is a new key and an old PDF can never be served for it.
    Deleted NETCARE_PACK_KEEP_HOURS after it was made, like the packs: it holds patient data.
    """

    key = models.CharField(max_length=64, unique=True)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, null=True, related_name="+")
    pages = models.PositiveSmallIntegerField()
    pdf = models.BinaryField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"case sheet of case {self.case_id}, evaluation {self.evaluation_id} ({self.pages} pages)"
