"""The one-page MDT case sheet and the lean meeting pack: at most two A4 pages a case, the full rule
detail only when asked for, a cover that lists every case, and a cache of rendered sheets that can
never serve a stale one (treatments/sheets.py)."""

from __future__ import annotations

import io
import re
import subprocess
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from pypdf import PdfReader

from tests.pages.conftest import logged_in
from tests.pages.mdt import create_meeting, decided_at_a_meeting, evaluated_case
from treatments import selectors, services, sheets
from treatments.inputs import CaseChange, ReviewInput, WaiverInput
from treatments.models import Case, CaseSheet, Meeting, MeetingPack
from treatments.sheet_context import summary_context

pytestmark = pytest.mark.django_db


def pdftotext(document: bytes) -> list[str]:
    """The text of each page as poppler's pdftotext reads it (another reader than pypdf)."""
    out = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=document, capture_output=True, check=True
    ).stdout.decode()
    return out.split("\f")[:-1]


def pages_of(document: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(document)).pages]


@pytest.fixture
def demo(settings: Any, published: object) -> Meeting:
    """The demo data of `make run`: five fictional cases, evaluated, on the next NET MDT."""
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    return Meeting.objects.get()


def demo_client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def sheet_of(case: Case, *, appendix: bool = False) -> sheets.Sheet:
    outcome = selectors.case_outcomes(case).first()
    return sheets.case_sheet(summary_context(case, outcome=outcome, appendix=appendix))


# --- at most two pages; the appendix only when asked for -----------------------------------------


def test_every_demo_case_sheet_is_at_most_two_a4_pages_and_has_no_appendix(demo: Meeting) -> None:
    client = demo_client("clinician")
    cases = list(Case.objects.order_by("hospital_reference"))
    assert len(cases) == 6  # five typed demo cases and one imported from a FHIR bundle

    for case in cases:
        response = client.get(f"/cases/{case.pk}/summary.pdf")
        assert response.status_code == 200
        pages = pdftotext(response.content)
        assert 1 <= len(pages) <= 2, f"{case.hospital_reference}: {len(pages)} pages"
        whole = " ".join(" ".join(page.split()) for page in pages)
        assert f"Case {case.hospital_reference}" in whole and "Question for the MDT" in whole
        assert "Options to consider now" in whole and "MDT outcome" in whole
        assert "Appendix" not in whole, case.hospital_reference
        assert f"Page {len(pages)} of {len(pages)}" in whole


def test_the_appendix_comes_only_when_asked_for_and_starts_a_page_of_its_own(demo: Meeting) -> None:
    client = demo_client("clinician")
    case = Case.objects.get(hospital_reference="DEMO-001")

    plain = pages_of(client.get(f"/cases/{case.pk}/summary.pdf").content)
    full = pages_of(client.get(f"/cases/{case.pk}/summary.pdf?appendix=1").content)

    assert not any("Appendix" in page for page in plain)
    first = next(number for number, page in enumerate(full) if "Appendix: every option" in page)
    assert first == len(plain), "the appendix follows the sheet, from a new page"
    assert "Source:" in " ".join(full[first:]) and "Source:" not in " ".join(plain)


def test_the_demo_pack_lists_every_case_on_its_cover_in_order_each_sheet_at_most_two_pages(
    demo: Meeting,
) -> None:
    client = demo_client("coordinator")

    document = client.get(f"/meetings/{demo.pk}/pack.pdf").content

    pages = pages_of(document)
    cover = pages[0]
    references = list(demo.entries.order_by("position").values_list("case__hospital_reference", flat=True))
    assert len(references) == 5
    positions = [cover.index(reference) for reference in references]
    assert positions == sorted(positions)
    starts = [number for number, page in enumerate(pages) if re.search(r"NETCARE MDT CASE SHEET", page)]
    lengths = [end - start for start, end in zip(starts, [*starts[1:], len(pages)], strict=True)]
    assert len(starts) == 5 and all(1 <= length <= 2 for length in lengths), lengths
    assert not any("Appendix" in page for page in pages)
    assert f"{len(pages)} pages in all" in cover


def test_a_pack_prepared_with_the_appendix_has_it_for_every_case(demo: Meeting) -> None:
    client = demo_client("coordinator")

    client.post(f"/meetings/{demo.pk}/pack/prepare/", {"appendix": "1"})

    pack = MeetingPack.objects.get(meeting=demo)
    assert pack.status == "ready" and pack.appendix and pack.done == pack.cases == 5
    pages = pages_of(bytes(pack.pdf))  # type: ignore[arg-type]
    assert sum("Appendix: every option" in page for page in pages) == 5
    assert "with an appendix of the rules behind every option" in pages[0]


