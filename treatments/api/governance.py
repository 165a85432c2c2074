"""Rule governance over the API, /api/v2/ only (/api/v1/ is frozen to its published document, ADR
0007): rule sets and drafts, reviews, golden runs and cases, impact reports, the diff of two
versions, publication through the gates, and rollback (docs/rule-governance.md).

Thin views: a capability from roles.py, the body validated, one service or selector call.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from treatments import roles, services
from treatments.models import GoldenRun, ImpactReport, RuleSet, RuleSetReview
from treatments.rules.document import KnowledgeBase, KnowledgeBaseError, parse_data
from treatments.selectors import governance as selectors
from treatments.services.audit import display_name

from .exceptions import InvalidInput, found, problem_item, service_call, validated
from .parsers import JSONParser, YAMLParser
from .permissions import acting_user, capability
from .schemas import (
    GATES_RESPONSE,
    CloneRequest,
    DraftCreated,
    DraftRequest,
    GoldenCaseRequest,
    GoldenRunOut,
    ImpactReportOut,
    ImpactRequest,
    PublishRequest,
    RollbackRequest,
    RuleSetDetailOut,
    RuleSetList,
    RuleSetOut,
    RuleSetReviewOut,
    RuleSetReviewRequest,
)
from .versions import VersionedView

TAGS = ["rule governance"]


def any_capability(*names: str) -> type[BasePermission]:
    checks = [capability(name)() for name in names]

    class AnyOf(BasePermission):
        message = f"Your role does not allow this ({' or '.join(n.replace('_', ' ') for n in names)})."

        def has_permission(self, request: Request, view: Any) -> bool:
            return any(check.has_permission(request, view) for check in checks)

    return AnyOf


def _name(user: Any) -> str | None:
    return display_name(user) if user is not None else None


def _ruleset(version: str) -> RuleSet:
    return found(selectors.ruleset_get(version))


def ruleset_out(rule_set: RuleSet) -> dict[str, Any]:
    return {
        "version": rule_set.version,
        "title": rule_set.title,
        "status": rule_set.status,
        "review_state": selectors.review_state(rule_set),
        "checksum": rule_set.checksum,
        "created_at": rule_set.created_at,
        "created_by": _name(rule_set.created_by),
        "published_at": rule_set.published_at,
        "published_by": _name(rule_set.published_by),
        "based_on": rule_set.based_on.version if rule_set.based_on else None,
        "restores": rule_set.restores.version if rule_set.restores else None,
        "change_note": rule_set.change_note,
        "required_bump": rule_set.required_bump,
        "rules": len(rule_set.content.get("rules", ())),
        "golden_cases": len(rule_set.tests),
    }


def ruleset_detail_out(rule_set: RuleSet, user: Any) -> dict[str, Any]:
    run = selectors.latest_golden_run(rule_set)
    report = selectors.latest_impact_report(rule_set)
    gates = services.ruleset_gates(rule_set, user) if rule_set.status == RuleSet.Status.DRAFT else []
    return {
        **ruleset_out(rule_set),
        "content": rule_set.content,
        "authors": [display_name(user) for user in rule_set.authors.all()],
        "latest_golden_run": run.pk if run else None,
        "latest_impact_report": report.pk if report else None,
        "reviews": [review.pk for review in selectors.current_reviews(rule_set)],
        "gates": [{"gate": g.gate, "ok": g.ok, "why": g.why, "evidence": g.evidence} for g in gates],
    }


def review_out(review: RuleSetReview) -> dict[str, Any]:
    return {
        "id": review.pk,
        "kind": review.kind,
        "checksum": review.checksum,
        "reviewer": display_name(review.reviewer),
        "summary": review.summary,
        "comments": review.comments,
        "created_at": review.created_at,
    }


def golden_run_out(run: GoldenRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "version": run.rule_set.version,
        "checksum": run.checksum,
        "current": run.checksum == run.rule_set.checksum,
        "passed": run.passed,
        "results": run.results,
        "engine_version": run.engine_version,
        "run_by": _name(run.run_by),
        "run_at": run.run_at,
    }


def impact_out(report: ImpactReport, user: Any) -> dict[str, Any]:
    identified = roles.can(user, "view_impact_identified")
    body = selectors.impact_for_reader(report.changes, identified)
    if identified:
        for case in body.get("cases", []):
            case["link"] = f"/cases/{case['case_id']}/"
    current = selectors.ruleset_get(report.draft.version)
    in_force = RuleSet.objects.published().values_list("pk", flat=True).first()
    return {
        "id": report.pk,
        "draft": report.draft.version,
        "draft_checksum": report.draft_checksum,
        "baseline": report.baseline.version,
        "baseline_checksum": report.baseline_checksum,
        "scope": report.scope,
        "current": bool(
            current and current.checksum == report.draft_checksum and in_force == report.baseline_id
        ),
        "summary": report.summary,
        "report": body,
        "report_hash": report.report_hash,
        "generated_by": _name(report.generated_by),
        "generated_at": report.generated_at,
        "acknowledged_by": _name(report.acknowledged_by),
        "acknowledged_at": report.acknowledged_at,
    }


def knowledge_base_of(document: Any) -> KnowledgeBase:
    """A validated knowledge base from an uploaded document, or 400 naming each problem's place."""
    try:
        return parse_data(document, "document")
    except KnowledgeBaseError as exc:
        raise InvalidInput([problem_item(problem) for problem in exc.problems]) from exc
    except RecursionError:
        raise InvalidInput([{"loc": ["document"], "msg": "a condition is nested too deeply"}]) from None


