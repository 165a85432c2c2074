"""MDT meetings over the API: the list, one meeting, its cases and their order, the worklist and the
outcomes recorded at the meeting.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from treatments import selectors, services
from treatments.inputs import (
    MeetingCaseAdd,
    MeetingChange,
    MeetingInput,
    MeetingOrder,
    OutcomeInput,
    OutcomeRecord,
)
from treatments.models import Case, Meeting, Outcome

from . import v1
from .exceptions import Conflict, InvalidInput, found, service_call, validated
from .outputs import case_out, meeting_out, not_needed_out, outcome_out, to_obtain_out
from .pagination import PAGE_PARAMETER, PAGE_SIZE, page_of, requested_page
from .permissions import acting_user, capability, capability_by_method
from .schemas import (
    CONFLICT_RESPONSE,
    MeetingOut,
    MeetingPage,
    OutcomeOut,
    Worklist,
)
from .versions import VersionedView


class MeetingListView(VersionedView):
    """MDT meetings, newest first."""

    permission_classes = [capability_by_method("view_cases", "manage_meetings")]

    @extend_schema(
        parameters=[PAGE_PARAMETER],
        responses={200: MeetingPage},
        tags=["meetings"],
        operation_id="meetings_list",
    )
    def get(self, request: Request) -> Response:
        meetings = selectors.meeting_list().select_related("created_by")
        if self.is_v1:  # v1 published an array: the newest page of it
            return Response([meeting_out(meeting) for meeting in meetings[:PAGE_SIZE]])
        return Response(page_of(meetings, requested_page(request), PAGE_SIZE, meeting_out))

    @extend_schema(request=MeetingInput, responses={201: MeetingOut}, tags=["meetings"])
    def post(self, request: Request) -> Response:
        data = validated(MeetingInput, request.data)
        meeting = services.meeting_create(actor=acting_user(request), data=data)
        return Response(meeting_out(meeting), status=status.HTTP_201_CREATED)


class MeetingDetailView(VersionedView):
    """One meeting with its cases in order and the concordance of its recorded decisions."""

    permission_classes = [capability_by_method("view_cases", "manage_meetings")]

    @extend_schema(responses={200: MeetingOut}, tags=["meetings"])
    def get(self, request: Request, meeting_id: int) -> Response:
        return Response(meeting_out(found(selectors.meeting_get(meeting_id))))

    @extend_schema(request=MeetingChange, responses={200: MeetingOut, **CONFLICT_RESPONSE}, tags=["meetings"])
    def put(self, request: Request, meeting_id: int) -> Response:
        """Change the title and date; `version` is the version you saw (409 if someone saved since).
        /api/v1/ published no version: its changes apply to the meeting as saved now."""
        meeting = found(selectors.meeting_get(meeting_id))
        data = validated(MeetingInput if self.is_v1 else MeetingChange, request.data)
        updated = service_call(
            lambda: services.meeting_update(actor=acting_user(request), meeting=meeting, data=data),
            serialize_current=meeting_out,
        )
        return Response(meeting_out(updated))


class MeetingCasesView(VersionedView):
    """Add a case at the end of the meeting's list."""

    permission_classes = [capability("manage_meetings")]

    @extend_schema(
        request=MeetingCaseAdd, responses={201: MeetingOut, **CONFLICT_RESPONSE}, tags=["meetings"]
    )
    def post(self, request: Request, meeting_id: int) -> Response:
        meeting = found(selectors.meeting_get(meeting_id))
        data = validated(MeetingCaseAdd, request.data)
        case = selectors.case_get(data.case)
        if case is None:
            raise InvalidInput([{"loc": ["case"], "msg": f"no case with id {data.case}"}])
        service_call(
            lambda: services.meeting_add_case(actor=acting_user(request), meeting=meeting, case=case)
        )
        return Response(meeting_out(meeting), status=status.HTTP_201_CREATED)


class MeetingCaseView(VersionedView):
    """Take a case off the meeting's list (not once its outcome is recorded)."""

    permission_classes = [capability("manage_meetings")]

    @extend_schema(request=None, responses={204: None, **CONFLICT_RESPONSE}, tags=["meetings"])
    def delete(self, request: Request, meeting_id: int, case_id: int) -> Response:
        meeting = found(selectors.meeting_get(meeting_id))
        case = found(selectors.case_get(case_id))
        service_call(
            lambda: services.meeting_remove_case(actor=acting_user(request), meeting=meeting, case=case)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeetingOrderView(VersionedView):
    """Put the meeting's cases in a new order (every case id exactly once)."""

    permission_classes = [capability("manage_meetings")]

    @extend_schema(request=MeetingOrder, responses={200: MeetingOut}, tags=["meetings"])
    def put(self, request: Request, meeting_id: int) -> Response:
        meeting = found(selectors.meeting_get(meeting_id))
        data = validated(MeetingOrder, request.data)
        service_call(
            lambda: services.meeting_reorder(actor=acting_user(request), meeting=meeting, case_ids=data.cases)
        )
        return Response(meeting_out(meeting))


class WorklistView(VersionedView):
    """The meeting's cases in order with their readiness: evaluated, up to date, data still to obtain."""

    permission_classes = [capability("view_cases")]

    @extend_schema(responses={200: Worklist}, tags=["meetings"])
    def get(self, request: Request, meeting_id: int) -> Response:
        rows = selectors.meeting_worklist(found(selectors.meeting_get(meeting_id)))
        published = selectors.published_ruleset_ref()
        return Response(
            [
                {
                    "position": row.entry.position,
                    "case": case_out(row.case, published=published),
                    "evaluation": row.evaluation.pk if row.evaluation else None,
                    "ready": row.ready,
                    "out_of_date": row.stale,
                    "data_to_obtain": to_obtain_out(row.to_obtain),
                    **({} if self.is_v1 else {"not_needed": not_needed_out(row.waived.values())}),
                    "outcome": outcome_out(row.outcome) if row.outcome else None,
                }
                for row in rows
            ]
        )


class OutcomeView(VersionedView):
    """Record or correct the MDT's decision for a case (PUT with the outcome `version` you saw)."""

    permission_classes = [capability("record_outcome")]

    @extend_schema(
        request=OutcomeRecord,
        responses={200: OutcomeOut, 201: OutcomeOut, **CONFLICT_RESPONSE},
        tags=["meetings"],
    )
    def put(self, request: Request, meeting_id: int, case_id: int) -> Response:
        """`evaluation` is the evaluation whose options you saw: 409 if it is no longer the latest.
        /api/v1/ published no such field: it records against the latest evaluation."""
        meeting = found(selectors.meeting_get(meeting_id))
        case = found(selectors.case_get(case_id))
        model = OutcomeInput if self.is_v1 else OutcomeRecord
        data = self.validated(model, request.data, "OutcomeInputRequest")
        if self.is_v1:
            _v1_may_replace(meeting, case)
        outcome = service_call(
            lambda: services.outcome_record(
                actor=acting_user(request), meeting=meeting, case=case, data=data
            ),
            serialize_current=outcome_out,
        )
        return Response(outcome_out(outcome), status=status.HTTP_201_CREATED if outcome.version == 1 else 200)


def _v1_may_replace(meeting: Meeting, case: Case) -> None:
    """v1 cannot see a 1.2 option chosen through v2, so it must not overwrite that outcome."""
    current = Outcome.objects.filter(entry__meeting=meeting, entry__case=case).first()
    if current is not None and v1.hidden_choices(outcome_out(current)):
        raise Conflict(
            "This outcome chose options that only /api/v2/ shows; correct it through /api/v2/.",
            outcome_out(current),
        )
