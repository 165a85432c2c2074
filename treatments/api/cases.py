"""API v1 for the MDT workflow: cases, evaluations, reviews, meetings, outcomes and summaries.

Thin views over treatments.services (writes, each audited) and treatments.selectors (reads); input
is validated by the pydantic models of treatments.inputs, the same the pages use.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from django.contrib.auth.models import AbstractBaseUser, User
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from treatments import selectors, services
from treatments.inputs import (
    CaseChange,
    CaseCreate,
    MeetingCaseAdd,
    MeetingInput,
    MeetingOrder,
    OutcomeInput,
    ReviewInput,
)
from treatments.models import Case, Evaluation, Meeting, Outcome, Review
from treatments.rules.explain import data_to_obtain
from treatments.rules.profile import MODALITY_KEYS

from .exceptions import InvalidInput, validated
from .permissions import capability
from .schemas import (
    CaseOut,
    CasePage,
    CaseSummaryOut,
    ConflictResponse,
    EvaluationChangesOut,
    EvaluationList,
    EvaluationOut,
    MeetingList,
    MeetingOut,
    OutcomeOut,
    ReviewOut,
    Worklist,
)

PAGE_SIZE = 50
_CONFLICT = {409: OpenApiResponse(ConflictResponse, description="Someone saved a newer version first.")}


class Conflict(APIException):
    """409: the write would overwrite someone else's newer change, or the workflow does not allow it."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, detail: str, current: dict[str, Any] | None = None):
        super().__init__(detail)
        self.current = current


def _actor(request: Request) -> User:
    """The signed-in user (the permission classes have already refused anyone else)."""
    assert isinstance(request.user, User)
    return request.user


def _write(call: Any, *, serialize_current: Any = None) -> Any:
    """Run a service call, turning workflow refusals into 400/409 in the API's error shape."""
    try:
        return call()
    except services.EditConflict as exc:
        current = serialize_current(exc.current) if serialize_current and exc.current is not None else None
        raise Conflict(str(exc), current) from exc
    except services.WorkflowError as exc:
        if exc.loc:
            raise InvalidInput([{"loc": exc.loc, "msg": str(exc)}]) from exc
        raise Conflict(str(exc)) from exc


# --- representations ----------------------------------------------------------------------------------


def _name(user: AbstractBaseUser) -> str:
    return user.get_username()


def case_out(case: Case, latest: Evaluation | None = None, *, look_up: bool = True) -> dict[str, Any]:
    evaluation = latest if latest is not None or not look_up else selectors.latest_evaluation(case)
    return {
        "id": case.pk,
        "hospital_reference": case.hospital_reference,
        "nhs_number": case.nhs_number,
        "referring_clinician": case.referring_clinician,
        "question": case.question,
        "clinical_summary": case.clinical_summary,
        "profile": case.profile,
        "status": case.status,
        "archived": case.is_archived,
        "version": case.version,
        "created_by": _name(case.created_by),
        "created_at": case.created_at,
        "updated_by": _name(case.updated_by),
        "updated_at": case.updated_at,
        "latest_evaluation": None
        if evaluation is None
        else {
            "id": evaluation.pk,
            "created_at": evaluation.created_at,
            "ruleset_version": evaluation.ruleset_version,
            "out_of_date": selectors.evaluation_staleness(evaluation, case),
        },
    }


def review_out(review: Review) -> dict[str, Any]:
    return {
        "modality": review.modality,
        "decision": review.decision,
        "reason_code": review.reason_code,
        "note": review.note,
        "version": review.version,
        "reviewed_by": _name(review.reviewed_by),
        "reviewed_at": review.reviewed_at,
    }


