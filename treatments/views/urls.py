"""The pages' URL map (netcare/urls.py includes it)."""

from django.urls import path

from . import cases, catalogue, check, exports, meetings, summaries

urlpatterns = [
    path("", catalogue.home, name="home"),
    path("catalogue/", catalogue.catalogue, name="catalogue"),
    path("catalogue/<slug:key>/", catalogue.modality, name="modality"),
    path("check/", check.check, name="check"),
    path("check/what-if/", check.whatif, name="whatif"),
    # MDT workflow: cases, their evaluations and reviews, summaries
    path("cases/", cases.case_list, name="cases"),
    path("cases/new/", cases.case_create, name="case_create"),
    path("cases/<int:pk>/", cases.case_detail, name="case_detail"),
    path("cases/<int:pk>/edit/", cases.case_edit, name="case_edit"),
    path("cases/<int:pk>/evaluate/", cases.case_evaluate, name="case_evaluate"),
    path("cases/<int:pk>/archive/", cases.case_archive, name="case_archive"),
    path("cases/<int:pk>/changes/", cases.evaluation_changes, name="evaluation_changes"),
    path("cases/<int:pk>/evaluations/<int:eid>/", cases.evaluation_detail, name="evaluation_detail"),
    path(
        "cases/<int:pk>/evaluations/<int:eid>/review/<slug:modality>/",
        cases.case_review,
        name="case_review",
    ),
    path("cases/<int:pk>/not-needed/", cases.case_waive, name="case_waive"),
    path("cases/<int:pk>/not-needed/<slug:fact>/remove/", cases.case_unwaive, name="case_unwaive"),
    path("cases/<int:pk>/summary/", summaries.case_summary, name="case_summary"),
    path("cases/<int:pk>/summary.pdf", summaries.case_summary_pdf, name="case_summary_pdf"),
    # meetings: the worklist, outcomes and the meeting pack
    path("meetings/", meetings.meeting_list, name="meetings"),
    path("meetings/new/", meetings.meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/", meetings.meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/edit/", meetings.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/cases/", meetings.meeting_add_case, name="meeting_add_case"),
    path(
        "meetings/<int:pk>/cases/<int:case_pk>/remove/",
        meetings.meeting_remove_case,
        name="meeting_remove_case",
    ),
    path("meetings/<int:pk>/cases/<int:case_pk>/outcome/", meetings.meeting_outcome, name="meeting_outcome"),
    path("meetings/<int:pk>/order/", meetings.meeting_reorder, name="meeting_reorder"),
    path("meetings/<int:pk>/cases/<int:case_pk>/letter.pdf", exports.outcome_letter, name="outcome_letter"),
    path("meetings/<int:pk>/chase/", exports.chase_list, name="meeting_chase"),
    path("meetings/<int:pk>/present/<int:position>/", meetings.meeting_present, name="meeting_present"),
    path("meetings/<int:pk>/attendance/", meetings.meeting_attendee_add, name="meeting_attendee_add"),
    path(
        "meetings/<int:pk>/attendance/<int:attendee_pk>/remove/",
        meetings.meeting_attendee_remove,
        name="meeting_attendee_remove",
    ),
    path("meetings/<int:pk>/chase.csv", exports.chase_csv, name="meeting_chase_csv"),
    path("meetings/<int:pk>/outcomes.csv", exports.outcomes_csv, name="meeting_outcomes_csv"),
    path("meetings/<int:pk>/outcomes.fhir.json", exports.outcomes_fhir, name="meeting_outcomes_fhir"),
    path("meetings/<int:pk>/pack.pdf", summaries.meeting_pack, name="meeting_pack"),
    path("meetings/<int:pk>/pack/", summaries.meeting_pack_state, name="meeting_pack_state"),
    path("meetings/<int:pk>/pack/prepare/", summaries.meeting_pack_prepare, name="meeting_pack_prepare"),
    path(
        "meetings/<int:pk>/pack/<int:pack_pk>.pdf",
        summaries.meeting_pack_download,
        name="meeting_pack_download",
    ),
]
