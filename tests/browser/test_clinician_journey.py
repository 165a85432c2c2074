"""A clinician's journey in a real browser: log in, browse and filter the catalogue, check three
patients through the form (one with unknown facts), use what-if with and without JavaScript, and
read the statuses; axe-core checks every page for serious or critical accessibility problems."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.browser.conftest import TABLET, audit
from tests.conftest import KB_VERSION, PASSWORD
from tests.pages.helpers import golden
from treatments.rules.explain import STATUS_LABELS
from treatments.rules.profile import MODALITY_KEYS, V1_BOOLEAN_VALUES

LABELS: Mapping[Any, str] = STATUS_LABELS  # looked up by the statuses a golden case spells

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ready(published: object, clinician: User) -> User:
    """The knowledge base is published and Dr Hughes (clinician) has an account."""
    return clinician


def log_in(page: Any, next_url: str = "/", username: str = "dr_hughes") -> None:
    page.goto(next_url)
    page.wait_for_url("**/login/**")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{next_url}")


def fill_profile(page: Any, profile: dict[str, Any]) -> None:
    """Enter a golden profile through the form's own controls; facts left out stay unknown."""
    for name, value in profile.items():
        if name == "prior_therapies":
            page.check(f'input[name="prior_therapies_known"][value="{"given" if value else "none"}"]')
            for key in value:
                page.check(f'input[name="prior_therapies"][value="{key}"]')
        elif name in V1_BOOLEAN_VALUES and isinstance(value, bool):  # a 1.1 profile: its 1.2 value
            page.check(f'input[name="{name}"][value="{V1_BOOLEAN_VALUES[name][value]}"]')
        elif isinstance(value, bool):
            page.check(f'input[name="{name}"][value="{"yes" if value else "no"}"]')
        else:
            control = page.locator(f'[name="{name}"]').first
            kind = control.evaluate("element => element.tagName === 'SELECT' ? 'select' : element.type")
            if kind == "select":
                control.select_option(str(value))
            elif kind == "radio":
                page.check(f'input[name="{name}"][value="{value}"]')
            else:
                control.fill(str(value))


def assert_statuses(page: Any, expect: dict[str, str]) -> None:
    """Each option's card sits in its status group and says its status in words."""
    for modality, status in expect.items():
        card = page.locator(f"#status-{status} article#option-{modality}")
        assert card.count() == 1, f"{modality} is not in the {status} group"
        badge = card.locator(f".option-status .status-{status}")
        assert badge.locator(".status-text").inner_text().strip() == LABELS[status]
        assert badge.locator("svg.icon").count() == 1


def test_the_clinician_logs_in_and_finds_prrt_in_the_catalogue(page: Any, ready: User) -> None:
    page.goto("/catalogue/")
    assert "/login/" in page.url
    audit(page, "login")

    log_in(page, "/catalogue/")
    header = page.locator("header.site-header")
    assert "Clara Hughes" in header.inner_text() and "Clinician" in header.inner_text()
    assert "support, and not replace, the judgement" in page.locator(".disclaimer").inner_text()
    assert f"version {KB_VERSION}" in page.locator("footer").inner_text()
    assert page.locator("article.modality-card").count() == len(MODALITY_KEYS)
    audit(page, "catalogue")

    page.get_by_label("Category").select_option("radionuclide_therapy")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_selector(f"#catalogue-count:has-text('Showing 1 of {len(MODALITY_KEYS)}')")
    assert page.locator("article.modality-card").count() == 1

    page.goto("/catalogue/")
    page.get_by_label("Search").fill("PRRT")
    page.get_by_label("Search").press("Enter")
    # The search narrows the list (how many match depends on the knowledge base's texts).
    page.wait_for_function(
        f"!document.querySelector('#catalogue-count').textContent.includes('{len(MODALITY_KEYS)} of')"
    )
    shown = int(page.locator("#catalogue-count").inner_text().split()[1])
    assert 1 <= shown < len(MODALITY_KEYS) and page.locator("article.modality-card").count() == shown
    prrt = page.locator("article#modality-prrt_lu177")
    assert prrt.is_visible()
    prrt.get_by_text("Rules in plain English").click()
    assert prrt.get_by_text("Krenning score ≥ 2").is_visible()
    audit(page, "catalogue, searched for PRRT")

    prrt.get_by_role("link", name="Peptide-receptor radionuclide therapy").first.click()
    page.wait_for_url("**/catalogue/prrt_lu177/")
    assert (
        page.get_by_role("heading", level=1).inner_text().startswith("Peptide-receptor radionuclide therapy")
    )
    assert page.locator(".unverified").count() > 0
    audit(page, "PRRT page")


@pytest.mark.parametrize(
    "case",
    ["01_si_g2_progressive_nhs", "02_lung_progressive_nhs", "34_missing_krenning_pnet"],
)
def test_a_patient_checked_through_the_form_shows_each_option_in_its_status_group(
    page: Any, ready: User, case: str
) -> None:
    golden_case = golden(case)
    log_in(page, "/check/")
    if case.startswith("01"):
        audit(page, "patient form")

    fill_profile(page, golden_case["profile"])
    page.get_by_role("button", name="Show treatment options").click()
    page.wait_for_selector("h1:has-text('Treatment options for this patient')")

    assert_statuses(page, golden_case["expect"])
    for modality, facts in (golden_case.get("missing_facts") or {}).items():
        for fact in facts:
            item = page.locator(f'#data-to-obtain li[data-fact="{fact}"]')
            assert item.locator(f'a[href="#option-{modality}"]').count() == 1, (fact, modality)
    audit(page, f"result: {golden_case['title']}")