def evaluation_out(evaluation: Evaluation, case: Case) -> dict[str, Any]:
    return {
        "id": evaluation.pk,
        "case": case.pk,
        "created_at": evaluation.created_at,
        "created_by": _name(evaluation.created_by),
        "ruleset": evaluation.result["ruleset"],
        "profile": evaluation.profile,
        "out_of_date": selectors.evaluation_staleness(evaluation, case),
        "options": evaluation.result["options"],
        "reviews": [review_out(review) for review in selectors.reviews_by_modality(evaluation).values()],
    }


def outcome_out(outcome: Outcome) -> dict[str, Any]:
    return {
        "case": outcome.entry.case_id,
        "evaluation": outcome.evaluation_id,
        "chosen_modalities": outcome.chosen_modalities,
        "plan": outcome.plan,
        "statuses": outcome.statuses,
        "concordant": outcome.concordant,
        "version": outcome.version,
        "recorded_by": _name(outcome.recorded_by),
        "recorded_at": outcome.recorded_at,
    }


def meeting_out(meeting: Meeting) -> dict[str, Any]:
    concordance = selectors.meeting_concordance(meeting)
    entries = meeting.entries.select_related("case").order_by("position", "id")
    return {
        "id": meeting.pk,
        "title": meeting.title,
        "date": meeting.date,
        "created_by": _name(meeting.created_by),
        "created_at": meeting.created_at,
        "cases": [
            {"position": e.position, "case": e.case_id, "hospital_reference": e.case.hospital_reference}
            for e in entries
        ],
        "concordance": {**concordance._asdict(), "percent": concordance.percent},
    }


def _to_obtain(items: list[Any]) -> list[dict[str, Any]]:
    return [{"fact": item.fact, "modalities": [m.key for m in item.modalities]} for item in items]


# --- cases ----------------------------------------------------------------------------------------------


class CaseQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: Literal["draft", "ready", "discussed", "closed"] | None = None
    search: str = Field(default="", max_length=200)
    archived: bool = False
    page: int = Field(default=1, ge=1, le=100_000)


_CASE_QUERY = [
    OpenApiParameter("status", str, enum=["draft", "ready", "discussed", "closed"]),
    OpenApiParameter(
        "search", {"type": "string", "maxLength": 200}, description="Words in reference or question."
    ),
    OpenApiParameter("archived", bool, description="Archived cases instead of active ones."),
    OpenApiParameter("page", {"type": "integer", "minimum": 1, "maximum": 100_000}),
]


def _case(request: Request, case_id: int) -> Case:
    return get_object_or_404(Case.objects.select_related("created_by", "updated_by"), pk=case_id)


class CaseListView(APIView):
    """Cases for the MDT (active ones unless `archived=true`), most recently changed first."""

    def get_permissions(self) -> list[Any]:
        return [capability("view_cases" if self.request.method == "GET" else "manage_cases")()]

    @extend_schema(
        parameters=_CASE_QUERY, responses={200: CasePage}, tags=["cases"], operation_id="cases_list"
    )
    def get(self, request: Request) -> Response:
        query = _query(CaseQuery, request)
        found = selectors.cases(status=query.status, search=query.search, archived=query.archived)
        count = found.count()
        pages = max(1, math.ceil(count / PAGE_SIZE))
        rows = found[(query.page - 1) * PAGE_SIZE : query.page * PAGE_SIZE]
        return Response(
            {"count": count, "page": query.page, "pages": pages, "results": [case_out(c) for c in rows]}
        )

    @extend_schema(request=CaseCreate, responses={201: CaseOut, **_CONFLICT}, tags=["cases"])
    def post(self, request: Request) -> Response:
        data = validated(CaseCreate, request.data)
        case = _write(lambda: services.case_create(actor=_actor(request), data=data))
        return Response(case_out(case, look_up=False), status=status.HTTP_201_CREATED)