# --- the cache: by what the sheet shows, never stale ---------------------------------------------


@pytest.fixture
def case(clinician: User, published: object) -> Case:
    return evaluated_case(clinician, "NET-5001", "36_missing_bloods_pnet")


def test_the_same_sheet_twice_is_rendered_once(case: Case) -> None:
    first = sheet_of(case)
    second = sheet_of(case)

    assert (first.cached, second.cached) == (False, True)
    assert second.pdf == first.pdf and second.pages == first.pages
    stored = CaseSheet.objects.get()
    assert stored.case == case and stored.evaluation == selectors.latest_evaluation(case)


def test_a_new_evaluation_gives_a_new_sheet_naming_it(case: Case, clinician: User) -> None:
    before = sheet_of(case)
    # Evaluating unchanged facts makes no new evaluation; a new fact does.
    evaluation = selectors.latest_evaluation(case)
    assert evaluation is not None
    facts = case.facts.model_copy(update={"egfr_ml_min": 70})
    services.case_update(actor=clinician, case=case, data=CaseChange(version=case.version, profile=facts))
    newer = services.case_evaluate(actor=clinician, case=Case.objects.get(pk=case.pk))

    after = sheet_of(Case.objects.get(pk=case.pk))

    assert not after.cached and after.pdf != before.pdf
    assert f"Options from evaluation {newer.pk} of" in " ".join(pages_of(after.pdf))
    assert CaseSheet.objects.count() == 2


def test_an_outcome_or_a_review_gives_a_new_sheet(case: Case, clinician: User) -> None:
    sheet_of(case)
    decided_at_a_meeting(clinician, case, ["everolimus"], "Everolimus 10 mg daily")

    with_outcome = sheet_of(case)
    assert not with_outcome.cached
    assert "Everolimus 10 mg daily" in " ".join(pages_of(with_outcome.pdf))

    services.option_review(
        actor=clinician,
        evaluation=selectors.latest_evaluation(case),  # type: ignore[arg-type]
        modality="prrt_lu177",
        data=ReviewInput(decision="defer", reason_code="awaiting_data", note="Renal function first"),
    )
    with_review = sheet_of(case)
    assert not with_review.cached and "Renal function first" in " ".join(pages_of(with_review.pdf))
    assert sheet_of(case).cached


def test_a_sheet_made_out_of_date_by_a_new_rule_set_is_not_served_from_the_cache(case: Case) -> None:
    from tests.pages.test_case_pages import publish_new_version

    sheet_of(case)
    publish_new_version("9.9.9")

    after = sheet_of(case)

    assert not after.cached
    assert "Out of date" in " ".join(pages_of(after.pdf))


def test_the_key_covers_the_html_the_stylesheet_and_the_renderer() -> None:
    key = sheets.sheet_key("<p>sheet</p>")

    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert key == sheets.sheet_key("<p>sheet</p>") != sheets.sheet_key("<p>sheet.</p>")
    assert key != __import__("hashlib").sha256(b"<p>sheet</p>").hexdigest()


def test_preparing_a_pack_deletes_sheets_past_the_keep_hours(case: Case, clinician: User) -> None:
    sheet_of(case)
    old = CaseSheet.objects.get()
    CaseSheet.objects.filter(pk=old.pk).update(
        created_at=old.created_at.replace(year=old.created_at.year - 1)
    )
    meeting = create_meeting(clinician)
    services.meeting_add_case(actor=clinician, meeting=meeting, case=case)

    logged_in(clinician).post(f"/meetings/{meeting.pk}/pack/prepare/")

    assert not CaseSheet.objects.filter(pk=old.pk).exists()
    assert CaseSheet.objects.count() == 1  # the pack's own, made just now


# --- speed without another result: several processes, sheets made ahead ------------------------


def test_a_pack_laid_out_on_several_processes_is_the_pack_laid_out_in_one(demo: Meeting) -> None:
    coordinator = User.objects.get(username="coordinator")
    seen: list[int] = []

    parallel = sheets.meeting_pack(demo, coordinator, processes=2, progress=seen.append)
    assert CaseSheet.objects.count() == 5 and seen[0] == 0 and seen[-1] == 5
    assert sorted(seen) == seen
    CaseSheet.objects.all().delete()
    single = sheets.meeting_pack(demo, coordinator, processes=1)

    assert pdftotext(parallel)[1:] == pdftotext(single)[1:]  # the cover says when it was made
    outline = [item.title for item in PdfReader(io.BytesIO(parallel)).outline if not isinstance(item, list)]
    references = demo.entries.order_by("position").values_list("case__hospital_reference", flat=True)
    cases = [f"{number}. Case {reference}" for number, reference in enumerate(references, start=1)]
    assert outline == ["Cover: the cases in order", *cases]