def _upload(request: Request) -> tuple[Any, str]:
    """(document, change note) from a JSON envelope or a YAML body."""
    if request.content_type.split(";")[0].strip() in YAMLParser.media_types:
        note = request.query_params.get("change_note", "")
        if len(note) > 20_000:
            raise InvalidInput([{"loc": ["query", "change_note"], "msg": "must be at most 20000 characters"}])
        return request.data, note
    body = validated(DraftRequest, request.data)
    return body.document, body.change_note


_UPLOAD_SCHEMA = {"application/json": DraftRequest, "application/yaml": OpenApiTypes.OBJECT}


# --- views ----------------------------------------------------------------------------------------


class RuleSetListView(VersionedView):
    """Every version of the knowledge base, newest first, with its status and review state."""

    permission_classes = [capability("view_rulesets")]

    @extend_schema(operation_id="rulesets_list", responses={200: RuleSetList}, tags=TAGS)
    def get(self, request: Request) -> Response:
        return Response([ruleset_out(rule_set) for rule_set in selectors.ruleset_list()])


class RuleSetDetailView(VersionedView):
    """One version: its content, evidence and (for a draft) the publication gates as they stand."""

    permission_classes = [capability("view_rulesets")]

    @extend_schema(responses={200: RuleSetDetailOut}, tags=TAGS)
    def get(self, request: Request, version: str) -> Response:
        return Response(ruleset_detail_out(_ruleset(version), request.user))


class DraftListView(VersionedView):
    """Upload a knowledge base as a new draft (JSON envelope, or the YAML file itself)."""

    permission_classes = [capability("draft_ruleset")]
    parser_classes = [JSONParser, YAMLParser]

    @extend_schema(request=_UPLOAD_SCHEMA, responses={201: DraftCreated}, tags=TAGS)
    def post(self, request: Request) -> Response:
        document, note = _upload(request)
        knowledge_base = knowledge_base_of(document)
        draft = service_call(
            lambda: services.ruleset_draft_create(
                knowledge_base=knowledge_base, actor=acting_user(request), change_note=note
            )
        )
        return Response(
            {"version": draft.version, "checksum": draft.checksum, "problems": []},
            status=status.HTTP_201_CREATED,
        )


