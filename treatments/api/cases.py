"""Cases over the API: the list, one case, its evaluations, what changed, reviews and the summary.

Thin views over treatments.services (writes, each audited) and treatments.selectors (reads); input
is validated by the pydantic models of treatments.inputs, the same the pages use.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from pydantic import BaseModel, ConfigDict, Field
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from treatments import pdf, selectors, services, sheets
from treatments.inputs import (
    CaseChange,
    CaseCreate,
    ReviewInput,
    SearchText,
)
from treatments.rules import explain
from treatments.rules.profile import MODALITY_KEYS
from treatments.rules.vocabulary import MODALITY_KEYS_V1
from treatments.services.audit import case_read

from . import v1
from .exceptions import InvalidInput, found, query_params, service_call, validated
from .outputs import case_out, evaluation_out, outcome_out, review_out, to_obtain_out
from .pagination import (
    EVALUATION_PAGE_SIZE,
    MAX_PAGE,
    PAGE_PARAMETER,
    PAGE_SIZE,
    page_of,
    requested_page,
)
from .permissions import acting_user, capability, capability_by_method
from .renderers import PdfOrJson
from .schemas import (
    CONFLICT_RESPONSE,
    CaseOut,
    CasePage,
    CaseSummaryOut,
    EvaluationChangesOut,
    EvaluationOut,
    EvaluationPage,
    ReviewOut,
)
from .versions import VersionedView

# --- representations ----------------------------------------------------------------------------------


# --- cases ----------------------------------------------------------------------------------------------


class CaseQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    status: Literal["draft", "ready", "discussed", "closed"] | None = None
    search: SearchText = Field(default="", max_length=200)
    archived: bool = False
    page: int = Field(default=1, ge=1, le=MAX_PAGE)


_CASE_QUERY = [
    OpenApiParameter("status", str, enum=["draft", "ready", "discussed", "closed"]),
    OpenApiParameter(
        "search", {"type": "string", "maxLength": 200}, description="Words in reference or question."
    ),
    OpenApiParameter("archived", bool, description="Archived cases instead of active ones."),
    PAGE_PARAMETER,
]


class CaseListView(VersionedView):
    """Cases for the MDT (active ones unless `archived=true`), most recently changed first."""

    permission_classes = [capability_by_method("view_cases", "manage_cases")]

    @extend_schema(
        parameters=_CASE_QUERY, responses={200: CasePage}, tags=["cases"], operation_id="cases_list"
    )
    def get(self, request: Request) -> Response:
        query = query_params(CaseQuery, request)
        found = selectors.case_list(status=query.status, search=query.search, archived=query.archived)
        published = selectors.published_ruleset_ref()
        return Response(page_of(found, query.page, PAGE_SIZE, lambda c: case_out(c, published=published)))

    @extend_schema(request=CaseCreate, responses={201: CaseOut, **CONFLICT_RESPONSE}, tags=["cases"])
    def post(self, request: Request) -> Response:
        data = self.validated(CaseCreate, request.data, "CaseCreateRequest")
        case = service_call(lambda: services.case_create(actor=acting_user(request), data=data))
        return Response(case_out(case), status=status.HTTP_201_CREATED)


class CaseDetailView(VersionedView):
    """One case. PATCH with the `version` you read; if someone saved since, 409 with their version."""

    permission_classes = [capability_by_method("view_cases", "manage_cases")]

    @extend_schema(responses={200: CaseOut}, tags=["cases"])
    def get(self, request: Request, case_id: int) -> Response:
        case = found(selectors.case_get(case_id))
        case_read(actor=acting_user(request), case=case, view=f"api {self.api_version}")
        return Response(case_out(case))

    @extend_schema(request=CaseChange, responses={200: CaseOut, **CONFLICT_RESPONSE}, tags=["cases"])
    def patch(self, request: Request, case_id: int) -> Response:
        case = found(selectors.case_get(case_id))
        sent = request.data
        if self.is_v1 and isinstance(sent, dict) and isinstance(sent.get("profile"), dict):
            sent = {**sent, "profile": v1.merged_profile(case.profile, sent["profile"])}
        data = self.validated(CaseChange, sent, "PatchedCaseChangeRequest", request.data)
        updated = service_call(
            lambda: services.case_update(actor=acting_user(request), case=case, data=data),
            serialize_current=case_out,
        )
        return Response(case_out(updated))


class CaseArchiveView(VersionedView):
    """Archive a case: it leaves the lists; its evaluations, reviews and outcomes are kept."""

    permission_classes = [capability("manage_cases")]

    @extend_schema(request=None, responses={200: CaseOut}, tags=["cases"])
    def post(self, request: Request, case_id: int) -> Response:
        case = service_call(
            lambda: services.case_archive(actor=acting_user(request), case=found(selectors.case_get(case_id)))
        )
        return Response(case_out(case))


class EvaluationListView(VersionedView):
    """A case's evaluations, newest first, a page at a time. POST runs the published rules and
    stores a snapshot: 201 with the new evaluation, or 200 with the latest one when the case's facts
    and the rule set in force are those it was made with (nothing new to store)."""

    permission_classes = [capability_by_method("view_cases", "manage_cases")]

    @extend_schema(
        parameters=[PAGE_PARAMETER],
        responses={200: EvaluationPage},
        tags=["cases"],
        operation_id="evaluations_list",
    )
    def get(self, request: Request, case_id: int) -> Response:
        case = found(selectors.case_get(case_id))
        evaluations = selectors.case_evaluations(case)
        if self.is_v1:  # v1 published an array: the newest page of it
            newest = evaluations[:EVALUATION_PAGE_SIZE]
            return Response([evaluation_out(evaluation, case) for evaluation in newest])
        page = requested_page(request)
        return Response(page_of(evaluations, page, EVALUATION_PAGE_SIZE, lambda e: evaluation_out(e, case)))

    @extend_schema(
        request=None,
        responses={201: EvaluationOut, 200: EvaluationOut, **CONFLICT_RESPONSE},
        tags=["cases"],
    )
    def post(self, request: Request, case_id: int) -> Response:
        case = found(selectors.case_get(case_id))
        evaluation, created = service_call(
            lambda: services.case_evaluate_once(actor=acting_user(request), case=case)
        )
        return Response(evaluation_out(evaluation, case), status=201 if created else 200)


class EvaluationDetailView(VersionedView):
    """One evaluation exactly as it was made, with its reviews and whether it is out of date."""

    permission_classes = [capability("view_cases")]

    @extend_schema(responses={200: EvaluationOut}, tags=["cases"])
    def get(self, request: Request, case_id: int, evaluation_id: int) -> Response:
        case = found(selectors.case_get(case_id))
        evaluation = found(selectors.evaluation_get(case, evaluation_id))
        case_read(
            actor=acting_user(request), case=case, view=f"api {self.api_version}", evaluation=evaluation.pk
        )
        return Response(evaluation_out(evaluation, case))


class ChangesQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    since: int = Field(ge=1, le=2**53, description="The earlier evaluation's id.")


class EvaluationChangesView(VersionedView):
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
        case = found(selectors.case_get(case_id))
        after = found(selectors.evaluation_get(case, evaluation_id))
        before = found(selectors.evaluation_get(case, query_params(ChangesQuery, request).since))
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


class ReviewView(VersionedView):
    """A clinician's review of one option: PUT with the review `version` you saw (none for a new one).

    If another clinician saved this review in between, nothing is overwritten: 409 with theirs.
    """

    permission_classes = [capability("review_options")]

    @extend_schema(
        request=ReviewInput, responses={200: ReviewOut, 201: ReviewOut, **CONFLICT_RESPONSE}, tags=["cases"]
    )
    def put(self, request: Request, case_id: int, evaluation_id: int, modality: str) -> Response:
        case = found(selectors.case_get(case_id))
        evaluation = found(selectors.evaluation_get(case, evaluation_id))
        keys = MODALITY_KEYS_V1 if self.is_v1 else MODALITY_KEYS
        if modality not in keys:
            raise InvalidInput([{"loc": ["path", "modality"], "msg": f"must be one of: {', '.join(keys)}"}])
        data = validated(ReviewInput, request.data)
        review = service_call(
            lambda: services.option_review(
                actor=acting_user(request), evaluation=evaluation, modality=modality, data=data
            ),
            serialize_current=review_out,
        )
        return Response(review_out(review), status=status.HTTP_201_CREATED if review.version == 1 else 200)


class SheetQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    appendix: bool = False


SHEET_PARAMETERS = [
    OpenApiParameter(
        "appendix",
        bool,
        description="With `Accept: application/pdf`: add the appendix (every option and its rules).",
    ),
]
PDF_RESPONSE = OpenApiResponse(
    OpenApiTypes.BINARY, description="With `Accept: application/pdf`: the MDT case sheet, A4 PDF."
)


class CaseSummaryView(PdfOrJson, VersionedView):
    """Everything the MDT needs about a case: the case, its latest evaluation with reviews, the data
    still to obtain and the outcomes recorded. With `Accept: application/pdf`, the case sheet the
    pages print (at most two A4 pages; `?appendix=true` adds the rules behind every option). Each
    call is recorded as an export in the audit trail."""

    permission_classes = [capability("export_summary")]

    @extend_schema(
        parameters=SHEET_PARAMETERS,
        responses={(200, "application/json"): CaseSummaryOut, (200, "application/pdf"): PDF_RESPONSE},
        tags=["cases"],
    )
    def get(self, request: Request, case_id: int) -> Response | HttpResponse:
        case = found(selectors.case_get(case_id))
        if self.wants_pdf(request):
            query = query_params(SheetQuery, request)
            sheet = sheets.case_sheet_of(case, appendix=query.appendix)
            services.summary_exported(actor=acting_user(request), obj=case, fmt="pdf")
            return pdf.pdf_response(sheet.pdf, sheets.sheet_filename(case))
        evaluation = selectors.latest_evaluation(case)
        to_obtain = (
            []
            if evaluation is None
            else to_obtain_out(explain.data_to_obtain(selectors.evaluation_result(evaluation)))
        )
        outcomes = selectors.case_outcomes(case)
        services.summary_exported(actor=acting_user(request), obj=case, fmt="json")
        return Response(
            {
                "case": case_out(case),
                "evaluation": None if evaluation is None else evaluation_out(evaluation, case),
                "data_to_obtain": to_obtain,
                "outcomes": [outcome_out(outcome) for outcome in outcomes],
            }
        )


# --- meetings -------------------------------------------------------------------------------------------
