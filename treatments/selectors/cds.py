"""Reads for the CDS Hooks service and for the pages that show what the EHR was told and said."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import Count, QuerySet

from ..models import CardFeedback, Case, HookEvaluation


def case_for_nhs_number(nhs_number: str) -> Case | None:
    """The one active case with exactly this NHS number; None when there is none or more than one
    (no fuzzy matching: a wrong link would show one patient's case for another)."""
    found = list(Case.objects.active().filter(nhs_number=nhs_number).only("pk")[:2])
    return found[0] if len(found) == 1 else None


def hook_evaluation_get(pk: UUID) -> HookEvaluation:
    return HookEvaluation.objects.select_related("client", "linked_case").get(pk=pk)


def pending_feedback(case: Case) -> QuerySet[CardFeedback]:
    """The EHR's feedback on option cards of calls linked to this case, not yet recorded as reviews."""
    return (
        CardFeedback.objects.filter(hook_evaluation__linked_case=case, recorded_review__isnull=True)
        .exclude(modality="")
        .select_related("hook_evaluation", "client")
        .order_by("-outcome_timestamp", "-id")
    )


def feedback_summary(start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Counts of feedback per option and outcome and override code, received in [start, end)."""
    rows = (
        CardFeedback.objects.filter(received_at__gte=start, received_at__lt=end)
        .values("modality", "outcome", "override_code")
        .annotate(count=Count("id"))
        .order_by("modality", "outcome", "override_code")
    )
    return [dict(row) for row in rows]
