"""The MDT case sheet (printable HTML and PDF) and the meeting pack (PDF): what they say, that they
are A4 PDFs with page numbers and system fonts, sent as downloads, made without any fetch over the
network, and that every export is in the audit trail. (Page counts, the appendix and the cache:
tests/pages/test_case_sheets.py.)"""

from __future__ import annotations

import io
import re
from typing import Any, cast

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pypdf import PdfReader

from tests.conftest import KB_VERSION
from tests.pages.helpers import golden
from tests.pages.mdt import (
    actions,
    create_case,
    create_meeting,
    decided_at_a_meeting,
    evaluated_case,
    from_tag,
    text,
)
from treatments import pdf, selectors, services
from treatments.inputs import CaseChange, ReviewInput
from treatments.models import AuditEvent, Case, Meeting
from treatments.rules.explain import STATUS_LABELS
from treatments.rules.profile import PatientProfile

pytestmark = pytest.mark.django_db
A4 = (595.28, 841.89)  # points


def pdf_text(content: bytes) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(io.BytesIO(content))
    return reader, [page.extract_text() for page in reader.pages]


def flat(page_text: str) -> str:
    return " ".join(page_text.split())


@pytest.fixture
def reviewed_case(clinician: User, published: object) -> Case:
    """NET-3001: a pancreatic NET with the bloods missing, evaluated, PRRT deferred by Dr Hughes."""
    case = evaluated_case(clinician, "NET-3001", "36_missing_bloods_pnet")
    services.option_review(
        actor=clinician,
        evaluation=selectors.latest_evaluation(case),  # type: ignore[arg-type]
        modality="prrt_lu177",
        data=ReviewInput(decision="defer", reason_code="awaiting_data", note="Needs renal function first"),
    )
    return case


# --- the HTML summary ---------------------------------------------------------------------------


def test_the_html_sheet_holds_everything_the_mdt_needs(clinician_client: Client, reviewed_case: Case) -> None:
    response = clinician_client.get(f"/cases/{reviewed_case.pk}/summary/")

    html = response.content.decode()
    page = text(html)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "Case NET-3001" in page
    assert "Question for the MDT Progressive disease on lanreotide: which treatment next?" in page
    assert "Key facts (" in page and "known, as evaluated)" in page
    assert re.search(r"Not known \(\d+\): .*eGFR", page), "unknown facts are named, in one line"
    assert f"Rule set version {KB_VERSION}" in page
    assert "Evaluated " in page and "by Clara Hughes" in page
    headline = text(from_tag(html, 'class="headline"', 20000))
    assert "Options to consider now" in headline and "Everolimus" in headline
    assert "Needs data" in headline, "the other options are named by status"
    assert "Data to obtain (3)" in page and "eGFR (mL/min/1.73 m²): would decide" in page
    assert "summary-status" not in html, "the rules behind every option are the appendix, not asked for"
    reviews = text(from_tag(html, 'class="summary-section summary-reviews"', 3000))
    assert (
        "Reviews (1)" in reviews
        and "Defer : awaiting results or data. “Needs renal function first”" in reviews
    )
    outcome = text(from_tag(html, 'class="summary-section summary-outcome"', 3000))
    assert "Not recorded yet: fill in at the meeting." in outcome
    assert html.count('<span class="line"></span>') == 6
    assert "Decision support only." in page and "support, and not replace, the judgement" in page


def test_the_appendix_lists_every_option_with_its_deciding_rules_and_sources(
    clinician_client: Client, reviewed_case: Case
) -> None:
    html = clinician_client.get(f"/cases/{reviewed_case.pk}/summary/?appendix=1").content.decode()

    page = text(html)
    assert "Appendix: every option and the rules that decided it" in page
    for status in ("candidate", "needs_data", "not_suitable", "not_indicated"):
        assert f'<div class="summary-status status-block-{status}">' in html, status
    assert "Trial only 0" in page  # empty groups are counted, not drawn
    options = from_tag(html, 'class="summary-status status-block-needs_data"', 20000)
    assert "Peptide-receptor radionuclide therapy" in options
    assert "Source:" in options and "Evidence:" in options
    assert f"/cases/{reviewed_case.pk}/summary.pdf?appendix=1" in html


def test_viewing_the_html_summary_is_recorded_as_an_export(
    clinician_client: Client, clinician: User, reviewed_case: Case
) -> None:
    clinician_client.get(f"/cases/{reviewed_case.pk}/summary/")

    event = AuditEvent.objects.get(action="summary.export")
    assert (event.object_type, event.object_id, event.payload) == (
        "case",
        str(reviewed_case.pk),
        {"format": "html"},
    )
    assert event.actor == clinician


