from django.urls import URLPattern, URLResolver, path, re_path, register_converter

from . import cases, catalogue, eligibility, exports, meetings, tokens
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
    return [
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


urlpatterns = patterns("v1")
