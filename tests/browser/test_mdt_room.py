"""The MDT in the room, in a real browser: meeting mode driven by the keyboard alone (J/K between
cases, ? for help, A to accept the option in view, O to the outcome, pre-filled from the review),
a clinician marking a fact "not needed" and the meeting's readiness following, and axe-core clean
on every new page in light and dark colour schemes."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.browser.conftest import audit
from tests.browser.test_clinician_journey import log_in
from tests.pages.mdt import create_meeting, evaluated_case
from treatments import selectors, services
from treatments.models import Case, DataWaiver, Meeting, Outcome, Review

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def meeting(published: object, clinician: User, coordinator: User) -> Meeting:
    """NET MDT with NET-8001 (SI G2 progressive) and NET-8002 (pancreatic NET, Krenning unknown)."""
    meeting = create_meeting(clinician)
    for reference, vignette in (
        ("NET-8001", "01_si_g2_progressive_nhs"),
        ("NET-8002", "34_missing_krenning_pnet"),
    ):
        services.meeting_add_case(
            actor=clinician, meeting=meeting, case=evaluated_case(clinician, reference, vignette)
        )
    return meeting


def both_schemes(page: Any, label: str) -> None:
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        audit(page, f"{label} ({scheme})")
    page.emulate_media(color_scheme="light")


def focused(page: Any) -> str:
    """The name (or id, or tag) of the element that has the keyboard focus."""
    script = "() => { const e = document.activeElement; return e ? (e.name || e.id || e.tagName) : ''; }"
    return str(page.evaluate(script))


def test_meeting_mode_is_driven_by_the_keyboard_alone(new_page: Any, meeting: Meeting) -> None:
    page = new_page()
    first_url = f"/meetings/{meeting.pk}/present/1/"
    log_in(page, first_url)
    assert page.locator("h1").inner_text().endswith("Case NET-8001")
    both_schemes(page, "meeting mode")

    page.keyboard.press("?")
    assert page.locator("dialog#shortcuts").is_visible()
    audit(page, "meeting mode shortcuts")
    page.keyboard.press("Escape")
    assert not page.locator("dialog#shortcuts").is_visible()

    page.keyboard.press("j")
    page.wait_for_url(f"**/meetings/{meeting.pk}/present/2/")
    assert "Case NET-8002" in page.locator("h1").inner_text()
    page.keyboard.press("k")
    page.wait_for_url(f"**{first_url}")

    # A: accept the option in view (the first); choose a reason and save, all from the keyboard.
    first_option = page.locator(".present-options .option").first.get_attribute("data-modality")
    page.keyboard.press("a")
    assert focused(page).endswith("-reason_code")
    reject_reasons = page.locator(f'#option-{first_option} optgroup[label="Reasons to reject"]')
    assert reject_reasons.evaluate("group => group.disabled"), "only reasons that fit can be picked"
    page.keyboard.press("ArrowDown")  # the first reason that fits an acceptance
    page.keyboard.press("Tab")  # the note
    page.keyboard.press("Tab")  # Save review
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{first_url}#option-{first_option}")
    review = Review.objects.get()
    assert (review.modality, review.decision, review.reason_code) == (
        first_option,
        "accept",
        "clinically_appropriate",
    )

    # O: to the outcome, whose options start from the accepted review; type the plan and record it.
    page.keyboard.press("o")
    assert focused(page).endswith("-chosen_modalities")
    assert page.locator(f'.outcome-form input[value="{first_option}"]').is_checked()
    for _ in range(60):
        if focused(page).endswith("-plan"):
            break
        page.keyboard.press("Tab")
    page.keyboard.type("Start as accepted; CT in 3 months")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{first_url}#outcome-*")
    outcome = Outcome.objects.get()
    assert outcome.chosen_modalities == [first_option] and outcome.next_steps == ["treatment"]
    assert Case.objects.get(hospital_reference="NET-8001").status == "discussed"
    both_schemes(page, "meeting mode after the outcome")


def test_marking_a_fact_not_needed_changes_the_meetings_readiness(new_page: Any, meeting: Meeting) -> None:
    case = meeting.entries.get(position=2).case
    facts = [item.fact for item in selectors.meeting_worklist(meeting)[1].to_obtain]
    page = new_page()
    log_in(page, f"/cases/{case.pk}/")
    both_schemes(page, "case page with data to obtain by test")

    for fact in facts:
        item = page.locator(f'.data-jobs .job-facts li[data-fact="{fact}"]')
        item.locator("summary").click()
        item.get_by_label("Why it is not needed").fill("Not relevant to the question asked")
        item.get_by_role("button", name="Not needed").click()
        page.wait_for_url(f"**/cases/{case.pk}/#data-jobs")

    assert DataWaiver.objects.filter(case=case).count() == len(facts)
    assert "Marked as not needed" in page.locator("#data-jobs").inner_text()
    page.goto(f"/meetings/{meeting.pk}/")
    assert "Prepared" in page.locator(f"#case-{case.pk} .readiness").inner_text()
    both_schemes(page, "meeting page with attendance")


def test_the_chase_list_is_accessible_in_both_schemes(new_page: Any, meeting: Meeting) -> None:
    page = new_page()
    log_in(page, f"/meetings/{meeting.pk}/chase/", username="mdt_reyes")

    assert "NET-8002" in page.locator("main").inner_text()
    both_schemes(page, "chase list")


def test_the_list_is_reordered_by_keyboard_and_by_drag_without_a_page_reload(
    new_page: Any, meeting: Meeting, coordinator: User
) -> None:
    services.meeting_add_case(
        actor=coordinator,
        meeting=meeting,
        case=evaluated_case(coordinator, "NET-8003", "02_lung_progressive_nhs"),
    )
    page = new_page()
    log_in(page, f"/meetings/{meeting.pk}/", username="mdt_reyes")
    page.evaluate("() => { window.notReloaded = true; }")

    def order() -> list[str]:
        return list(meeting.entries.order_by("position").values_list("case__hospital_reference", flat=True))

    move_down = page.get_by_role("button", name="Move down case NET-8001")
    move_down.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('#worklist .work-item').dataset.reference === 'NET-8002'"
    )
    assert order() == ["NET-8002", "NET-8001", "NET-8003"]
    assert page.evaluate("() => window.notReloaded === true"), "the list was swapped, not the page reloaded"
    # The live region is emptied, then filled 50 ms later, so that a screen reader announces it again.
    page.wait_for_function(
        "() => document.getElementById('reorder-status').textContent"
        ".includes('NET-8001 is now number 2 of 3')"
    )
    assert "case NET-8001" in (page.evaluate("() => document.activeElement.textContent") or "")

    last = meeting.entries.get(case__hospital_reference="NET-8003").case_id
    first = meeting.entries.get(case__hospital_reference="NET-8002").case_id
    page.locator(f"#case-{last} .work-question").drag_to(
        page.locator(f"#case-{first} .work-head"), target_position={"x": 10, "y": 2}
    )
    page.wait_for_function(
        "() => document.getElementById('reorder-status').textContent.includes('NET-8003 is now number 1')"
    )
    assert order() == ["NET-8003", "NET-8002", "NET-8001"]
    assert page.evaluate("() => window.notReloaded === true")
    both_schemes(page, "meeting page after reordering")


def test_the_list_is_reordered_without_javascript_too(new_page: Any, meeting: Meeting) -> None:
    page = new_page(javascript=False)
    log_in(page, f"/meetings/{meeting.pk}/", username="mdt_reyes")

    page.get_by_role("button", name="Move down case NET-8001").click()

    page.wait_for_url(f"**/meetings/{meeting.pk}/#case-*")
    assert list(meeting.entries.order_by("position").values_list("case__hospital_reference", flat=True)) == [
        "NET-8002",
        "NET-8001",
    ]


def test_the_main_pages_are_accessible_in_dark_mode(new_page: Any, meeting: Meeting) -> None:
    page = new_page()
    page.emulate_media(color_scheme="dark")
    log_in(page, "/")
    case = meeting.entries.get(position=1).case
    for url in (
        "/",
        "/catalogue/",
        "/catalogue/prrt_lu177/",
        "/check/",
        "/cases/",
        "/meetings/",
        f"/cases/{case.pk}/summary/",
    ):
        page.goto(url)
        background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert background != "rgb(255, 255, 255)", f"{url} stays white in dark mode"
        audit(page, f"{url} (dark)")