class DraftCloneView(VersionedView):
    """A draft with the content of the version in force, to edit in the app."""

    permission_classes = [capability("draft_ruleset")]

    @extend_schema(request=CloneRequest, responses={201: DraftCreated}, tags=TAGS)
    def post(self, request: Request) -> Response:
        body = validated(CloneRequest, request.data)
        draft = service_call(
            lambda: services.ruleset_draft_clone(
                actor=acting_user(request), version=body.version, change_note=body.change_note
            )
        )
        return Response(
            {"version": draft.version, "checksum": draft.checksum, "problems": []},
            status=status.HTTP_201_CREATED,
        )


class DraftDetailView(VersionedView):
    """Revise a draft (PUT: a new document; voids its approvals) or withdraw it (DELETE)."""

    permission_classes = [any_capability("draft_ruleset", "publish_ruleset")]
    parser_classes = [JSONParser, YAMLParser]

    @extend_schema(request=_UPLOAD_SCHEMA, responses={200: DraftCreated}, tags=TAGS)
    def put(self, request: Request, version: str) -> Response:
        if not roles.can(request.user, "draft_ruleset"):
            raise PermissionDenied("Your role does not allow this (draft ruleset).")
        draft = _ruleset(version)
        document, note = _upload(request)
        knowledge_base = knowledge_base_of(document)
        draft = service_call(
            lambda: services.ruleset_draft_revise(
                draft=draft,
                knowledge_base=knowledge_base,
                actor=acting_user(request),
                change_note=note or None,
            )
        )
        return Response({"version": draft.version, "checksum": draft.checksum, "problems": []})

    @extend_schema(responses={204: None}, tags=TAGS)
    def delete(self, request: Request, version: str) -> Response:
        draft = _ruleset(version)
        service_call(lambda: services.ruleset_withdraw(draft=draft, actor=acting_user(request)))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReviewListView(VersionedView):
    """Comment on, approve or request changes to a draft's current checksum (never your own draft)."""

    permission_classes = [capability("review_ruleset")]

    @extend_schema(request=RuleSetReviewRequest, responses={201: RuleSetReviewOut}, tags=TAGS)
    def post(self, request: Request, version: str) -> Response:
        draft = _ruleset(version)
        body = validated(RuleSetReviewRequest, request.data)
        review = service_call(
            lambda: services.ruleset_review(
                draft=draft,
                actor=acting_user(request),
                kind=body.kind,
                checksum=body.checksum,
                summary=body.summary,
                comments=[comment.model_dump() for comment in body.comments],
            )
        )
        return Response(review_out(review), status=status.HTTP_201_CREATED)


class GoldenRunView(VersionedView):
    """Run the version's golden cases against its rules (kept, append-only)."""

    permission_classes = [any_capability("draft_ruleset", "publish_ruleset")]

    @extend_schema(request=None, responses={201: GoldenRunOut}, tags=TAGS)
    def post(self, request: Request, version: str) -> Response:
        rule_set = _ruleset(version)
        run = service_call(lambda: services.ruleset_golden_run(rule_set=rule_set, actor=acting_user(request)))
        return Response(golden_run_out(run), status=status.HTTP_201_CREATED)


class LatestGoldenRunView(VersionedView):
    permission_classes = [capability("view_rulesets")]

    @extend_schema(responses={200: GoldenRunOut}, tags=TAGS)
    def get(self, request: Request, version: str) -> Response:
        rule_set = _ruleset(version)
        run = rule_set.golden_runs.order_by("-run_at", "-id").first()
        if run is None:
            raise NotFound(f"No golden run of {version} yet.")
        return Response(golden_run_out(run))