class CaseDetailView(APIView):
    """One case. PATCH with the `version` you read; if someone saved since, 409 with their version."""

    def get_permissions(self) -> list[Any]:
        return [capability("view_cases" if self.request.method == "GET" else "manage_cases")()]

    @extend_schema(responses={200: CaseOut}, tags=["cases"])
    def get(self, request: Request, case_id: int) -> Response:
        return Response(case_out(_case(request, case_id)))

    @extend_schema(request=CaseChange, responses={200: CaseOut, **_CONFLICT}, tags=["cases"])
    def patch(self, request: Request, case_id: int) -> Response:
        case = _case(request, case_id)
        data = validated(CaseChange, request.data)
        updated = _write(
            lambda: services.case_update(actor=_actor(request), case=case, data=data),
            serialize_current=case_out,
        )
        return Response(case_out(updated))


class CaseArchiveView(APIView):
    """Archive a case: it leaves the lists; its evaluations, reviews and outcomes are kept."""

    permission_classes = [capability("manage_cases")]

    @extend_schema(request=None, responses={200: CaseOut}, tags=["cases"])
    def post(self, request: Request, case_id: int) -> Response:
        case = _write(lambda: services.case_archive(actor=_actor(request), case=_case(request, case_id)))
        return Response(case_out(case))


class EvaluationListView(APIView):
    """A case's evaluations (newest first); POST runs the published rules and stores a snapshot."""

    def get_permissions(self) -> list[Any]:
        return [capability("view_cases" if self.request.method == "GET" else "manage_cases")()]

    @extend_schema(responses={200: EvaluationList}, tags=["cases"], operation_id="evaluations_list")
    def get(self, request: Request, case_id: int) -> Response:
        case = _case(request, case_id)
        return Response([evaluation_out(evaluation, case) for evaluation in selectors.case_evaluations(case)])

    @extend_schema(request=None, responses={201: EvaluationOut, **_CONFLICT}, tags=["cases"])
    def post(self, request: Request, case_id: int) -> Response:
        case = _case(request, case_id)
        evaluation = _write(lambda: services.case_evaluate(actor=_actor(request), case=case))
        return Response(evaluation_out(evaluation, case), status=status.HTTP_201_CREATED)


def _evaluation(case: Case, evaluation_id: int) -> Evaluation:
    return get_object_or_404(case.evaluations.select_related("created_by"), pk=evaluation_id)


class EvaluationDetailView(APIView):
    """One evaluation exactly as it was made, with its reviews and whether it is out of date."""

    permission_classes = [capability("view_cases")]

    @extend_schema(responses={200: EvaluationOut}, tags=["cases"])
    def get(self, request: Request, case_id: int, evaluation_id: int) -> Response:
        case = _case(request, case_id)
        return Response(evaluation_out(_evaluation(case, evaluation_id), case))


class ChangesQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    since: int = Field(ge=1, le=2**53, description="The earlier evaluation's id.")


class EvaluationChangesView(APIView):
    """What changed between an earlier evaluation (`since`) and this one: facts and option statuses."""

    permission_classes = [capability("view_cases")]

    @extend_schema(
        parameters=[
            OpenApiParameter("since", {"type": "integer", "minimum": 1, "maximum": 2**53}, required=True)
        ],
        responses={200: EvaluationChangesOut},
        tags=["cases"],
    )
    def get(self, request: Request, case_id: int, evaluation_id: int) -> Response:
        case = _case(request, case_id)
        after = _evaluation(case, evaluation_id)
        before = _evaluation(case, _query(ChangesQuery, request).since)
        changes = selectors.evaluation_changes(before, after)
        return Response(
            {
                "before": before.pk,
                "after": after.pk,
                "facts": [{"fact": c.fact, "old": c.old, "new": c.new} for c in changes.facts],
                "options": [
                    {
                        "modality": c.modality.key,
                        "old_status": c.old_status,
                        "new_status": c.new_status,
                        "deciding_rules": [reason.rule.rule_id for reason in c.reasons],
                        "outcome_changes": [
                            {
                                "rule_id": oc.reason.rule.rule_id,
                                "old_outcome": oc.old_outcome,
                                "new_outcome": oc.reason.outcome_word,
                            }
                            for oc in c.outcome_changes
                        ],
                    }
                    for c in changes.options
                ],
            }
        )


