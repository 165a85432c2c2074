"""Override analytics of the CDS Hooks cards (docs/cds-hooks.md, "Feedback"): how often EHR users
accepted or overrode each option's card, and why - for rule governance. /api/v2/ only."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from pydantic import BaseModel, ConfigDict, Field, model_validator
from rest_framework.request import Request
from rest_framework.response import Response

from treatments import selectors

from .exceptions import query_params
from .permissions import capability
from .versions import VersionedView

DEFAULT_DAYS = 90


class FeedbackSummaryQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    start: date | None = Field(default=None, alias="from")
    end: date | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> FeedbackSummaryQuery:
        if self.start and self.end and self.start > self.end:
            raise ValueError("'from' must not be after 'to'")
        return self


class FeedbackCount(BaseModel):
    modality: str = Field(description="Option key; empty for the summary card.")
    outcome: str = Field(description="accepted or overridden")
    override_code: str = Field(description="HL7 non-adherence reason code; empty when none was given.")
    count: int


class FeedbackSummaryOut(BaseModel):
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    counts: list[FeedbackCount]


class FeedbackSummaryView(VersionedView):
    """Feedback received from EHRs on NETcare's cards, counted per option, outcome and override code,
    between two dates (both included; default the last 90 days)."""

    permission_classes = [capability("view_override_analytics")]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "from", {"type": "string", "format": "date"}, description="First day (default: 90 days ago)."
            ),
            OpenApiParameter(
                "to", {"type": "string", "format": "date"}, description="Last day (default: today)."
            ),
        ],
        responses={200: FeedbackSummaryOut},
        tags=["cds"],
    )
    def get(self, request: Request) -> Response:
        query = query_params(FeedbackSummaryQuery, request)
        end = query.end or timezone.localdate()
        start = query.start or end - timedelta(days=DEFAULT_DAYS)
        zone = timezone.get_current_timezone()
        counts = selectors.feedback_summary(
            datetime.combine(start, time.min, zone), datetime.combine(end + timedelta(days=1), time.min, zone)
        )
        return Response({"from": start.isoformat(), "to": end.isoformat(), "counts": counts})
