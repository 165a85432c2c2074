from django.urls import path

from . import cases as views_mdt
from . import check as views

urlpatterns = [
    path("", views.home, name="home"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/<slug:key>/", views.modality, name="modality"),
    path("check/", views.check, name="check"),
    path("check/what-if/", views.whatif, name="whatif"),
    # MDT workflow: cases, their evaluations and reviews, summaries
    path("cases/", views_mdt.case_list, name="cases"),
    path("cases/new/", views_mdt.case_create, name="case_create"),
    path("cases/<int:pk>/", views_mdt.case_detail, name="case_detail"),
    path("cases/<int:pk>/edit/", views_mdt.case_edit, name="case_edit"),
    path("cases/<int:pk>/evaluate/", views_mdt.case_evaluate, name="case_evaluate"),
    path("cases/<int:pk>/archive/", views_mdt.case_archive, name="case_archive"),
    path("cases/<int:pk>/changes/", views_mdt.evaluation_changes, name="evaluation_changes"),
    path("cases/<int:pk>/evaluations/<int:eid>/", views_mdt.evaluation_detail, name="evaluation_detail"),
    path(
        "cases/<int:pk>/evaluations/<int:eid>/review/<slug:modality>/",
        views_mdt.case_review,
        name="case_review",
    ),
    path("cases/<int:pk>/summary/", views_mdt.case_summary, name="case_summary"),
    path("cases/<int:pk>/summary.pdf", views_mdt.case_summary_pdf, name="case_summary_pdf"),
    # meetings: the worklist, outcomes and the meeting pack
    path("meetings/", views_mdt.meeting_list, name="meetings"),
    path("meetings/new/", views_mdt.meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/", views_mdt.meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/edit/", views_mdt.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/cases/", views_mdt.meeting_add_case, name="meeting_add_case"),
    path(
        "meetings/<int:pk>/cases/<int:case_pk>/remove/",
        views_mdt.meeting_remove_case,
        name="meeting_remove_case",
    ),
    path("meetings/<int:pk>/cases/<int:case_pk>/outcome/", views_mdt.meeting_outcome, name="meeting_outcome"),
    path("meetings/<int:pk>/order/", views_mdt.meeting_reorder, name="meeting_reorder"),
    path("meetings/<int:pk>/pack.pdf", views_mdt.meeting_pack, name="meeting_pack"),
]
