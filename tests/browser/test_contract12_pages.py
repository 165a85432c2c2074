"""Contract 1.2 in a real browser, with axe-core: the form with its folded groups and prior-treatment
rows, a page refusing contradictory facts, and a result with the headline box and warnings.

Screenshots for people to look at are written to NETCARE_SCREENSHOTS (default: the system's
temporary directory), never into the repository."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.browser.conftest import audit
from tests.browser.test_clinician_journey import fill_profile, log_in
from tests.pages.helpers import golden

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("NETCARE_SCREENSHOTS", tempfile.gettempdir()))
SI = golden("01_si_g2_progressive_nhs")["profile"]


def shot(locator: Any, name: str) -> None:
    locator.screenshot(path=str(SHOTS / f"netcare-{name}.png"))


@pytest.fixture
def clinician_page(page: Any, published: object, clinician: User) -> Any:
    log_in(page, "/check/")
    return page


def test_the_form_folds_rarely_needed_facts_and_opens_a_group_on_demand(clinician_page: Any) -> None:
    page = clinician_page
    safety = page.locator("details#fold-safety")
    assert safety.get_attribute("open") is None
    assert not page.get_by_label("DPD status").is_visible()
    audit(page, "patient form, folded groups")

    page.locator("details#fold-prior_detail > summary").click()
    row = page.locator("fieldset.detail-row").first
    assert row.locator(":scope > legend").inner_text() == "Prior treatment 1"
    row.get_by_label("Treatment").select_option("ssta")
    row.get_by_label("Best response").select_option("partial")
    row.locator('input[value="yes"]').check()
    row.get_by_label("Months since the last dose").fill("3")
    audit(page, "patient form, prior-treatment rows open")
    shot(page.locator("details#fold-prior_detail"), "prior-treatment-rows")


def test_contradictory_facts_are_refused_next_to_each_field(clinician_page: Any) -> None:
    page = clinician_page
    fill_profile(page, {"primary_site": "pancreas", "who_grade": "G1", "ki67_percent": 50})
    page.get_by_role("button", name="Show treatment options").click()

    summary = page.locator("#check-errors")
    assert summary.is_visible()
    links = summary.locator("a")
    assert links.count() == 2
    for field in ("who_grade", "ki67_percent"):
        assert "contradicts" in page.locator(f"#id_{field}_error").inner_text()
    assert page.get_by_label("Ki-67 index").input_value() == "50"
    audit(page, "consistency errors")
    shot(summary, "consistency-error-summary")
    shot(page.locator("#group-tumour"), "consistency-errors-by-fields")

    links.nth(1).click()  # the link leads to the field
    assert page.evaluate("document.activeElement.id") == "id_ki67_percent" or page.url.endswith(
        "#id_ki67_percent"
    )


def test_a_result_opens_with_the_warnings_and_the_headline_box(clinician_page: Any) -> None:
    page = clinician_page
    fill_profile(page, {**SI, "bilirubin_umol_l": 1.2})
    page.get_by_role("button", name="Show treatment options").click()
    page.wait_for_selector("#headline")

    warnings = page.locator("#fact-warnings")
    assert "Warning: Bilirubin." in warnings.inner_text()
    headline = page.locator("#headline")
    assert headline.locator("li.headline-item").count() >= 1
    assert "A display aid, not a recommendation." in headline.inner_text()
    rest = headline.locator("details.headline-rest").first
    rest.locator("summary").click()
    assert rest.locator("li").first.is_visible()
    audit(page, "result with warnings and headline box")
    shot(page.locator("#result-region > .fact-warnings, #headline").first, "warnings")
    shot(headline, "headline-box")
