"""The case sheet, the patient options sheet and the pack box in a real browser (Debian's chromium):
each page is clean under axe-core, the appendix opens and closes, the PDFs download, and the pack box
offers the appendix and the prepared pack."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from pypdf import PdfReader

from tests.browser.conftest import audit
from tests.browser.test_clinician_journey import log_in
from tests.pages.mdt import create_meeting, evaluated_case
from treatments import services
from treatments.models import Case, Meeting

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def meeting(published: object, clinician: User, coordinator: User) -> Meeting:
    meeting = create_meeting(coordinator, "NET MDT")
    for reference, vignette in (
        ("NET-9001", "36_missing_bloods_pnet"),
        ("NET-9002", "02_lung_progressive_nhs"),
    ):
        services.meeting_add_case(
            actor=coordinator, meeting=meeting, case=evaluated_case(clinician, reference, vignette)
        )
    return meeting


def test_the_case_sheet_opens_with_its_appendix_on_request_and_downloads_as_a_pdf(
    new_page: Any, meeting: Meeting
) -> None:
    case = Case.objects.get(hospital_reference="NET-9001")
    page = new_page()
    log_in(page, f"/cases/{case.pk}/summary/", username="mdt_reyes")

    sheet = page.locator("article.summary")
    assert "Case NET-9001" in sheet.inner_text()
    assert sheet.locator(".headline").is_visible() and sheet.locator(".summary-appendix").count() == 0
    audit(page, "case sheet")

    page.get_by_role("link", name="Show the rules behind every option (appendix)").click()
    page.wait_for_selector(".summary-appendix")
    assert "Appendix: every option" in sheet.inner_text()
    audit(page, "case sheet with its appendix")
    page.get_by_role("link", name="Hide the appendix").click()
    page.wait_for_url(f"**/cases/{case.pk}/summary/")

    with page.expect_download(timeout=60_000) as download_info:
        page.get_by_role("link", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename == "netcare-case-sheet-NET-9001.pdf"
    with open(download.path(), "rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    assert 1 <= len(reader.pages) <= 2 and "Case NET-9001" in reader.pages[0].extract_text()


def test_the_patient_options_sheet_is_chosen_shown_and_clean(new_page: Any, meeting: Meeting) -> None:
    case = Case.objects.get(hospital_reference="NET-9001")
    page = new_page()
    log_in(page, f"/cases/{case.pk}/summary/", username="dr_hughes")

    page.get_by_role("link", name="Options sheet for the patient").click()
    page.wait_for_selector("article.patient-sheet")
    audit(page, "patient options sheet")

    page.get_by_label("Active surveillance (watch and wait)").check()
    page.get_by_role("button", name="Show these options").click()
    page.wait_for_selector("#patient-option-active_surveillance")
    assert "Keeping a close eye on the tumour" in page.locator("article.patient-sheet").inner_text()

    for box in page.locator(".patient-chooser input[type=checkbox]").all():
        box.uncheck()
    page.get_by_role("button", name="Show these options").click()
    page.wait_for_selector(".error-summary")
    assert "Choose at least one option to explain" in page.locator(".error-summary").inner_text()
    audit(page, "patient options sheet with an error")


def test_the_pack_box_offers_the_appendix_and_the_prepared_pack(new_page: Any, meeting: Meeting) -> None:
    page = new_page()
    log_in(page, f"/meetings/{meeting.pk}/", username="mdt_reyes")

    page.get_by_label("With the appendix (the rules behind every option)").check()
    page.get_by_role("button", name="Prepare pack").click()
    link = page.get_by_role("link", name="Download the prepared pack (PDF)")
    link.wait_for(timeout=60_000)
    assert "with the appendix" in page.locator("#pack").inner_text()
    audit(page, "meeting page with a prepared pack")

    with page.expect_download(timeout=60_000) as download_info:
        link.click()
    with open(download_info.value.path(), "rb") as handle:
        pages = [p.extract_text() for p in PdfReader(io.BytesIO(handle.read())).pages]
    assert "NET-9001" in pages[0] and "NET-9002" in pages[0]
    assert sum("Appendix: every option" in text for text in pages) == 2