def test_what_if_updates_the_result_in_place_and_says_what_changed(page: Any, ready: User) -> None:
    case = golden("34_missing_krenning_pnet")
    log_in(page, "/check/")
    fill_profile(page, case["profile"])
    page.get_by_role("button", name="Show treatment options").click()
    page.wait_for_selector("#status-needs_data article#option-prrt_lu177")
    assert page.locator('#data-to-obtain li[data-fact="krenning_score"]').is_visible()
    page.evaluate("window.stillTheSamePage = true")

    page.locator('#data-to-obtain a.try[href="#id_krenning_score"]').click()
    page.locator("#id_krenning_score").fill("3")
    page.locator("#whatif-submit").click()
    page.wait_for_selector("#what-changed")

    assert page.evaluate("window.stillTheSamePage === true"), "htmx should swap the result, not reload"
    changed = page.locator("#what-changed")
    assert "Krenning score" in changed.inner_text()
    change = changed.locator('li.status-change[data-modality="prrt_lu177"]')
    assert "Needs data" in change.inner_text() and "Candidate" in change.inner_text()
    assert page.evaluate("document.activeElement.id") == "what-changed-title"
    assert_statuses(page, {"prrt_lu177": "candidate"})
    assert "No unknown fact holds an option back." in page.locator("#data-to-obtain").inner_text()
    audit(page, "result after what-if (htmx)")

    # A second what-if is compared with the original check again. (Negative SSTR imaging needs a
    # Krenning score below 2: contract 1.2 refuses the contradiction.)
    page.locator("#id_krenning_score").fill("1")
    page.check('input[name="sstr_imaging"][value="negative"]')
    page.locator("#whatif-submit").click()
    page.wait_for_selector('#what-changed li.status-change[data-modality="ssta"]')
    assert_statuses(page, {"prrt_lu177": "not_suitable"})
    assert "SSTR imaging" in page.locator("#what-changed .changed-facts").inner_text()


def test_a_bad_what_if_value_is_reported_next_to_the_field(page: Any, ready: User) -> None:
    log_in(page, "/check/")
    fill_profile(page, golden("34_missing_krenning_pnet")["profile"])
    page.get_by_role("button", name="Show treatment options").click()
    page.wait_for_selector("#whatif-submit")

    page.locator("#id_ki67_percent").fill("250")
    page.locator("#whatif-submit").click()
    page.wait_for_selector("#whatif-errors")

    assert "Ki-67 index must be at most 100 %" in page.locator("#id_ki67_percent_error").inner_text()
    assert page.locator("#id_ki67_percent").input_value() == "250"
    assert_statuses(page, {"prrt_lu177": "needs_data"})


def test_the_form_reports_bad_input_next_to_the_fields_and_keeps_it(page: Any, ready: User) -> None:
    log_in(page, "/check/")
    page.check('input[name="resectable"][value="no"]')
    page.locator("#id_ki67_percent").fill("150")
    page.get_by_role("button", name="Show treatment options").click()
    page.wait_for_selector(".error-summary")

    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert "Ki-67 index must be at most 100 %" in page.locator("#id_ki67_percent_error").inner_text()
    assert page.locator("#id_ki67_percent").input_value() == "150"
    assert page.locator('input[name="resectable"][value="no"]').is_checked()
    audit(page, "patient form with errors")


def test_what_if_works_without_javascript(new_page: Any, ready: User) -> None:
    page = new_page(javascript=False)
    log_in(page, "/check/")
    fill_profile(page, golden("34_missing_krenning_pnet")["profile"])
    page.get_by_role("button", name="Show treatment options").click()
    page.wait_for_selector("#whatif-submit")

    page.locator("#id_krenning_score").fill("1")
    page.locator("#whatif-submit").click()
    page.wait_for_url("**/check/what-if/**")

    assert page.locator("h1").inner_text() == "Treatment options for this patient"
    assert "Needs data" in page.locator('#what-changed li[data-modality="prrt_lu177"]').inner_text()
    assert_statuses(page, {"prrt_lu177": "not_suitable"})


def test_the_pages_fit_a_tablet_without_sideways_scrolling(new_page: Any, ready: User) -> None:
    page = new_page(viewport=TABLET)
    log_in(page, "/catalogue/")
    for url in ("/catalogue/", "/catalogue/prrt_lu177/", "/check/"):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), url
    fill_profile(page, golden("02_lung_progressive_nhs")["profile"])
    page.get_by_role("button", name="Show treatment options").click()
    page.wait_for_selector("#status-trial_only article#option-prrt_lu177")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    audit(page, "result on a tablet")


def test_the_skip_link_is_the_first_stop_and_is_visible_on_focus(page: Any, ready: User) -> None:
    log_in(page, "/")
    audit(page, "home")
    page.keyboard.press("Tab")

    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"
    box = page.locator(".skip-link").bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_the_print_stylesheet_makes_a_clean_handout(page: Any, ready: User) -> None:
    log_in(page, "/check/")
    fill_profile(page, golden("34_missing_krenning_pnet")["profile"])
    page.get_by_role("button", name="Show treatment options").click()
    page.wait_for_selector("#result-region")
    assert page.get_by_role("button", name="Print handout").is_visible()

    page.emulate_media(media="print")

    for hidden in (".site-nav", "#whatif", ".page-actions", ".status-nav", "details.facts-summary"):
        assert not page.locator(hidden).first.is_visible(), hidden
    assert page.locator(".print-facts").is_visible()
    assert page.locator("#data-to-obtain").is_visible()
    assert page.locator(".disclaimer").is_visible()
    assert page.locator("article#option-prrt_lu177").is_visible()
