"""A check kept, shared and compared, in a real browser (UX review, Top 10 item 6): a clinician checks
a patient, tries a what-if and resets it, opens the result's link, saves the check as a case on an
upcoming meeting (after a refused first try), and compares two evaluations of a case option by
option. No address ever holds an identifier; axe-core checks every new page."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from tests.browser.conftest import audit
from tests.browser.test_clinician_journey import fill_profile, log_in
from tests.conftest import KB_VERSION
from tests.pages.helpers import golden
from tests.pages.test_check_share import evaluated_under_two_rule_sets
from treatments import services
from treatments.inputs import MeetingInput
from treatments.models import Case, Evaluation, MeetingCase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REFERENCE, NHS_NUMBER = "RX-5521", "943 476 5919"
IDENTIFIERS = ("RX-5521", "9434765919", "943 476 5919", "943+476+5919")


@pytest.fixture
def ready(published: object, clinician: User) -> User:
    return clinician


def test_check_what_if_reset_link_then_save_as_case_on_a_meeting(new_page: Any, ready: User) -> None:
    meeting = services.meeting_create(
        actor=ready,
        data=MeetingInput(title="Tuesday NET MDT", date=timezone.localdate() + dt.timedelta(days=5)),
    )
    page = new_page()
    addresses: list[str] = []
    page.on("request", lambda request: addresses.append(request.url))
    log_in(page, "/check/")

    # --- the check: its facts are in the address -------------------------------------------------
    fill_profile(page, golden("34_missing_krenning_pnet")["profile"])
    page.get_by_role("button", name="Show treatment options").click()
    page.wait_for_selector("#status-needs_data article#option-prrt_lu177")
    facts = parse_qs(urlsplit(page.url).query, keep_blank_values=True)
    assert facts["primary_site"] == ["pancreas"]
    assert "krenning_score" not in facts and "ecog" in facts  # the unknown facts are left out
    original_url = page.url
    audit(page, "result reached by its address")

    # --- what-if, compared with the original, option by option ----------------------------------
    page.locator("#id_krenning_score").fill("3")
    page.locator("#whatif-submit").click()
    page.wait_for_selector("#comparison-table")
    table = page.get_by_role("table", name="Every option in the original check and in this what-if")
    assert table.get_by_role("columnheader").all_text_contents()[:3] == [
        "Option",
        "Original check",
        "What-if",
    ]
    changed = table.locator("tbody tr.is-changed")
    assert changed.count() == 1 and changed.get_attribute("data-modality") == "prrt_lu177"
    row = changed.text_content() or ""
    assert "Changed" in row and "Needs data" in row and "Candidate" in row and "Krenning score: 3" in row
    assert table.locator("tbody th[scope=row]").count() == table.locator("tbody tr").count()
    audit(page, "what-if with the side-by-side comparison")

    # A second what-if is compared with the original, not with the first what-if.
    page.locator("#id_krenning_score").fill("")
    page.locator("#whatif-submit").click()
    page.wait_for_selector("#what-changed:has-text('No fact was changed.')")
    assert page.locator("#comparison-table tbody tr.is-changed").count() == 0

    page.locator("#id_krenning_score").fill("3")
    page.locator("#whatif-submit").click()
    page.wait_for_selector("#reset-original")
    what_if_link = page.locator("#result-link").get_attribute("href")
    assert what_if_link and "krenning_score=3" in what_if_link

    # --- reset to the original, and the what-if's own link ---------------------------------------
    page.locator("#reset-original").click()
    page.wait_for_selector("#status-needs_data article#option-prrt_lu177")
    assert page.locator("#what-changed").count() == 0 and page.locator("#reset-original").count() == 0
    assert page.locator("#id_krenning_score").input_value() == ""
    page.goto(what_if_link)
    page.wait_for_selector("#status-candidate article#option-prrt_lu177")
    assert page.locator("#what-changed").count() == 0  # a link is a plain result of its facts

    # --- save as case: a refused first try keeps what was typed -----------------------------------
    page.locator("#save-as-case").click()
    page.wait_for_selector("h1:has-text('Save this check as a case')")
    assert "Krenning score" in page.locator("#facts").inner_text()
    audit(page, "save as case")
    page.get_by_label("NHS number").fill("943 476 5918")  # wrong check digit
    page.get_by_label("Referring clinician").fill("Dr A Khan, oncology")
    page.get_by_label("Question for the MDT").fill("Progressive pancreatic NET: PRRT now?")
    page.get_by_label("Add to meeting").select_option(str(meeting.pk))
    page.get_by_role("button", name="Create case and evaluate").click()
    page.wait_for_selector("#save-errors")
    assert "Hospital reference" in page.locator("#id_hospital_reference_error").inner_text()
    assert "NHS number" in page.locator("#id_nhs_number_error").inner_text()
    assert page.get_by_label("Question for the MDT").input_value() == "Progressive pancreatic NET: PRRT now?"
    assert page.get_by_label("Add to meeting").input_value() == str(meeting.pk)
    audit(page, "save as case, refused")
    assert not Case.objects.exists()

    page.get_by_label("Hospital reference").fill(REFERENCE)
    page.get_by_label("NHS number").fill(NHS_NUMBER)
    page.get_by_role("button", name="Create case and evaluate").click()
    page.wait_for_selector(f"h1:has-text('Case {REFERENCE}')")
    message = page.locator(".messages").inner_text()
    assert "created from the check" in message and "Tuesday NET MDT" in message
    case = Case.objects.get(hospital_reference=REFERENCE)
    assert case.facts.krenning_score == 3 and case.facts.primary_site == "pancreas"
    assert Evaluation.objects.filter(case=case).count() == 1
    assert MeetingCase.objects.filter(meeting=meeting, case=case).exists()
    assert page.locator("#status-candidate article#option-prrt_lu177").count() == 1

    # --- the case is on the meeting's list ---------------------------------------------------------
    page.goto(f"/meetings/{meeting.pk}/")
    assert REFERENCE in page.locator(f"#case-{case.pk}").inner_text()

    assert original_url.startswith(page.url.split("/meetings/")[0])
    leaked = [url for url in addresses if any(identifier in url for identifier in IDENTIFIERS)]
    assert not leaked, leaked


def test_two_evaluations_of_a_case_side_by_side(
    new_page: Any, ready: User, django_capture_on_commit_callbacks: Any
) -> None:
    case, first, second = evaluated_under_two_rule_sets(
        ready, "NET-6001", django_capture_on_commit_callbacks, krenning_score=1, sstr_imaging="negative"
    )
    page = new_page()
    log_in(page, f"/cases/{case.pk}/")

    page.get_by_role("link", name="What changed").first.click()
    page.wait_for_selector("#comparison-table")
    assert f"rule set {KB_VERSION}" in page.get_by_label("Compare", exact=True).inner_text()
    assert page.get_by_label("Compare", exact=True).input_value() == str(first.pk)
    assert page.get_by_label("with", exact=True).input_value() == str(second.pk)
    table = page.get_by_role("table", name="Every option in the two evaluations")
    headers = table.get_by_role("columnheader").all_text_contents()
    assert headers[1].startswith("#1:") and headers[1].endswith(f"rule set {KB_VERSION}")
    assert headers[2].startswith("#2:") and headers[2].endswith("rule set 9.9.9")
    changed = {row.get_attribute("data-modality") for row in table.locator("tbody tr.is-changed").all()}
    assert {"prrt_lu177", "ssta"} <= changed
    assert table.locator("tbody tr").count() == len(first.option_keys())
    prrt = table.locator('tr[data-modality="prrt_lu177"]').text_content() or ""
    assert "Needs data" in prrt and "Not suitable" in prrt and "SSTR imaging" in prrt
    audit(page, "two evaluations side by side")

    # Swapping the two in the form compares them the same way round (earlier first).
    page.get_by_label("Compare", exact=True).select_option(str(second.pk))
    page.get_by_label("with", exact=True).select_option(str(first.pk))
    page.get_by_role("button", name="Compare", exact=True).click()
    page.wait_for_selector("#comparison-table")
    assert page.locator("#comparison-table thead th").nth(1).text_content().startswith("#1:")

    # The same evaluation twice is refused by the field, with no table.
    page.get_by_label("with", exact=True).select_option(str(second.pk))
    page.get_by_role("button", name="Compare", exact=True).click()
    page.wait_for_selector("text=Choose two different evaluations")
    assert page.locator("#comparison-table").count() == 0
    audit(page, "comparison refused")
