"""The MDT room over the API (v2): facts marked "not needed" for a case, and a meeting's attendance
and quoracy. The same services as the case and meeting pages, so the same rules, refusals and audit
events (`data.waive`, `data.unwaive`, `meeting.attendee_add`, `meeting.attendee_remove`).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from treatments import selectors, services
from treatments.inputs import AttendeeInput, WaiverInput
from treatments.models import Attendee, Meeting
from treatments.rules.vocabulary import FACT_DATA_SOURCE

from .exceptions import InvalidInput, found, service_call, validated
from .outputs import not_needed_out
from .permissions import acting_user, capability_by_method
from .schemas import AttendanceOut, ConflictResponse, NotNeededList, NotNeededOut
from .versions import VersionedView

ARCHIVED = {
    409: OpenApiResponse(ConflictResponse, description="The case is archived: nothing about it may change.")
}


class NotNeededListView(VersionedView):
    """The unknown facts marked "not needed" for a case, with why; POST marks one (or changes why).

    Readiness and the chase list stop waiting for a fact marked not needed; the engine does not:
    the fact stays unknown and its options keep their status."""

    permission_classes = [capability_by_method("view_cases", "waive_data")]

    @extend_schema(responses={200: NotNeededList}, tags=["cases"], operation_id="cases_not_needed_list")
    def get(self, request: Request, case_id: int) -> Response:
        case = found(selectors.case_get(case_id))
        return Response(not_needed_out(selectors.case_waivers(case).values()))

    @extend_schema(
        request=WaiverInput,
        responses={201: NotNeededOut, 200: NotNeededOut, **ARCHIVED},
        tags=["cases"],
        operation_id="cases_not_needed_create",
    )
    def post(self, request: Request, case_id: int) -> Response:
        """Mark `fact` not needed with `reason` (clinicians only): 201, or 200 when it already was
        and only the reason changed."""
        case = found(selectors.case_get(case_id))
        data = validated(WaiverInput, request.data)
        before = case.waivers.filter(fact=data.fact).exists()
        actor = acting_user(request)
        waiver = service_call(lambda: services.waiver_record(actor=actor, case=case, data=data))
        answer = not_needed_out([waiver])[0]
        return Response(answer, status=status.HTTP_200_OK if before else status.HTTP_201_CREATED)


class NotNeededView(VersionedView):
    """One fact marked not needed for a case; DELETE: it is needed after all."""

    permission_classes = [capability_by_method("view_cases", "waive_data")]

    @extend_schema(request=None, responses={204: None, **ARCHIVED}, tags=["cases"])
    def delete(self, request: Request, case_id: int, fact: str) -> Response:
        case = found(selectors.case_get(case_id))
        if fact not in FACT_DATA_SOURCE:
            raise InvalidInput([{"loc": ["fact"], "msg": f"is not a fact of the contract: {fact!r}"}])
        if not case.waivers.filter(fact=fact).exists():
            raise NotFound(f"{fact} is not marked as not needed for this case.")
        service_call(lambda: services.waiver_remove(actor=acting_user(request), case=case, fact=fact))
        return Response(status=status.HTTP_204_NO_CONTENT)


def attendance_out(meeting: Meeting) -> dict[str, Any]:
    attendees = selectors.meeting_attendees(meeting)
    quoracy = selectors.meeting_quoracy(attendees)
    return {
        "attendees": [attendee_out(attendee) for attendee in attendees],
        "quorate": quoracy.quorate,
        "core_roles_present": list(quoracy.present),
        "core_roles_missing": list(quoracy.missing),
    }


def attendee_out(attendee: Attendee) -> dict[str, Any]:
    return {
        "id": attendee.pk,
        "name": attendee.name,
        "role": attendee.role,
        "recorded_by": attendee.recorded_by.get_username(),
        "recorded_at": attendee.recorded_at,
    }


class AttendanceView(VersionedView):
    """Who is present at the meeting, in which MDT role, and whether it is quorate (every core role
    present); POST records someone present (clinicians and coordinators)."""

    permission_classes = [capability_by_method("view_cases", "record_attendance")]

    @extend_schema(responses={200: AttendanceOut}, tags=["meetings"], operation_id="meetings_attendance_list")
    def get(self, request: Request, meeting_id: int) -> Response:
        return Response(attendance_out(found(selectors.meeting_get(meeting_id))))

    @extend_schema(
        request=AttendeeInput,
        responses={201: AttendanceOut},
        tags=["meetings"],
        operation_id="meetings_attendance_create",
    )
    def post(self, request: Request, meeting_id: int) -> Response:
        """The same name in the same role twice is refused (400 at `name`)."""
        meeting = found(selectors.meeting_get(meeting_id))
        data = validated(AttendeeInput, request.data)
        service_call(lambda: services.attendee_add(actor=acting_user(request), meeting=meeting, data=data))
        return Response(attendance_out(meeting), status=status.HTTP_201_CREATED)


class AttendeeView(VersionedView):
    """One person recorded at the meeting; DELETE takes them off (recorded by mistake)."""

    permission_classes = [capability_by_method("view_cases", "record_attendance")]

    @extend_schema(request=None, responses={200: AttendanceOut}, tags=["meetings"])
    def delete(self, request: Request, meeting_id: int, attendee_id: int) -> Response:
        """Answers the attendance as it is now."""
        meeting = found(selectors.meeting_get(meeting_id))
        if not meeting.attendees.filter(pk=attendee_id).exists():
            raise NotFound(f"The meeting has no attendee {attendee_id}.")
        actor = acting_user(request)
        service_call(lambda: services.attendee_remove(actor=actor, meeting=meeting, attendee_id=attendee_id))
        return Response(attendance_out(meeting))
