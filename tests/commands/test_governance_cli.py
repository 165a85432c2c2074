"""The governance commands: ruleset_diff, ruleset_golden, ruleset_impact and ruleset_publish."""

from __future__ import annotations

import copy
import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import KB_VERSION, make_user
from treatments import roles, services
from treatments.models import RuleSet

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def draft(published: RuleSet) -> RuleSet:
    author = make_user("author_ada", roles.RULE_AUTHOR)
    draft = services.ruleset_draft_clone(actor=author, version="1.2.2")
    content = copy.deepcopy(draft.content)
    next(r for r in content["rules"] if r["rule_id"] == "prrt.uptake")["reason"] = "Reworded."
    return services.ruleset_draft_set_content(draft=draft, content=content, actor=author)


def test_the_diff_in_words(draft: RuleSet) -> None:
    out, _ = run("ruleset_diff", KB_VERSION, "1.2.2")

    assert out.splitlines()[0] == f"Rule set {KB_VERSION} -> 1.2.2: required bump patch"
    assert "[text] prrt_lu177 prrt.uptake" in out and "'Reworded.'" in out


def test_an_unknown_version_exits_2_naming_the_known_ones(draft: RuleSet) -> None:
    with pytest.raises(CommandError, match=f"known versions: {KB_VERSION}, 1.2.2") as refused:
        run("ruleset_diff", KB_VERSION, "7.7.7")
    assert refused.value.returncode == 2


def test_golden_impact_and_publish_from_the_command_line(draft: RuleSet) -> None:
    cso = make_user("cso_chen", roles.CLINICAL_SAFETY_OFFICER)
    reviewer = make_user("reviewer_rui", roles.RULE_REVIEWER)

    golden, _ = run("ruleset_golden", "1.2.2")
    impact, _ = run("ruleset_impact", "1.2.2")
    with pytest.raises(CommandError, match="was not published") as refused:
        run("ruleset_publish", "1.2.2", "--as", "cso_chen", "--acknowledge-impact")
    services.ruleset_review(draft=draft, actor=reviewer, kind="approve", checksum=draft.checksum)
    published, _ = run("ruleset_publish", "1.2.2", "--as", "cso_chen")

    assert re.search(r"(\d+) of \1 golden cases pass", golden)
    assert f"of 1.2.2 against {KB_VERSION} (active)" in impact
    assert refused.value.returncode == 2
    assert published.strip() == "Published rule set 1.2.2."
    assert RuleSet.objects.published().get().published_by == cso
