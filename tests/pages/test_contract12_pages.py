"""Contract 1.2 on the pages: every fact on the form (rarely needed groups folded, prior-treatment
rows), contradictions refused next to each fact involved, unit-slip warnings, the headline box
("Options to consider now", with guideline lines) and the treatment timeline, on the patient check,
what-if, case, evaluation and summary pages and in the PDFs."""

from __future__ import annotations

import html as htmlmod
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.pages.helpers import form_data, golden
from tests.pages.mdt import case_post, create_case, evaluated_case, field_error, from_tag, text
from tests.pages.test_check_page import base_of
from tests.pages.test_summaries import flat, pdf_text
from treatments import selectors, services
from treatments.models import Case
from treatments.rules.profile import ADVANCED_GROUPS, GROUPS, PatientProfile

pytestmark = pytest.mark.django_db

SI = golden("01_si_g2_progressive_nhs")["profile"]  # a small-intestine NET, progressive on an SSA
# Two treatments given, with details; the one stopped longest ago is entered second.
DETAILS = [
    {"modality": "everolimus", "best_response": "stable", "progressed_on_treatment": True,
     "months_since_last_dose": 2, "pfs_months": 11},
    {"modality": "ssta", "best_response": "partial", "progressed_on_treatment": True,
     "months_since_last_dose": 14.5, "pfs_months": 20},
]  # fmt: skip
WITH_DETAILS = {**SI, "prior_therapies": ["ssta", "everolimus"], "prior_therapy_details": DETAILS}
SLIP = {**SI, "bilirubin_umol_l": 1.2}  # bilirubin in mg/dL typed as µmol/L
CONTRADICTION = {"who_grade": "G1", "ki67_percent": 50, "primary_site": "pancreas"}


def post_check(client: Client, profile: dict[str, Any]) -> tuple[int, str]:
    response = client.post("/check/", form_data(profile))
    return response.status_code, response.content.decode()


def whatif_post(base_html: str, profile: dict[str, Any]) -> dict[str, Any]:
    base = re.search(r'<input type="hidden" name="base" value="([^"]*)"', base_html)
    assert base
    return {**form_data(profile), "base": htmlmod.unescape(base.group(1))}


def folds(html: str) -> dict[str, bool]:
    """Folded group key -> whether it is open."""
    return {
        key: bool(opened)
        for key, opened in re.findall(r'<details class="fact-fold" id="fold-([a-z_]+)"( open)?>', html)
    }


def headline_box(html: str, marker: str = 'id="headline"') -> str:
    start = html.rindex("<section", 0, html.index(marker))
    return html[start : html.index("</section>", start)]


# --- 1. the form: every fact, rarely needed groups folded, prior-treatment rows ---------------------


def test_rarely_needed_groups_are_folded_and_the_common_ones_open(clinician_client: Client) -> None:
    html = clinician_client.get("/check/").content.decode()

    assert folds(html) == {key: False for key, _ in GROUPS if key in ADVANCED_GROUPS}
    for key, label in GROUPS:
        if key not in ADVANCED_GROUPS:
            assert re.search(
                rf'<fieldset class="fact-group" id="group-{key}">\s*<legend>{label}</legend>', html
            )
    # A folded group still names itself to assistive technology, and says it is rarely needed.
    assert re.search(
        r'<fieldset class="fact-group fact-group-folded" id="group-safety">'
        r'\s*<legend class="visually-hidden">',
        html,
    )
    assert "rarely needed: open to enter" in html
    for name in ("dpd_status", "biliary_enteric_anastomosis", "lung_histology", "haemoglobin_g_l",
                 "prior_therapy_details_0_modality", "prior_therapy_details_2_pfs_months"):  # fmt: skip
        assert f'name="{name}"' in html, name


def test_a_folded_group_opens_when_one_of_its_facts_has_a_value_or_an_error(clinician_client: Client) -> None:
    # A detail row for a treatment not ticked in prior therapies: refused, with the DPD status kept.
    profile = {**CONTRADICTION, "who_grade": "G3", "dpd_status": "normal", "prior_therapies": ["ssta"],
               "prior_therapy_details": [{"modality": "everolimus"}]}  # fmt: skip

    status, html = post_check(clinician_client, profile)

    assert status == 400
    opened = folds(html)
    assert opened["safety"] and opened["prior_detail"]  # a value; an error
    assert not opened["syndrome"] and not opened["tumour_detail"]
    assert "1 entered" in from_tag(html, 'id="fold-safety"', 400)