class ReviewView(APIView):
    """A clinician's review of one option: PUT with the review `version` you saw (none for a new one).

    If another clinician saved this review in between, nothing is overwritten: 409 with theirs.
    """

    permission_classes = [capability("review_options")]

    @extend_schema(
        request=ReviewInput, responses={200: ReviewOut, 201: ReviewOut, **_CONFLICT}, tags=["cases"]
    )
    def put(self, request: Request, case_id: int, evaluation_id: int, modality: str) -> Response:
        case = _case(request, case_id)
        evaluation = _evaluation(case, evaluation_id)
        if modality not in MODALITY_KEYS:
            raise InvalidInput(
                [{"loc": ["path", "modality"], "msg": f"must be one of: {', '.join(MODALITY_KEYS)}"}]
            )
        data = validated(ReviewInput, request.data)
        review = _write(
            lambda: services.option_review(
                actor=_actor(request), evaluation=evaluation, modality=modality, data=data
            ),
            serialize_current=review_out,
        )
        return Response(review_out(review), status=status.HTTP_201_CREATED if review.version == 1 else 200)


class CaseSummaryView(APIView):
    """Everything the MDT needs about a case: the case, its latest evaluation with reviews, the data
    still to obtain and the outcomes recorded. Each call is recorded as an export in the audit trail."""

    permission_classes = [capability("export_summary")]

    @extend_schema(responses={200: CaseSummaryOut}, tags=["cases"])
    def get(self, request: Request, case_id: int) -> Response:
        case = _case(request, case_id)
        evaluation = selectors.latest_evaluation(case)
        to_obtain = (
            [] if evaluation is None else _to_obtain(data_to_obtain(selectors.evaluation_result(evaluation)))
        )
        outcomes = selectors.case_outcomes(case)
        services.summary_exported(actor=_actor(request), obj=case, fmt="json")
        return Response(
            {
                "case": case_out(case, evaluation, look_up=False),
                "evaluation": None if evaluation is None else evaluation_out(evaluation, case),
                "data_to_obtain": to_obtain,
                "outcomes": [outcome_out(outcome) for outcome in outcomes],
            }
        )


# --- meetings -------------------------------------------------------------------------------------------


def _meeting(meeting_id: int) -> Meeting:
    return get_object_or_404(Meeting.objects.select_related("created_by"), pk=meeting_id)


class MeetingListView(APIView):
    """MDT meetings, newest first."""

    def get_permissions(self) -> list[Any]:
        return [capability("view_cases" if self.request.method == "GET" else "manage_meetings")()]

    @extend_schema(responses={200: MeetingList}, tags=["meetings"], operation_id="meetings_list")
    def get(self, request: Request) -> Response:
        return Response(
            [meeting_out(meeting) for meeting in selectors.meetings().select_related("created_by")]
        )

    @extend_schema(request=MeetingInput, responses={201: MeetingOut}, tags=["meetings"])
    def post(self, request: Request) -> Response:
        data = validated(MeetingInput, request.data)
        meeting = services.meeting_create(actor=_actor(request), data=data)
        return Response(meeting_out(meeting), status=status.HTTP_201_CREATED)


class MeetingDetailView(APIView):
    """One meeting with its cases in order and the concordance of its recorded decisions."""

    def get_permissions(self) -> list[Any]:
        return [capability("view_cases" if self.request.method == "GET" else "manage_meetings")()]

    @extend_schema(responses={200: MeetingOut}, tags=["meetings"])
    def get(self, request: Request, meeting_id: int) -> Response:
        return Response(meeting_out(_meeting(meeting_id)))

    @extend_schema(request=MeetingInput, responses={200: MeetingOut}, tags=["meetings"])
    def put(self, request: Request, meeting_id: int) -> Response:
        meeting = _meeting(meeting_id)
        data = validated(MeetingInput, request.data)
        return Response(
            meeting_out(services.meeting_update(actor=_actor(request), meeting=meeting, data=data))
        )


