"""The pages' URL map (netcare/urls.py includes it)."""

from django.urls import path

from . import cases, catalogue, cds, check, exports, fhir, governance, meetings, rule_editor, summaries

urlpatterns = [
    path("", catalogue.home, name="home"),
    path("catalogue/", catalogue.catalogue, name="catalogue"),
    path("catalogue/<slug:key>/", catalogue.modality, name="modality"),
    path("check/", check.check, name="check"),
    # the rule editor: a draft rule set's rules and modalities (docs/rule-governance.md)
    path("rulesets/<str:version>/edit/", rule_editor.ruleset_editor, name="ruleset_editor"),
    path("rulesets/<str:version>/export.yaml", rule_editor.ruleset_export, name="ruleset_export"),
    path(
        "rulesets/<str:version>/condition-preview/", rule_editor.condition_preview, name="condition_preview"
    ),
    path("rulesets/<str:version>/modalities/new/", rule_editor.modality_add, name="modality_add"),
    path("rulesets/<str:version>/modalities/<slug:key>/", rule_editor.modality_edit, name="modality_edit"),
    path("rulesets/<str:version>/modalities/<slug:key>/rules/new/", rule_editor.rule_add, name="rule_add"),
    path(
        "rulesets/<str:version>/modalities/<slug:key>/rules/<str:rule_id>/",
        rule_editor.rule_edit,
        name="rule_edit",
    ),
    path("check/what-if/", check.whatif, name="whatif"),
    path("check/save/", check.check_save, name="check_save"),
    # MDT workflow: cases, their evaluations and reviews, summaries
    path("cases/", cases.case_list, name="cases"),
    path("cases/new/", cases.case_create, name="case_create"),
    path("cases/new/fhir/", fhir.case_fhir_new, name="case_fhir_new"),
    path("cases/<int:pk>/fhir-import/", fhir.case_fhir_import, name="case_fhir_import"),
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
    path(
        "cases/<int:pk>/ehr-feedback/<int:fid>/review/",
        cases.case_ehr_feedback_review,
        name="case_ehr_feedback_review",
    ),
    # The CDS cards' link into NETcare (docs/cds-hooks.md): the linked case, or the check it made.
    path("cds/evaluations/<uuid:pk>/", cds.hook_evaluation, name="cds_evaluation"),
    path("cases/<int:pk>/not-needed/", cases.case_waive, name="case_waive"),
    path("cases/<int:pk>/not-needed/<slug:fact>/remove/", cases.case_unwaive, name="case_unwaive"),
    path("cases/<int:pk>/summary/", summaries.case_summary, name="case_summary"),
    path("cases/<int:pk>/summary.pdf", summaries.case_summary_pdf, name="case_summary_pdf"),
    # rule governance: the rule sets, a draft's tabs and its workflow steps
    path("rulesets/", governance.ruleset_list, name="rulesets"),
    path("rulesets/new/", governance.ruleset_draft_new, name="ruleset_draft_new"),
    path("rulesets/golden-case/", governance.ruleset_golden_case_new, name="ruleset_golden_case_new"),
    path("rulesets/<str:version>/", governance.ruleset_detail, name="ruleset_detail"),
    path("rulesets/<str:version>/do/<slug:action>/", governance.ruleset_action, name="ruleset_action"),
    path("rulesets/<str:version>/<slug:tab>/", governance.ruleset_detail, name="ruleset_tab"),
    path("cases/<int:pk>/patient-sheet/", summaries.patient_sheet, name="patient_sheet"),
    path("cases/<int:pk>/patient-sheet.pdf", summaries.patient_sheet_pdf, name="patient_sheet_pdf"),
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