def test_the_summary_shows_the_recorded_outcome_instead_of_blank_lines(
    clinician_client: Client, clinician: User, reviewed_case: Case
) -> None:
    decided_at_a_meeting(clinician, reviewed_case, ["everolimus"], "Everolimus 10 mg daily; CT in 3 months")

    html = clinician_client.get(f"/cases/{reviewed_case.pk}/summary/").content.decode()

    outcome = text(from_tag(html, 'class="summary-section summary-outcome"', 4000))
    assert "Options chosen Everolimus (mTOR inhibitor) Candidate" in outcome
    assert "Plan Everolimus 10 mg daily; CT in 3 months" in outcome
    assert "concordant: every option chosen was a candidate" in outcome
    assert "Recorded Clara Hughes" in outcome
    assert '<span class="line"></span>' not in html


def test_a_case_without_an_evaluation_gets_a_summary_that_says_so(
    clinician_client: Client, clinician: User
) -> None:
    case = create_case(clinician, "NET-3002", {"primary_site": "pancreas"})

    html = clinician_client.get(f"/cases/{case.pk}/summary/")
    document = clinician_client.get(f"/cases/{case.pk}/summary.pdf")

    assert html.status_code == 200 and document.status_code == 200
    assert "Not evaluated yet: there are no treatment options to show." in text(html.content.decode())
    _, pages = pdf_text(document.content)
    assert "Not evaluated yet" in flat(" ".join(pages)) and "NET-3002" in pages[0]


def test_an_out_of_date_summary_says_why_and_which_facts_changed(
    clinician_client: Client, clinician: User, reviewed_case: Case
) -> None:
    profile = {**golden("36_missing_bloods_pnet")["profile"], "egfr_ml_min": 65}
    services.case_update(
        actor=clinician,
        case=reviewed_case,
        data=CaseChange(version=1, profile=PatientProfile.model_validate(profile)),
    )

    page = text(clinician_client.get(f"/cases/{reviewed_case.pk}/summary/").content.decode())

    assert "Out of date: these options may no longer apply to the patient." in page
    assert "Facts changed since the evaluation: eGFR unknown → 65 mL/min/1.73 m²" in page


# --- the case summary PDF -----------------------------------------------------------------------


