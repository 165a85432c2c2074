from django.urls import URLPattern, URLResolver, path, re_path, register_converter

from . import (
    cases,
    catalogue,
    cds,
    eligibility,
    exports,
    fhir,
    governance,
    meetings,
    room,
    rule_editing,
    tokens,
)
from .exceptions import api_not_found
from .versions import ApiVersion, deprecated


class IdConverter:
    """A database id: at most 18 digits, so a huge number is a 404, not a database overflow."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")

app_name = "api"


def patterns(version: ApiVersion) -> list[URLPattern | URLResolver]:
    """The API's URL map for one version: the same views, told which version they serve."""
    v = {"api_version": version}
    # New in v2 (v1 is frozen as published): the override analytics of the CDS Hooks cards.
    v2_only = [
        path("cds/feedback/summary/", cds.FeedbackSummaryView.as_view(**v), name="cds-feedback-summary"),
    ]
    return [
        *(v2_only if version == "v2" else []),
        path("auth/token/", tokens.TokenView.as_view(**v), name="token"),
        path("eligibility/", eligibility.EligibilityView.as_view(**v), name="eligibility"),
        path("eligibility/batch/", eligibility.EligibilityBatchView.as_view(**v), name="eligibility-batch"),
        path("modalities/", catalogue.ModalityListView.as_view(**v), name="modality-list"),
        path("modalities/<str:key>/", catalogue.ModalityDetailView.as_view(**v), name="modality-detail"),
        path("rulesets/current/", catalogue.CurrentRuleSetView.as_view(**v), name="ruleset-current"),
        path("cases/", cases.CaseListView.as_view(**v), name="case-list"),
        path("cases/<id:case_id>/", cases.CaseDetailView.as_view(**v), name="case-detail"),
        path("cases/<id:case_id>/archive/", cases.CaseArchiveView.as_view(**v), name="case-archive"),
        path("cases/<id:case_id>/summary/", cases.CaseSummaryView.as_view(**v), name="case-summary"),
        path(
            "cases/<id:case_id>/evaluations/", cases.EvaluationListView.as_view(**v), name="evaluation-list"
        ),
        path(
            "cases/<id:case_id>/evaluations/<id:evaluation_id>/",
            cases.EvaluationDetailView.as_view(**v),
            name="evaluation-detail",
        ),
        path(
            "cases/<id:case_id>/evaluations/<id:evaluation_id>/changes/",
            cases.EvaluationChangesView.as_view(**v),
            name="evaluation-changes",
        ),
        path(
            "cases/<id:case_id>/evaluations/<id:evaluation_id>/reviews/<str:modality>/",
            cases.ReviewView.as_view(**v),
            name="review",
        ),
        *(fhir_patterns(version) if version == "v2" else []),
        path("meetings/", meetings.MeetingListView.as_view(**v), name="meeting-list"),
        path("meetings/<id:meeting_id>/", meetings.MeetingDetailView.as_view(**v), name="meeting-detail"),
        path("meetings/<id:meeting_id>/cases/", meetings.MeetingCasesView.as_view(**v), name="meeting-cases"),
        path(
            "meetings/<id:meeting_id>/cases/<id:case_id>/",
            meetings.MeetingCaseView.as_view(**v),
            name="meeting-case",
        ),
        path(
            "meetings/<id:meeting_id>/cases/<id:case_id>/outcome/",
            meetings.OutcomeView.as_view(**v),
            name="outcome",
        ),
        path("meetings/<id:meeting_id>/order/", meetings.MeetingOrderView.as_view(**v), name="meeting-order"),
        path("meetings/<id:meeting_id>/worklist/", meetings.WorklistView.as_view(**v), name="worklist"),
        *(governance_patterns(v) if version == "v2" else []),
        *(room_patterns(v) if version == "v2" else []),
        *(
            [
                path(
                    "meetings/<id:meeting_id>/pack/",
                    meetings.MeetingPackView.as_view(**v),
                    name="meeting-pack",
                )
            ]
            if version == "v2"
            else []
        ),
        *(
            []
            if version == "v1"  # v1's published document has no exports
            else [
                path(
                    "meetings/<id:meeting_id>/cases/<id:case_id>/outcome/letter/",
                    exports.OutcomeLetterView.as_view(**v),
                    name="outcome-letter",
                ),
                path(
                    "meetings/<id:meeting_id>/outcomes/",
                    exports.OutcomeExportView.as_view(**v),
                    name="meeting-outcomes",
                ),
            ]
        ),
        # Anything else under the version's prefix answers in the API's error shape, whatever DEBUG says.
        re_path(r"^.*$", deprecated(api_not_found) if version == "v1" else api_not_found),
    ]


