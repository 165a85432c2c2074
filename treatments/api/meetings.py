"""MDT meetings over the API: the list, one meeting, its cases and their order, the worklist and the
outcomes recorded at the meeting.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from treatments import pdf, selectors, services, sheets, tasks
from treatments.inputs import (
    MeetingCaseAdd,
    MeetingChange,
    MeetingInput,
    MeetingOrder,
    OutcomeInput,
    OutcomeRecord,
)
from treatments.models import Case, Meeting, MeetingPack, Outcome

from . import v1
from .exceptions import Conflict, InvalidInput, found, service_call, validated
from .outputs import case_out, meeting_out, not_needed_out, outcome_out, to_obtain_out
from .pagination import PAGE_PARAMETER, PAGE_SIZE, page_of, requested_page
from .permissions import acting_user, capability, capability_by_method
from .renderers import PdfOrJson
from .schemas import (
    CONFLICT_RESPONSE,
    MeetingOut,
    MeetingPackOut,
    MeetingPage,
    OutcomeOut,
    PackRequest,
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


def pack_out(pack: MeetingPack) -> dict[str, object]:
    url = reverse("api-v2:meeting-pack", args=[pack.meeting_id])
    return {
        "id": pack.pk,
        "status": pack.status,
        "cases": pack.cases,
        "done": pack.done,
        "appendix": pack.appendix,
        "created_at": pack.created_at,
        "finished_at": pack.finished_at,
        "error": pack.error,
        "pdf": url if pack.status == MeetingPack.Status.READY else None,
    }


class MeetingPackView(PdfOrJson, VersionedView):
    """The meeting pack (v2 only): POST prepares one in the background (202); GET answers its state and
    progress, or with `Accept: application/pdf` the PDF once it is ready (409 until then). A meeting
    keeps its newest pack; packs expire after NETCARE_PACK_KEEP_HOURS. Each download is audited."""

    permission_classes = [capability("export_summary")]

    @extend_schema(
        responses={
            (200, "application/json"): MeetingPackOut,
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="With `Accept: application/pdf`: the pack, once ready."
            ),
        },
        tags=["meetings"],
    )
    def get(self, request: Request, meeting_id: int) -> Response | HttpResponse:
        meeting = found(selectors.meeting_get(meeting_id))
        pack = tasks.latest_pack(meeting)
        if pack is None:
            raise NotFound("No pack has been prepared for this meeting: POST here to prepare one.")
        if not self.wants_pdf(request):
            return Response(pack_out(pack))
        if pack.status != MeetingPack.Status.READY:
            raise Conflict(
                f"The pack is not ready ({pack.get_status_display().lower()}, "
                f"{pack.done} of {pack.cases} case sheets made): ask again later.",
                current=pack_out(pack),
            )
        document = MeetingPack.objects.values_list("pdf", flat=True).get(pk=pack.pk)
        if document is None:
            raise NotFound("The pack has no PDF.")
        services.summary_exported(actor=acting_user(request), obj=meeting, fmt="pdf")
        return pdf.pdf_response(bytes(document), sheets.pack_filename(meeting))

    @extend_schema(request=PackRequest, responses={202: MeetingPackOut}, tags=["meetings"])
    def post(self, request: Request, meeting_id: int) -> Response:
        meeting = found(selectors.meeting_get(meeting_id))
        data = validated(PackRequest, request.data if request.data else {})
        cases = meeting.entries.count()
        if not cases:
            raise Conflict("The meeting has no cases: there is nothing to put in a pack.")
        pack = tasks.pack_prepare(
            meeting=meeting, user=acting_user(request), cases=cases, appendix=data.appendix
        )
        response = Response(pack_out(pack), status=status.HTTP_202_ACCEPTED)
        response["Location"] = reverse("api-v2:meeting-pack", args=[meeting.pk])
        return response