def test_the_sheet_pdf_is_an_a4_download_with_the_reference_statuses_and_rule_set(
    clinician_client: Client, reviewed_case: Case
) -> None:
    response = clinician_client.get(f"/cases/{reviewed_case.pk}/summary.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="netcare-case-sheet-NET-3001.pdf"'
    assert "no-store" in response["Cache-Control"]
    reader, pages = pdf_text(response.content)
    whole = flat(" ".join(pages))
    assert "Case NET-3001" in flat(pages[0])
    for status in ("candidate", "needs_data", "not_suitable", "not_indicated"):
        assert STATUS_LABELS[status] in whole, status
    assert f"version {KB_VERSION}" in whole
    assert "Data to obtain (3)" in whole and "Needs renal function first" in whole
    assert "Decision support only." in whole
    for number, page in enumerate(reader.pages, start=1):
        assert (round(float(page.mediabox.width), 2), round(float(page.mediabox.height), 2)) == A4
        assert f"Page {number} of {len(reader.pages)}" in pages[number - 1]
    assert reader.metadata is not None and reader.metadata.title == "Case sheet NET-3001 · NETcare"


def test_the_pdf_uses_the_system_dejavu_fonts_embedded(clinician_client: Client, reviewed_case: Case) -> None:
    reader, _ = pdf_text(clinician_client.get(f"/cases/{reviewed_case.pk}/summary.pdf").content)

    fonts = {
        str(font.get_object()["/BaseFont"]).split("+")[-1]
        for page in reader.pages
        for font in cast(Any, page["/Resources"])["/Font"].values()
    }
    assert fonts and all(font.startswith("DejaVu-Sans") for font in fonts), fonts


def test_downloading_the_summary_pdf_is_recorded_as_an_export(
    coordinator_client: Client, coordinator: User, reviewed_case: Case
) -> None:
    coordinator_client.get(f"/cases/{reviewed_case.pk}/summary.pdf")

    event = AuditEvent.objects.get(action="summary.export")
    assert (event.object_id, event.payload, event.actor) == (
        str(reviewed_case.pk),
        {"format": "pdf"},
        coordinator,
    )


def test_a_reference_with_a_slash_makes_a_safe_file_name(clinician_client: Client, clinician: User) -> None:
    case = create_case(clinician, "RX1/2024-77")

    response = clinician_client.get(f"/cases/{case.pk}/summary.pdf")

    assert response["Content-Disposition"] == 'attachment; filename="netcare-case-sheet-RX1-2024-77.pdf"'


# --- the meeting pack ---------------------------------------------------------------------------


@pytest.fixture
def meeting_pack_cases(clinician: User, reviewed_case: Case) -> Meeting:
    meeting = create_meeting(clinician, "NET MDT")
    second = evaluated_case(clinician, "NET-3003", "02_lung_progressive_nhs")
    third = create_case(clinician, "NET-3004", {"primary_site": "rectum"})
    for case in (second, reviewed_case, third):
        services.meeting_add_case(actor=clinician, meeting=meeting, case=case)
    return meeting


def test_the_meeting_pack_has_a_cover_listing_the_cases_then_each_case_from_a_new_page(
    clinician_client: Client, meeting_pack_cases: Meeting
) -> None:
    meeting = meeting_pack_cases

    response = clinician_client.get(f"/meetings/{meeting.pk}/pack.pdf")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="netcare-mdt-pack-{meeting.date:%Y-%m-%d}-{meeting.pk}.pdf"'
    )
    reader, pages = pdf_text(response.content)
    cover = flat(pages[0])
    assert "NETCARE MEETING PACK" in cover and "NET MDT" in cover
    positions = [cover.index(reference) for reference in ("NET-3003", "NET-3001", "NET-3004")]
    assert positions == sorted(positions), "the cover lists the cases in the meeting's order"
    assert "Not evaluated" in cover and "Data to obtain" in cover and "Prepared" in cover
    starts = [number for number, page in enumerate(pages) if re.search(r"^Case NET-\d+$", page, re.M)]
    assert len(starts) == 3 and starts[0] == 1, "each case's sheet starts a page of its own"
    started = [re.search(r"^Case (NET-\d+)$", pages[number], re.M).group(1) for number in starts]  # type: ignore[union-attr]
    assert started == ["NET-3003", "NET-3001", "NET-3004"]
    assert f"Pack page 1 of {len(reader.pages)}" in pages[0]
    for first, reference in zip(starts, started, strict=True):
        page_range = re.search(rf"{reference} .*? (\d+)(?:–(\d+))?(?: \d+ NET-| Decision support)", cover)
        assert page_range is not None and int(page_range.group(1)) == first + 1, (reference, cover)
    whole = flat(" ".join(pages))
    assert "Trial only" in whole  # bronchial NET on NHS funding: PRRT is trial only
    assert f"version {KB_VERSION}" in whole
    bookmarks = [item.title for item in reader.outline if not isinstance(item, list)]
    assert bookmarks == [
        "Cover: the cases in order",
        "1. Case NET-3003",
        "2. Case NET-3001",
        "3. Case NET-3004",
    ]


def test_downloading_the_pack_is_recorded_as_an_export_of_the_meeting(
    clinician_client: Client, meeting_pack_cases: Meeting
) -> None:
    clinician_client.get(f"/meetings/{meeting_pack_cases.pk}/pack.pdf")

    event = AuditEvent.objects.get(action="summary.export")
    assert (event.object_type, event.object_id, event.payload) == (
        "meeting",
        str(meeting_pack_cases.pk),
        {"format": "pdf"},
    )


def test_an_empty_meeting_still_makes_a_pack(clinician_client: Client, clinician: User) -> None:
    meeting = create_meeting(clinician)

    response = clinician_client.get(f"/meetings/{meeting.pk}/pack.pdf")

    _, pages = pdf_text(response.content)
    assert response.status_code == 200 and "No case on the list." in flat(pages[0])


# --- access and offline rendering ---------------------------------------------------------------


def test_summaries_need_a_login_and_the_export_capability(
    client: Client, author_client: Client, reviewed_case: Case, clinician: User
) -> None:
    meeting = create_meeting(clinician)
    urls = [
        f"/cases/{reviewed_case.pk}/summary/",
        f"/cases/{reviewed_case.pk}/summary.pdf",
        f"/meetings/{meeting.pk}/pack.pdf",
    ]

    for url in urls:
        assert client.get(url)["Location"].startswith("/login/"), url
        assert author_client.get(url).status_code == 403, url
    assert actions(action="summary.export") == []


def test_the_pdf_fetcher_serves_our_static_files_from_disk_and_refuses_everything_else() -> None:
    body, content_type = pdf.static_file("file:///static/css/pdf.css")
    assert content_type == "text/css" and b"@page" in body

    for url in (
        "http://127.0.0.1:8000/static/css/pdf.css",
        "https://fonts.example.org/dejavu.woff2",
        "file:///etc/passwd",
        "file:///static/../../etc/passwd",
        "file:///static/css/no-such-file.css",
    ):
        with pytest.raises(LookupError):
            pdf.static_file(url)