def test_a_sheet_that_fails_in_a_layout_process_fails_the_pack_and_leaves_no_process(
    demo: Meeting, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing

    from treatments import pdf

    def broken(html: str, name: str) -> tuple[bytes, int]:
        raise pdf.MissingStaticFile("PDF not made: could not read /static/css/pdf.css")

    monkeypatch.setattr(pdf, "html_to_pdf", broken)  # inherited by the forked layout processes

    with pytest.raises(pdf.MissingStaticFile):
        sheets.meeting_pack(demo, User.objects.get(username="coordinator"), processes=2)
    assert multiprocessing.active_children() == []
    assert not CaseSheet.objects.exists()


def test_a_case_added_to_a_meeting_has_its_sheet_made_ahead_for_the_pack(
    settings: Any, case: Case, clinician: User, django_capture_on_commit_callbacks: Any
) -> None:
    settings.NETCARE_SHEETS_AHEAD = True
    meeting = create_meeting(clinician)

    with django_capture_on_commit_callbacks(execute=True):  # the immediate backend runs the task
        services.meeting_add_case(actor=clinician, meeting=meeting, case=case)

    made = CaseSheet.objects.get()
    assert made.case == case and made.pages <= 2
    seen: list[int] = []
    sheets.meeting_pack(meeting, clinician, progress=seen.append)
    assert seen == [1], "the pack found its only sheet in the cache"
    assert CaseSheet.objects.get() == made


def test_a_new_evaluation_of_a_case_on_a_coming_meeting_has_its_sheet_made_ahead(
    settings: Any, case: Case, clinician: User, django_capture_on_commit_callbacks: Any
) -> None:
    meeting = create_meeting(clinician)
    services.meeting_add_case(actor=clinician, meeting=meeting, case=case)
    assert not CaseSheet.objects.exists(), "off by default with the immediate backend"
    settings.NETCARE_SHEETS_AHEAD = True
    facts = case.facts.model_copy(update={"egfr_ml_min": 70})
    services.case_update(actor=clinician, case=case, data=CaseChange(version=case.version, profile=facts))

    with django_capture_on_commit_callbacks(execute=True):
        evaluation = services.case_evaluate(actor=clinician, case=Case.objects.get(pk=case.pk))

    assert CaseSheet.objects.get().evaluation == evaluation


def test_a_fact_marked_not_needed_has_the_new_sheet_made_ahead(
    settings: Any, case: Case, clinician: User, django_capture_on_commit_callbacks: Any
) -> None:
    meeting = create_meeting(clinician)
    services.meeting_add_case(actor=clinician, meeting=meeting, case=case)
    settings.NETCARE_SHEETS_AHEAD = True
    fact = selectors.meeting_worklist(meeting)[0].to_obtain[0].fact

    with django_capture_on_commit_callbacks(execute=True):
        services.waiver_record(actor=clinician, case=case, data=WaiverInput(fact=fact, reason="Not relevant"))

    seen: list[int] = []
    sheets.meeting_pack(meeting, clinician, progress=seen.append)
    assert seen == [1] and CaseSheet.objects.count() == 1


# --- progress on the meeting page ---------------------------------------------------------------


def test_the_meeting_page_shows_how_many_sheets_of_a_running_pack_are_made(
    clinician_client: Client, clinician: User, case: Case
) -> None:
    meeting = create_meeting(clinician)
    services.meeting_add_case(actor=clinician, meeting=meeting, case=case)
    MeetingPack.objects.create(meeting=meeting, requested_by=clinician, cases=40, done=12, status="running")

    box = clinician_client.get(f"/meetings/{meeting.pk}/pack/", HTTP_HX_REQUEST="true").content.decode()

    assert "12 of 40 case sheets made" in box
    assert '<progress class="pack-progress" max="40" value="12"' in box
    assert 'hx-trigger="every 2s"' in box


def test_a_meeting_of_more_than_a_few_cases_gets_its_pack_from_the_background_job(settings: Any) -> None:
    assert settings.NETCARE_PACK_DIRECT_MAX_CASES == 5
