"""The rule-governance pages in a real browser, with axe-core: the rule sets, every tab of a draft
with its evidence, and the publish checklist."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.browser.conftest import audit
from tests.browser.test_clinician_journey import log_in
from tests.conftest import make_user
from treatments import roles, services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cso_page(page: Any, published: object, clinician: User) -> Any:
    author = make_user("author_ada", roles.RULE_AUTHOR)
    make_user("cso_chen", roles.CLINICAL_SAFETY_OFFICER)
    draft = services.ruleset_draft_clone(actor=author, version="2.0.0", change_note="Platelets for PRRT.")
    content = copy.deepcopy(draft.content)
    rule = next(r for r in content["rules"] if r["rule_id"] == "prrt.marrow")
    rule["condition"] = {"fact": "platelets_10e9_l", "ge": 100}
    draft = services.ruleset_draft_set_content(draft=draft, content=content, actor=author)
    services.ruleset_golden_run(rule_set=draft, actor=author)
    services.ruleset_impact(draft=draft, actor=author)
    log_in(page, "/rulesets/", username="cso_chen")
    return page


def test_the_rule_set_pages_are_accessible(cso_page: Any) -> None:
    page = cso_page
    audit(page, "rule sets")
    for tab, label in (
        ("changes", "Changes"),
        ("golden", "Golden cases"),
        ("impact", "Impact"),
        ("reviews", "Reviews"),
        ("publish", "Publish"),
    ):
        page.goto(f"/rulesets/2.0.0/{tab}/")
        assert page.get_by_role("link", name=label).get_attribute("aria-current") == "page"
        audit(page, f"draft tab {label}")
    assert page.get_by_role("button", name="Publish 2.0.0").is_disabled()
