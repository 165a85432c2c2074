"""Rule governance: the evidence a draft rule set collects before it may be published.

Every record is bound to the draft's checksum at the time it was made: a revision changes the
checksum and so voids them all, without deleting anything (they stay as history). Reviews and golden
runs are append-only (HL7 CRMI's ArtifactAssessment); an impact report is immutable except for its
one acknowledgement. Withdrawing a never-published draft deletes it with its records (the audit
trail keeps the account).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from .audit import ReadOnlyError
from .knowledge import RuleSet


class AppendOnlyQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        raise ReadOnlyError(f"{self.model._meta.verbose_name_plural} are append-only")


class AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ReadOnlyError(f"{self._meta.verbose_name_plural} are append-only")
        super().save(*args, **kwargs)


class RuleSetReview(AppendOnly):
    """A reviewer's comment, approval or request for changes on one checksum of a draft."""

    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment"
        APPROVE = "approve", "Approve"
        REQUEST_CHANGES = "request_changes", "Request changes"

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="reviews")
    checksum = models.CharField(max_length=64, help_text="The draft's checksum the review is about.")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    summary = models.TextField(blank=True)
    comments = models.JSONField(default=list, blank=True, help_text="[{modality, rule_id, text}]")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["comment", "approve", "request_changes"]),
                name="rulesetreview_kind_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of rule set {self.rule_set_id} by {self.reviewer_id}"


class GoldenRun(AppendOnly):
    """One run of a version's golden cases against its own rules."""

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="golden_runs")
    checksum = models.CharField(max_length=64)
    passed = models.BooleanField()
    results = models.JSONField(default=list, help_text="Per case: statuses, expected vs actual.")
    engine_version = models.CharField(max_length=64, blank=True)
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    run_at = models.DateTimeField(auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["run_at", "id"]

    def __str__(self) -> str:
        return f"Golden run {self.pk} of rule set {self.rule_set_id}: {'passed' if self.passed else 'failed'}"

    @property
    def failed_cases(self) -> list[dict[str, Any]]:
        return [case for case in self.results if not case.get("passed")]


class ImpactReport(models.Model):
    """What publishing a draft would change for the stored cases, against the version in force."""

    draft = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="impact_reports")
    draft_checksum = models.CharField(max_length=64)
    baseline = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="+")
    baseline_checksum = models.CharField(max_length=64)
    scope = models.CharField(max_length=40, help_text="active, all, or meeting:<id>")
    summary = models.JSONField(default=dict)
    changes = models.JSONField(default=dict, help_text="The report (transitions, cases, golden drift).")
    report_hash = models.CharField(max_length=64)
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    generated_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["generated_at", "id"]

    def __str__(self) -> str:
        return f"Impact report {self.pk} of rule set {self.draft_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = ImpactReport.objects.get(pk=self.pk)
            acknowledging = stored.acknowledged_by_id is None and self.acknowledged_by_id is not None
            same = all(
                getattr(stored, f.attname) == getattr(self, f.attname)
                for f in self._meta.concrete_fields
                if f.name not in ("acknowledged_by", "acknowledged_at")
            )
            if not (acknowledging and same):
                raise ReadOnlyError("an impact report is immutable once made (only acknowledged, once)")
        super().save(*args, **kwargs)
