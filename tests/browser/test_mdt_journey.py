"""The MDT journey in a real browser: the coordinator creates a meeting and a case through the form,
puts two cases on the list and evaluates them; a clinician reviews an option and records the outcome;
the coordinator downloads the meeting pack. axe-core checks the case, meeting and summary pages for
serious or critical accessibility problems, and no page may log a console error."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from pypdf import PdfReader

from tests.browser.conftest import TABLET, audit
from tests.browser.test_clinician_journey import fill_profile, log_in
from tests.conftest import KB_VERSION
from tests.pages.helpers import golden
from tests.pages.mdt import create_case
from treatments.models import Case, Evaluation, Meeting, Outcome, Review

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team(published: object, coordinator: User, clinician: User) -> dict[str, User]:
    """The knowledge base is published; Colin Reyes (coordinator) and Dr Hughes (clinician) have
    accounts; one case (NET-4002, a bronchial NET) is already in the system."""
    create_case(
        coordinator,
        "NET-4002",
        golden("02_lung_progressive_nhs")["profile"],
        question="Progressive bronchial NET: options on NHS funding?",
    )
    return {"coordinator": coordinator, "clinician": clinician}


def test_coordinator_and_clinician_prepare_and_hold_the_mdt(new_page: Any, team: dict[str, User]) -> None:
    meeting_date = timezone.localdate() + dt.timedelta(days=7)

    # --- the coordinator creates the meeting --------------------------------------------------
    coordinator = new_page()
    log_in(coordinator, "/meetings/", username="mdt_reyes")
    coordinator.get_by_label("Title").fill("NET MDT")
    coordinator.get_by_label("Date", exact=True).fill(meeting_date.isoformat())
    coordinator.get_by_role("button", name="Create meeting").click()
    coordinator.wait_for_selector("h1:has-text('NET MDT')")
    meeting = Meeting.objects.get()
    meeting_url = f"/meetings/{meeting.pk}/"
    assert coordinator.url.endswith(meeting_url)

    # --- ... creates a case through the form (Krenning score unknown) ---------------------------
    coordinator.get_by_role("link", name="Cases", exact=True).click()
    coordinator.get_by_role("link", name="New case", exact=True).click()
    coordinator.get_by_label("Hospital reference").fill("NET-4001")
    coordinator.get_by_label("Referring clinician").fill("Dr A Khan, oncology")
    coordinator.get_by_label("Question for the MDT").fill(
        "Progressive pancreatic NET after everolimus: PRRT?"
    )
    fill_profile(coordinator, golden("34_missing_krenning_pnet")["profile"])
    coordinator.get_by_role("button", name="Create case").click()
    coordinator.wait_for_selector("h1:has-text('Case NET-4001')")
    assert "NET-4001 created." in coordinator.locator(".messages").inner_text()
    assert "Not evaluated yet" in coordinator.locator("#options").inner_text()
    audit(coordinator, "case page, not evaluated")

    # --- ... adds both cases to the meeting and evaluates them from the worklist ---------------
    coordinator.goto(meeting_url)
    for reference in ("NET-4001", "NET-4002"):
        case = Case.objects.get(hospital_reference=reference)
        coordinator.get_by_label("Case to add").select_option(str(case.pk))
        coordinator.get_by_role("button", name="Add to the list").click()
        coordinator.wait_for_selector(f"#case-{case.pk}")
    for reference in ("NET-4001", "NET-4002"):
        coordinator.get_by_role("button", name=f"Evaluate now case {reference}").click()
        coordinator.wait_for_url(f"**{meeting_url}**")
    assert Evaluation.objects.count() == 2
    worklist = coordinator.locator("#worklist")
    assert re.findall(r"Case (NET-\d+)", worklist.inner_text()) == ["NET-4001", "NET-4002"]
    first_row = coordinator.locator(f"#case-{Case.objects.get(hospital_reference='NET-4001').pk}")
    assert "Data to obtain (1)" in first_row.locator(".readiness").inner_text()
    assert "Krenning score would decide" in first_row.inner_text()
    audit(coordinator, "meeting worklist")

    # --- the clinician reviews PRRT on the case page ------------------------------------------
    clinician = new_page()
    case = Case.objects.get(hospital_reference="NET-4001")
    log_in(clinician, f"/cases/{case.pk}/")
    assert clinician.locator("#status-needs_data article#option-prrt_lu177").count() == 1
    assert f"version {KB_VERSION}" in clinician.locator("#options .result-meta").inner_text()
    audit(clinician, "case page, evaluated")
    card = clinician.locator("article#option-prrt_lu177")
    card.locator("details.review-details > summary").click()
    card.get_by_label("Defer").check()
    card.get_by_label("Reason", exact=True).select_option("awaiting_data")
    card.get_by_label("Note").fill("Ask nuclear medicine for the Krenning score")
    card.get_by_role("button", name=re.compile("^Save review")).click()
    clinician.wait_for_selector("#option-prrt_lu177 .review-current")
    review_text = clinician.locator("#option-prrt_lu177 .review-current").inner_text()
    assert "Defer" in review_text and "Clara Hughes" in review_text
    assert Review.objects.get().decision == "defer"
    audit(clinician, "case page with a review")

    # --- ... and records the MDT's decision on the meeting page ---------------------------------
    clinician.goto(meeting_url)
    row = clinician.locator(f"#case-{case.pk}")
    row.locator("details.outcome-details > summary").click()
    row.locator(f'input[name="case{case.pk}-chosen_modalities"][value="capecitabine_temozolomide"]').check()
    row.get_by_label("Plan", exact=True).fill("CAPTEM; repeat DOTATATE PET with a Krenning score")
    row.locator("form.outcome-form button[type=submit]").click()
    clinician.wait_for_selector(f"#case-{case.pk} .outcome-recorded")
    assert "Recorded by Clara Hughes" in clinician.locator(f"#case-{case.pk} .outcome-recorded").inner_text()
    assert (
        "1 of 1 decision chose only candidate or trial-only options (100 %)"
        in clinician.locator(".concordance").inner_text()
    )
    assert Outcome.objects.get().concordant is True
    audit(clinician, "meeting with an outcome")

    # --- the coordinator reads the summary and downloads the meeting pack ----------------------
    coordinator.goto(f"/cases/{case.pk}/summary/")
    summary = coordinator.locator("article.summary")
    assert (
        "Case NET-4001" in summary.inner_text()
        and "Defer" in summary.locator(".summary-reviews").inner_text()
    )
    assert "CAPTEM; repeat DOTATATE PET" in summary.locator(".summary-outcome").inner_text()
    audit(coordinator, "case summary")

    coordinator.goto(meeting_url)
    with coordinator.expect_download(timeout=60_000) as download_info:
        coordinator.get_by_role("link", name="Download meeting pack (PDF)").click()
    download = download_info.value
    assert download.suggested_filename.startswith(
        "netcare-mdt-pack-"
    ) and download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as handle:
        content = handle.read()
    assert content.startswith(b"%PDF-")
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]
    assert "NET-4001" in pages[0] and "NET-4002" in pages[0]
    assert sum(1 for page in pages if re.search(r"^Case NET-400[12]$", page, re.M)) == 2


def test_the_mdt_pages_fit_a_tablet_without_sideways_scrolling(new_page: Any, team: dict[str, User]) -> None:
    coordinator = team["coordinator"]
    case = Case.objects.get(hospital_reference="NET-4002")
    from treatments import services
    from treatments.inputs import MeetingInput

    services.case_evaluate(actor=coordinator, case=case)
    meeting = services.meeting_create(
        actor=coordinator,
        data=MeetingInput(title="NET MDT", date=timezone.localdate() + dt.timedelta(days=2)),
    )
    services.meeting_add_case(actor=coordinator, meeting=meeting, case=case)
    page = new_page(viewport=TABLET)
    log_in(page, "/cases/")

    for url in (
        "/cases/",
        f"/cases/{case.pk}/",
        f"/cases/{case.pk}/edit/",
        f"/meetings/{meeting.pk}/",
        f"/cases/{case.pk}/summary/",
        "/meetings/",
    ):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), url
    audit(page, "case summary on a tablet")


def test_the_case_form_works_without_javascript(new_page: Any, team: dict[str, User]) -> None:
    page = new_page(javascript=False)
    log_in(page, "/cases/new/", username="mdt_reyes")
    page.get_by_label("Hospital reference").fill("NET-4003")
    page.get_by_label("Referring clinician").fill("Dr A Khan")
    page.get_by_label("Question for the MDT").fill("First-line treatment?")
    page.get_by_role("button", name="Create case").click()
    page.wait_for_selector("h1:has-text('Case NET-4003')")

    page.get_by_role("button", name="Evaluate now").click()
    page.wait_for_selector("#status-candidate")
    assert Evaluation.objects.filter(case__hospital_reference="NET-4003").count() == 1
