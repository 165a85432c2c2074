"""The rule editor in a real browser: a rule author opens a draft, changes the PRRT platelet
threshold (seeing the condition in plain English as it is typed, and a mistake refused by its field
with nothing lost), edits a modality, and downloads the draft as YAML that loads to its checksum.
axe-core checks every editor page; no page may log a console error."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.browser.conftest import audit
from tests.browser.test_clinician_journey import log_in
from treatments.models import Rule, RuleSet
from treatments.rules.document import parse_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rule_author_edits_a_threshold_in_the_app(page: Any, draft: RuleSet, rule_author: User) -> None:
    log_in(page, "/rulesets/1.3.0-draft/edit/", username=rule_author.get_username())
    audit(page, "rule editor")
    page.get_by_role("link", name="Edit rule prrt.marrow of Peptide-receptor radionuclide therapy").click()
    page.wait_for_selector("h1:has-text('Edit rule')")
    assert "Platelets ≥ 75 ×10⁹/L" in page.locator("#condition-preview").inner_text()

    # the preview follows the typing (htmx), before anything is saved
    condition = page.get_by_label("Condition")
    condition.fill("{fact: platelets_10e9_l, ge: 100}")
    page.wait_for_selector("#condition-preview:has-text('Platelets ≥ 100 ×10⁹/L')")

    # a mistake is refused by its field; what was typed stays
    page.get_by_label("Title").fill("")
    page.get_by_label("Reason").fill("Raised to the LUTIA threshold (before the first cycle).")
    page.get_by_role("button", name="Save rule").click()
    page.wait_for_selector(".error-summary")
    assert "String should have at least 1 character" in page.locator("#id_title_error").inner_text()
    assert (
        page.get_by_label("Reason").input_value() == "Raised to the LUTIA threshold (before the first cycle)."
    )
    assert page.get_by_label("Condition").input_value() == "{fact: platelets_10e9_l, ge: 100}"
    audit(page, "rule form with errors")

    page.get_by_label("Title").fill("Platelets at least 100 × 10⁹/L")
    page.get_by_role("button", name="Save rule").click()
    page.wait_for_url("**/rulesets/1.3.0-draft/edit/#modality-prrt_lu177")
    assert "Platelets ≥ 100 ×10⁹/L" in page.locator("#rule-prrt_lu177-prrtmarrow").inner_text()
    row = Rule.objects.get(rule_set=draft, modality__key="prrt_lu177", rule_id="prrt.marrow")
    assert row.condition == {"fact": "platelets_10e9_l", "ge": 100}

    # a modality is edited the same way
    page.get_by_role("link", name="Edit Peptide-receptor radionuclide therapy").first.click()
    page.wait_for_selector("h1:has-text('Edit Peptide')")
    audit(page, "modality form")
    page.get_by_label("Agents").fill("Lutathera 7.4 GBq every 8 weeks, 4 cycles")
    page.get_by_role("button", name="Save modality").click()
    page.wait_for_url("**/rulesets/1.3.0-draft/edit/#modality-prrt_lu177")

    # the export loads to the draft's checksum
    with page.expect_download() as caught:
        page.get_by_role("link", name="Export as YAML").click()
    exported = caught.value
    assert exported.suggested_filename == "knowledge_base_1.3.0-draft.yaml"
    text = open(exported.path(), encoding="utf-8").read()
    assert parse_text(text).checksum == RuleSet.objects.get(pk=draft.pk).checksum