def test_prior_treatment_rows_carry_response_progression_months_and_pfs_into_the_profile(
    clinician_client: Client,
) -> None:
    status, html = post_check(clinician_client, WITH_DETAILS)

    assert status == 200
    saved = PatientProfile.model_validate(base_of(html))
    assert saved == PatientProfile.model_validate(WITH_DETAILS)
    # The what-if form shows the rows again, as entered, and one blank row more than needed is not
    # required: at least three rows.
    assert re.search(
        r'<option value="everolimus" selected>', from_tag(html, 'name="prior_therapy_details_0_modality"')
    )
    assert 'name="prior_therapy_details_1_months_since_last_dose" value="14.5"' in html
    assert re.search(r'name="prior_therapy_details_0_progressed_on_treatment" value="yes"[^>]*checked', html)
    assert 'name="prior_therapy_details_2_modality"' in html


def test_a_detail_row_without_its_treatment_is_refused_on_that_row(clinician_client: Client) -> None:
    data = {**form_data(SI), "prior_therapy_details_1_pfs_months": "9"}

    response = clinician_client.post("/check/", data)

    html = response.content.decode()
    assert response.status_code == 400
    assert "Prior treatment 2: choose the treatment" in field_error(
        html, "id_prior_therapy_details_1_modality"
    )
    assert 'name="prior_therapy_details_1_pfs_months" value="9"' in html
    assert 'href="#id_prior_therapy_details_1_modality"' in html


def with_stored_details(case: Case) -> Case:
    """The case holding WITH_DETAILS as the database stores it (JSON)."""
    Case.objects.filter(pk=case.pk).update(profile=WITH_DETAILS)
    case.refresh_from_db()
    return case


def test_the_case_edit_form_shows_the_saved_prior_treatment_details(
    clinician_client: Client, clinician: User
) -> None:
    case = with_stored_details(create_case(clinician, "NET-2101"))

    form = clinician_client.get(f"/cases/{case.pk}/edit/").content.decode()

    assert folds(form)["prior_detail"]
    assert re.search(
        r'<option value="ssta" selected>', from_tag(form, 'name="prior_therapy_details_1_modality"')
    )
    assert 'name="prior_therapy_details_1_pfs_months" value="20"' in form
    assert re.search(r'name="prior_therapy_details_1_best_response"', form)
    assert 'name="prior_therapy_details_2_modality"' in form  # a blank row to add one more


def test_a_case_saved_with_prior_treatment_details_keeps_them(
    clinician_client: Client, clinician: User
) -> None:
    clinician_client.post("/cases/new/", case_post(WITH_DETAILS, hospital_reference="NET-2101"))

    case = Case.objects.get(hospital_reference="NET-2101")
    assert case.facts == PatientProfile.model_validate(WITH_DETAILS)


# --- 2. contradictions: refused next to each fact, in the summary, nothing lost ----------------------


def assert_contradiction_shown(html: str, prefix: str = "id_") -> None:
    for field in ("who_grade", "ki67_percent"):
        message = field_error(html, f"{prefix}{field}")
        assert "contradicts" in message and "WHO 2019" in message, message
    assert "Ki-67 index (50 %)" in field_error(html, f"{prefix}who_grade")
    assert "WHO grade (G1)" in field_error(html, f"{prefix}ki67_percent")
    assert f'href="#{prefix}who_grade_0"' in html and f'href="#{prefix}ki67_percent"' in html
    assert re.search(r'name="who_grade" value="G1"[^>]*checked', html)
    assert 'name="ki67_percent" value="50"' in html
    assert '<option value="pancreas" selected>' in html


def test_the_check_refuses_contradictory_facts_next_to_each_fact_keeping_what_was_typed(
    clinician_client: Client,
) -> None:
    status, html = post_check(clinician_client, CONTRADICTION)

    assert status == 400
    assert_contradiction_shown(html)
    assert 'aria-describedby="id_ki67_percent_hint id_ki67_percent_error"' in html
    assert "<title>Error: Check a patient · NETcare</title>" in html


def test_a_detail_of_a_treatment_not_given_is_refused_on_the_row_and_on_prior_therapies(
    clinician_client: Client,
) -> None:
    profile = {**SI, "prior_therapy_details": [{"modality": "everolimus", "pfs_months": 11}]}

    status, html = post_check(clinician_client, profile)

    assert status == 400
    assert "everolimus" in field_error(html, "id_prior_therapy_details_0_modality")
    assert "Prior therapies" in field_error(html, "id_prior_therapy_details_0_modality")
    assert "details are given for everolimus" in field_error(html, "id_prior_therapies").lower()
    assert 'name="prior_therapy_details_0_pfs_months" value="11"' in html


