"""FHIR import in a real browser, with axe-core: a clinician uploads a Bundle into a case, ticks some
facts (and confirms a proposal), imports them, evaluates, and sees each fact's source and date on the
case and on the evaluation."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.browser.conftest import audit
from tests.browser.test_clinician_journey import log_in
from tests.conftest import ROOT
from treatments import services
from treatments.inputs import CaseCreate
from treatments.models import Case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BUNDLE = ROOT / "fixtures" / "fhir" / "ex-si-net-g2.json"


@pytest.fixture
def case(published: object, clinician: User) -> Case:
    data = CaseCreate.model_validate(
        {
            "hospital_reference": "FHIR-BROWSER-1",
            "referring_clinician": "Dr Ada Lovelace",
            "question": "Options after progression on lanreotide?",
            "profile": {"primary_site": "small_intestine"},
        }
    )
    return services.case_create(actor=clinician, data=data)


def test_a_clinician_imports_a_bundle_accepts_some_facts_evaluates_and_sees_their_sources(
    page: Any, case: Case
) -> None:
    log_in(page, f"/cases/{case.pk}/")
    page.get_by_role("link", name="Import from FHIR").click()
    page.get_by_label("FHIR Bundle (JSON file)").set_input_files(str(BUNDLE))
    page.get_by_label("Read the data as of").fill("2026-11-20")
    audit(page, "FHIR import upload")
    page.get_by_role("button", name="Preview the import").click()

    table = page.locator("table.fhir-preview")
    assert table.is_visible()
    assert page.locator("#accept-ecog").is_checked()
    assert not page.locator("#accept-primary_resected").is_checked()  # a proposal starts unticked
    ecog = page.locator('tr[data-fact="ecog"]')
    assert "Observation/ecog" in ecog.inner_text() and "2026-11-10" in ecog.inner_text()
    audit(page, "FHIR import preview")
    page.locator("#accept-egfr_ml_min").uncheck()  # keep only some of the facts
    page.locator("#accept-primary_resected").check()  # the clinician confirms the resection
    page.get_by_role("button", name="Import the ticked facts").click()

    page.wait_for_url(f"**/cases/{case.pk}/")
    assert "imported from FHIR" in page.locator(".messages, [role=status], body").first.inner_text()
    facts = page.locator("#facts")
    assert "from FHIR Observation/ecog (LOINC 89247-1), 2026-11-10" in facts.inner_text()
    assert "eGFR" in facts.inner_text() and "Observation/egfr" not in facts.inner_text()

    page.get_by_role("button", name="Evaluate now").first.click()
    page.wait_for_url(f"**/cases/{case.pk}/**")
    evaluation = case.evaluations.get()
    page.goto(f"/cases/{case.pk}/evaluations/{evaluation.pk}/")
    shown = page.locator("#facts").inner_text()
    assert "from FHIR Observation/ecog (LOINC 89247-1), 2026-11-10" in shown
    assert "proposed from FHIR, confirmed Procedure/resection" in shown
    assert "entered by" in shown  # the primary site, typed when the case was made
    audit(page, "evaluation with fact sources")