class GoldenCaseView(VersionedView):
    """Add a golden case to a draft: a profile and the statuses the author confirms."""

    permission_classes = [capability("draft_ruleset")]

    @extend_schema(request=GoldenCaseRequest, responses={201: DraftCreated}, tags=TAGS)
    def post(self, request: Request, version: str) -> Response:
        draft = _ruleset(version)
        body = validated(GoldenCaseRequest, request.data)
        draft = service_call(
            lambda: services.ruleset_golden_case_add(
                draft=draft, actor=acting_user(request), case=body.model_dump(exclude_defaults=True)
            )
        )
        return Response(
            {"version": draft.version, "checksum": draft.checksum, "problems": []},
            status=status.HTTP_201_CREATED,
        )


class ImpactView(VersionedView):
    """What publishing the draft would change for the stored cases (scope: active, all, meeting:<id>)."""

    permission_classes = [any_capability("draft_ruleset", "publish_ruleset")]

    @extend_schema(request=ImpactRequest, responses={201: ImpactReportOut}, tags=TAGS)
    def post(self, request: Request, version: str) -> Response:
        draft = _ruleset(version)
        body = validated(ImpactRequest, request.data)
        report = service_call(
            lambda: services.ruleset_impact(
                draft=draft,
                actor=acting_user(request),
                scope=body.scope,
                limit=settings.NETCARE_IMPACT_MAX_CASES,
            )
        )
        return Response(impact_out(report, request.user), status=status.HTTP_201_CREATED)


class LatestImpactView(VersionedView):
    permission_classes = [capability("view_impact")]

    @extend_schema(responses={200: ImpactReportOut}, tags=TAGS)
    def get(self, request: Request, version: str) -> Response:
        rule_set = _ruleset(version)
        report = (
            rule_set.impact_reports.select_related("draft", "baseline")
            .order_by("-generated_at", "-id")
            .first()
        )
        if report is None:
            raise NotFound(f"No impact report for {version} yet.")
        return Response(impact_out(report, request.user))


class ImpactAcknowledgeView(VersionedView):
    """The publisher has read the impact report (gate 4)."""

    permission_classes = [capability("publish_ruleset")]

    @extend_schema(request=None, responses={200: ImpactReportOut}, tags=TAGS)
    def post(self, request: Request, version: str, report_id: int) -> Response:
        rule_set = _ruleset(version)
        report = found(rule_set.impact_reports.filter(pk=report_id).first())
        report = service_call(
            lambda: services.ruleset_impact_acknowledge(report=report, actor=acting_user(request))
        )
        return Response(impact_out(report, request.user))


class DiffView(VersionedView):
    """What changed from version `a` to version `b`: semantic changes first, conditions in words."""

    permission_classes = [capability("view_rulesets")]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=TAGS)
    def get(self, request: Request, a: str, b: str) -> Response:
        return Response(selectors.versions_diff(_ruleset(a), _ruleset(b)).as_data())


class PublishView(VersionedView):
    """Publish a draft: 200 with the version, or 409 listing every gate and why it failed."""

    permission_classes = [capability("publish_ruleset")]

    @extend_schema(request=PublishRequest, responses={200: RuleSetOut, **GATES_RESPONSE}, tags=TAGS)
    def post(self, request: Request, version: str) -> Response:
        draft = _ruleset(version)
        body = validated(PublishRequest, request.data)
        published = service_call(
            lambda: services.ruleset_publish_draft(
                draft=draft,
                actor=acting_user(request),
                checksum=body.checksum,
                impact_report=body.impact_report,
            )
        )
        return Response(ruleset_out(published))


class RollbackView(VersionedView):
    """A new draft with the content of an earlier version, its golden run and impact report made."""

    permission_classes = [capability("publish_ruleset")]

    @extend_schema(request=RollbackRequest, responses={201: RuleSetOut}, tags=TAGS)
    def post(self, request: Request) -> Response:
        body = validated(RollbackRequest, request.data)
        draft = service_call(
            lambda: services.ruleset_rollback(
                to_version=body.to_version, actor=acting_user(request), reason=body.reason
            )
        )
        return Response(ruleset_out(draft), status=status.HTTP_201_CREATED)