def test_case_create_and_edit_refuse_contradictions_by_each_field(
    clinician_client: Client, clinician: User
) -> None:
    response = clinician_client.post("/cases/new/", case_post(CONTRADICTION))

    assert response.status_code == 400 and not Case.objects.exists()
    assert_contradiction_shown(response.content.decode())

    case = create_case(clinician, "NET-2102", {"primary_site": "pancreas"})
    response = clinician_client.post(
        f"/cases/{case.pk}/edit/", case_post(CONTRADICTION, hospital_reference="NET-2102", version="1")
    )
    assert response.status_code == 400
    assert_contradiction_shown(response.content.decode())
    case.refresh_from_db()
    assert case.version == 1 and "who_grade" not in case.profile


def test_what_if_refuses_contradictions_by_each_field_with_and_without_htmx(clinician_client: Client) -> None:
    _, result = post_check(clinician_client, SI)
    data = whatif_post(result, {**SI, **CONTRADICTION})

    plain = clinician_client.post("/check/what-if/", data)
    partial = clinician_client.post("/check/what-if/", data, HTTP_HX_REQUEST="true")

    assert plain.status_code == 400
    assert_contradiction_shown(plain.content.decode())
    assert partial.status_code == 200 and "<html" not in partial.content.decode()
    assert_contradiction_shown(partial.content.decode())


# --- 3. warnings ------------------------------------------------------------------------------------


def warnings_shown(html: str) -> str:
    match = re.search(r'<section class="fact-warnings".*?</section>', html, re.S)
    assert match, "no warnings shown"
    return text(match.group(0))


def test_a_likely_unit_slip_is_shown_on_top_of_the_result_in_words_naming_the_fact(
    clinician_client: Client,
) -> None:
    status, html = post_check(clinician_client, SLIP)

    assert status == 200
    shown = warnings_shown(html)
    assert "Warning: Bilirubin." in shown and "mg/dL" in shown
    assert html.index('class="fact-warnings"') < html.index('class="headline"') < html.index('id="status-')
    _, clean = post_check(clinician_client, SI)
    assert 'class="fact-warnings"' not in clean


def test_the_what_if_partial_shows_the_warnings_of_the_new_facts(clinician_client: Client) -> None:
    _, result = post_check(clinician_client, SI)

    response = clinician_client.post(
        "/check/what-if/", whatif_post(result, {**SI, "ki67_percent": 0.15}), HTTP_HX_REQUEST="true"
    )

    assert "Warning: Ki-67 index and WHO grade." in warnings_shown(response.content.decode())


def test_the_case_evaluation_and_summary_pages_and_pdfs_show_the_warnings(
    clinician_client: Client, clinician: User
) -> None:
    case = create_case(clinician, "NET-2103", SLIP)
    services.case_evaluate(actor=clinician, case=case)
    evaluation = selectors.latest_evaluation(case)
    assert evaluation is not None

    for url in (
        f"/cases/{case.pk}/",
        f"/cases/{case.pk}/evaluations/{evaluation.pk}/",
        f"/cases/{case.pk}/summary/",
    ):
        assert "Warning: Bilirubin." in warnings_shown(clinician_client.get(url).content.decode()), url
    _, pages = pdf_text(clinician_client.get(f"/cases/{case.pk}/summary.pdf").content)
    assert "Warning: Bilirubin." in flat(pages[0]) and "mg/dL" in flat(pages[0])
    meeting = services.meeting_create(actor=clinician, data=_meeting())
    services.meeting_add_case(actor=clinician, meeting=meeting, case=case)
    _, pack = pdf_text(clinician_client.get(f"/meetings/{meeting.pk}/pack.pdf").content)
    assert "Warning: Bilirubin." in flat(" ".join(pack))


def _meeting() -> Any:
    import datetime as dt

    from django.utils import timezone

    from treatments.inputs import MeetingInput

    return MeetingInput(title="NET MDT", date=timezone.localdate() + dt.timedelta(days=7))


# --- 4. the headline box ------------------------------------------------------------------------------


def expected_now(profile: dict[str, Any]) -> list[Any]:
    result = selectors.eligibility(PatientProfile.model_validate(profile))
    return [v for v in result.verdicts if v.status in ("candidate", "trial_only")]