class MeetingCasesView(APIView):
    """Add a case at the end of the meeting's list."""

    permission_classes = [capability("manage_meetings")]

    @extend_schema(request=MeetingCaseAdd, responses={201: MeetingOut, **_CONFLICT}, tags=["meetings"])
    def post(self, request: Request, meeting_id: int) -> Response:
        meeting = _meeting(meeting_id)
        data = validated(MeetingCaseAdd, request.data)
        case = Case.objects.filter(pk=data.case).first()
        if case is None:
            raise InvalidInput([{"loc": ["case"], "msg": f"no case with id {data.case}"}])
        _write(lambda: services.meeting_add_case(actor=_actor(request), meeting=meeting, case=case))
        return Response(meeting_out(meeting), status=status.HTTP_201_CREATED)


class MeetingCaseView(APIView):
    """Take a case off the meeting's list (not once its outcome is recorded)."""

    permission_classes = [capability("manage_meetings")]

    @extend_schema(request=None, responses={204: None, **_CONFLICT}, tags=["meetings"])
    def delete(self, request: Request, meeting_id: int, case_id: int) -> Response:
        meeting = _meeting(meeting_id)
        case = _case(request, case_id)
        _write(lambda: services.meeting_remove_case(actor=_actor(request), meeting=meeting, case=case))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeetingOrderView(APIView):
    """Put the meeting's cases in a new order (every case id exactly once)."""

    permission_classes = [capability("manage_meetings")]

    @extend_schema(request=MeetingOrder, responses={200: MeetingOut}, tags=["meetings"])
    def put(self, request: Request, meeting_id: int) -> Response:
        meeting = _meeting(meeting_id)
        data = validated(MeetingOrder, request.data)
        _write(lambda: services.meeting_reorder(actor=_actor(request), meeting=meeting, case_ids=data.cases))
        return Response(meeting_out(meeting))


class WorklistView(APIView):
    """The meeting's cases in order with their readiness: evaluated, up to date, data still to obtain."""

    permission_classes = [capability("view_cases")]

    @extend_schema(responses={200: Worklist}, tags=["meetings"])
    def get(self, request: Request, meeting_id: int) -> Response:
        rows = selectors.meeting_worklist(_meeting(meeting_id))
        return Response(
            [
                {
                    "position": row.entry.position,
                    "case": case_out(row.case, row.evaluation, look_up=False),
                    "evaluation": row.evaluation.pk if row.evaluation else None,
                    "ready": row.ready,
                    "out_of_date": row.stale,
                    "data_to_obtain": _to_obtain(row.to_obtain),
                    "outcome": outcome_out(row.outcome) if row.outcome else None,
                }
                for row in rows
            ]
        )


class OutcomeView(APIView):
    """Record or correct the MDT's decision for a case (PUT with the outcome `version` you saw)."""

    permission_classes = [capability("record_outcome")]

    @extend_schema(
        request=OutcomeInput, responses={200: OutcomeOut, 201: OutcomeOut, **_CONFLICT}, tags=["meetings"]
    )
    def put(self, request: Request, meeting_id: int, case_id: int) -> Response:
        meeting = _meeting(meeting_id)
        case = _case(request, case_id)
        data = validated(OutcomeInput, request.data)
        outcome = _write(
            lambda: services.outcome_record(actor=_actor(request), meeting=meeting, case=case, data=data),
            serialize_current=outcome_out,
        )
        return Response(outcome_out(outcome), status=status.HTTP_201_CREATED if outcome.version == 1 else 200)


def _query(model: type[Any], request: Request) -> Any:
    try:
        return model.model_validate(dict(request.query_params.items()))
    except ValidationError as exc:
        raise InvalidInput.from_pydantic(exc, ("query",)) from exc