def room_patterns(v: dict[str, ApiVersion]) -> list[URLPattern | URLResolver]:
    """Facts not needed, attendance and quoracy: /api/v2/ only (v1 is frozen, ADR 0007)."""
    return [
        path("cases/<id:case_id>/not-needed/", room.NotNeededListView.as_view(**v), name="not-needed-list"),
        path("cases/<id:case_id>/not-needed/<str:fact>/", room.NotNeededView.as_view(**v), name="not-needed"),
        path("meetings/<id:meeting_id>/attendance/", room.AttendanceView.as_view(**v), name="attendance"),
        path(
            "meetings/<id:meeting_id>/attendance/<id:attendee_id>/",
            room.AttendeeView.as_view(**v),
            name="attendee",
        ),
    ]


def governance_patterns(v: dict[str, ApiVersion]) -> list[URLPattern | URLResolver]:
    """Rule governance: /api/v2/ only (v1 is frozen to its published document, ADR 0007)."""
    g = governance
    return [
        path("rulesets/", g.RuleSetListView.as_view(**v), name="ruleset-list"),
        path("rulesets/drafts/", g.DraftListView.as_view(**v), name="draft-list"),
        path("rulesets/drafts/clone/", g.DraftCloneView.as_view(**v), name="draft-clone"),
        path("rulesets/drafts/<str:version>/", g.DraftDetailView.as_view(**v), name="draft-detail"),
        path("rulesets/rollback/", g.RollbackView.as_view(**v), name="ruleset-rollback"),
        path("rulesets/<str:version>/", g.RuleSetDetailView.as_view(**v), name="ruleset-detail"),
        path("rulesets/<str:version>/reviews/", g.ReviewListView.as_view(**v), name="ruleset-reviews"),
        path("rulesets/<str:version>/golden-runs/", g.GoldenRunView.as_view(**v), name="golden-runs"),
        path(
            "rulesets/<str:version>/golden-runs/latest/",
            g.LatestGoldenRunView.as_view(**v),
            name="golden-run-latest",
        ),
        path("rulesets/<str:version>/golden-cases/", g.GoldenCaseView.as_view(**v), name="golden-cases"),
        path("rulesets/<str:version>/impact/", g.ImpactView.as_view(**v), name="impact"),
        path("rulesets/<str:version>/impact/latest/", g.LatestImpactView.as_view(**v), name="impact-latest"),
        path(
            "rulesets/<str:version>/impact/<id:report_id>/acknowledge/",
            g.ImpactAcknowledgeView.as_view(**v),
            name="impact-acknowledge",
        ),
        path("rulesets/<str:a>/diff/<str:b>/", g.DiffView.as_view(**v), name="ruleset-diff"),
        path("rulesets/<str:version>/publish/", g.PublishView.as_view(**v), name="ruleset-publish"),
        *_rule_editor(v),
    ]


def _rule_editor(v: dict[str, ApiVersion]) -> list[URLPattern | URLResolver]:
    """The rule editor: one rule or modality of a draft, and any rule set as YAML."""
    drafts = "rulesets/drafts/<str:version>/modalities/"
    return [
        path(f"{drafts}", rule_editing.DraftModalitiesView.as_view(**v), name="draft-modalities"),
        path(f"{drafts}<str:key>/", rule_editing.DraftModalityView.as_view(**v), name="draft-modality"),
        path(f"{drafts}<str:key>/rules/", rule_editing.DraftRulesView.as_view(**v), name="draft-rules"),
        path(
            f"{drafts}<str:key>/rules/<str:rule_id>/",
            rule_editing.DraftRuleView.as_view(**v),
            name="draft-rule",
        ),
        path("rulesets/<str:version>/yaml/", rule_editing.RuleSetYamlView.as_view(**v), name="ruleset-yaml"),
    ]


def fhir_patterns(version: ApiVersion) -> list[URLPattern | URLResolver]:
    """FHIR input: /api/v2/ only, because /api/v1/ is frozen to its published document (ADR 0009)."""
    v = {"api_version": version}
    return [
        path("fhir/profile/", fhir.FhirProfileView.as_view(**v), name="fhir-profile"),
        path("fhir/eligibility/", fhir.FhirEligibilityView.as_view(**v), name="fhir-eligibility"),
        path(
            "cases/<id:case_id>/fhir-import/", fhir.CaseFhirImportView.as_view(**v), name="case-fhir-import"
        ),
    ]


urlpatterns = patterns("v1")