def test_the_headline_box_lists_the_options_to_consider_now_in_the_engines_order_with_their_lines(
    clinician_client: Client,
) -> None:
    _, html = post_check(clinician_client, SI)
    box = headline_box(html)
    now = expected_now(SI)
    assert now, "the vignette has options to consider"
    assert any(v.guideline_line for v in now), "the vignette has a guideline line"

    assert re.findall(r'<li class="headline-item headline-[a-z_]+" data-modality="([a-z0-9_]+)">', box) == [
        v.modality.key for v in now
    ]
    for verdict in now:
        item = text(from_tag(box, f'data-modality="{verdict.modality.key}"', 1200).split("</li>")[0])
        if verdict.guideline_line:
            assert f"Guideline line: {verdict.guideline_line.label}" in item
            assert f"(source: {verdict.guideline_line.source})" in item
        else:
            assert "No guideline line" in item
    assert "A display aid, not a recommendation." in text(box)
    assert html.index('id="headline"') < html.index('id="status-candidate"')


def test_the_other_options_are_folded_by_status_under_the_headline(clinician_client: Client) -> None:
    _, html = post_check(clinician_client, SI)
    box = headline_box(html)
    result = selectors.eligibility(PatientProfile.model_validate(SI))

    folded = re.findall(r'<details class="headline-rest headline-rest-([a-z_]+)">', box)

    statuses = [s for s in ("needs_data", "not_suitable", "not_indicated") if s in result.statuses().values()]
    assert folded == statuses
    for verdict in result.verdicts:
        if verdict.status in statuses:
            assert f'href="#option-{verdict.modality.key}"' in box


def test_the_case_evaluation_and_summary_pages_show_the_headline_and_the_pdf_lists_it_first(
    clinician_client: Client, clinician: User
) -> None:
    case = evaluated_case(clinician, "NET-2104")
    evaluation = selectors.latest_evaluation(case)
    assert evaluation is not None
    first = expected_now(SI)[0]

    for url in (f"/cases/{case.pk}/", f"/cases/{case.pk}/evaluations/{evaluation.pk}/"):
        html = clinician_client.get(url).content.decode()
        assert first.modality.name in text(headline_box(html)), url
    summary = clinician_client.get(f"/cases/{case.pk}/summary/").content.decode()
    box = headline_box(summary, f'id="summary-headline-{case.pk}"')
    # The case sheet prints as it shows: the other options are named by status, nothing folded.
    assert first.modality.name in text(box) and "<details" not in box
    _, pages = pdf_text(clinician_client.get(f"/cases/{case.pk}/summary.pdf?appendix=1").content)
    page = flat(" ".join(pages))
    assert "Options to consider now" in page and "A display aid, not a recommendation." in page
    assert page.index("Options to consider now") < page.index("Appendix: every option")


# --- 5. the treatment timeline ------------------------------------------------------------------------


def test_the_case_page_and_summaries_show_prior_treatments_as_a_timeline_most_recent_last(
    clinician_client: Client, clinician: User
) -> None:
    case = with_stored_details(create_case(clinician, "NET-2105"))
    names = selectors.modality_names()

    for url in (f"/cases/{case.pk}/", f"/cases/{case.pk}/summary/"):
        html = clinician_client.get(url).content.decode()
        section = re.search(r'<section class="treatment-timeline".*?</section>', html, re.S)
        assert section, url
        timeline = text(section.group(0))
        assert "most recent last" in timeline
        assert timeline.index(names["ssta"]) < timeline.index(names["everolimus"]), url
        assert "Last dose 14.5 months ago" in timeline and "Best response Partial" in timeline
        assert "Progression-free survival 20 months" in timeline
        assert "2 treatments (see the treatment timeline)" in text(html)
    _, pages = pdf_text(clinician_client.get(f"/cases/{case.pk}/summary.pdf").content)
    document = flat(" ".join(pages))
    assert "Treatment timeline" in document
    assert document.index("Last dose 14.5 months ago") < document.index("Last dose 2 months ago")


def test_an_evaluated_case_with_details_shows_its_timeline(clinician_client: Client, clinician: User) -> None:
    case = with_stored_details(create_case(clinician, "NET-2106"))
    services.case_evaluate(actor=clinician, case=case)


def test_an_evaluation_stored_before_1_2_says_so_instead_of_claiming_no_guideline_line() -> None:
    from django.template.loader import render_to_string

    from tests.rules.test_serialize import stored_1_1_1
    from treatments.rules.serialize import result_from_dict

    answer, profile = stored_1_1_1()
    result = result_from_dict(answer, profile)

    html = render_to_string("treatments/includes/headline.html", {"result": result})

    assert "No guideline line" not in html and "Guideline line:" not in html
    assert "made before guideline lines and warnings were recorded (contract 1.1)" in text(html)
    assert render_to_string("treatments/includes/warnings.html", {"warnings": result.warnings}).strip() == ""
