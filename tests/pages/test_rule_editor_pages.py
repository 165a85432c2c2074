"""The rule editor pages: a rule author edits a draft's rule or modality with the loader's messages by
the field and nothing typed lost, sees the condition in plain English (also via htmx while typing),
and exports the draft as YAML that loads to the same checksum. Other roles may not; published rule
sets are read-only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tests.pages.conftest import logged_in
from treatments import roles, services
from treatments.models import AuditEvent, Rule, RuleSet
from treatments.rules.document import parse_text

EDITOR = "/rulesets/1.3.0-draft/edit/"
MARROW = "/rulesets/1.3.0-draft/modalities/prrt_lu177/rules/prrt.marrow/"
MARROW_KEYS = {"modality": "prrt_lu177", "rule_id": "prrt.marrow"}


def rule_post(**changes: Any) -> dict[str, Any]:
    fields = {
        "kind": "requirement",
        "title": "Platelets at least 100 × 10⁹/L",
        "condition": "{fact: platelets_10e9_l, ge: 100}",
        "reason": "PRRT is myelotoxic.",
        "source": "LUTIA protocol",
        "evidence": "trial eligibility",
        "verification": "recall",
        "verification_note": "",
        "if_unknown": "hold",
    }
    return {**fields, **changes}


def test_the_editor_lists_the_drafts_rules_in_plain_english(author_client: Client, draft: RuleSet) -> None:
    html = author_client.get(EDITOR).content.decode()
    assert "Rule set 1.3.0-draft" in html and "Export as YAML" in html
    assert 'id="rule-prrt_lu177-prrtmarrow"' in html
    assert "Platelets ≥ 75 ×10⁹/L" in html
    assert f'href="{MARROW}"' in html


def test_the_rule_form_shows_the_rule_and_its_condition_in_words(
    author_client: Client, draft: RuleSet
) -> None:
    html = author_client.get(MARROW).content.decode()
    assert "Edit rule <code>prrt.marrow</code>" in html
    assert "{&quot;fact&quot;: &quot;platelets_10e9_l&quot;, &quot;ge&quot;: 75}" in html
    assert "In plain English:</span> Platelets ≥ 75 ×10⁹/L" in html


def test_saving_a_rule_changes_the_draft_and_goes_back_to_the_editor(
    author_client: Client, draft: RuleSet
) -> None:
    response = author_client.post(MARROW, rule_post())
    assert response.status_code == 302 and response["Location"] == EDITOR + "#modality-prrt_lu177"
    row = Rule.objects.get(rule_set=draft, modality__key="prrt_lu177", rule_id="prrt.marrow")
    assert row.condition == {"fact": "platelets_10e9_l", "ge": 100} and row.source == "LUTIA protocol"
    assert RuleSet.objects.get(pk=draft.pk).checksum != draft.checksum
    assert AuditEvent.objects.filter(action="ruleset.draft", payload__edit="rule").count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"condition": "{fact: platelets, ge: 100}"}, "condition", "&#x27;platelets&#x27; is not a fact"),
        ({"condition": "{fact: ["}, "condition", "not valid YAML or JSON (line 1"),
        ({"title": ""}, "title", "String should have at least 1 character"),
        ({"kind": "indication", "if_unknown": "note"}, "if_unknown", "only for requirements"),
        ({"kind": "sometimes"}, "kind", "Kind: choose one of the listed values"),
    ],
)
def test_a_bad_rule_is_refused_by_the_field_and_keeps_what_was_typed(
    author_client: Client, draft: RuleSet, changes: dict[str, str], field: str, words: str
) -> None:
    response = author_client.post(MARROW, rule_post(reason="My new reason, kept.", **changes))
    html = response.content.decode()
    assert response.status_code == 400
    assert "<title>Error: " in html and 'class="error-summary"' in html
    error = html[html.index(f'id="id_{field}_error"') :][:400]
    assert words in error, error
    assert f'href="#id_{field}"' in html
    assert "My new reason, kept." in html
    assert RuleSet.objects.get(pk=draft.pk).checksum == draft.checksum


def test_a_rule_is_added_to_a_modality(author_client: Client, draft: RuleSet) -> None:
    url = "/rulesets/1.3.0-draft/modalities/prrt_lu177/rules/new/"
    assert "New rule for" in author_client.get(url).content.decode()
    fields = rule_post(
        rule_id="prrt.bilirubin_high",
        kind="caution",
        title="High bilirubin",
        condition='{"fact": "bilirubin_umol_l", "gt": 50}',
    )
    assert author_client.post(url, fields).status_code == 302
    assert Rule.objects.filter(rule_set=draft, rule_id="prrt.bilirubin_high", kind="caution").exists()
    again = author_client.post(url, fields)
    assert again.status_code == 400 and "already has a rule prrt.bilirubin_high" in again.content.decode()


def test_the_condition_preview_reads_the_typed_condition_in_plain_english(
    author_client: Client, draft: RuleSet
) -> None:
    url = "/rulesets/1.3.0-draft/condition-preview/"
    good = author_client.post(
        url, {"condition": "{all: [{fact: ki67_percent, gt: 20}, {fact: ecog, le: 2}]}"}
    )
    assert (
        "In plain English:</span> Ki-67 index &gt; 20 % and ECOG performance status ≤ 2"
        in good.content.decode()
    )
    bad = author_client.post(url, {"condition": "{fact: nope, eq: 1}"})
    assert "Not readable yet" in bad.content.decode() and "is not a fact" in bad.content.decode()


def test_a_modality_is_edited_with_errors_by_the_field(author_client: Client, draft: RuleSet) -> None:
    url = "/rulesets/1.3.0-draft/modalities/prrt_lu177/"
    html = author_client.get(url).content.decode()
    assert "Edit Peptide" in html and 'value="antiproliferative" ' in html
    modality = next(m for m in draft.content["modalities"] if m["key"] == "prrt_lu177")
    post = {**modality, "agents": "Lutathera 7.4 GBq × 4", "intents": modality["intents"]}
    assert author_client.post(url, post).status_code == 302
    assert RuleSet.objects.get(pk=draft.pk).modalities.get(key="prrt_lu177").agents == "Lutathera 7.4 GBq × 4"
    bad = author_client.post(url, {**post, "name": "", "intents": [], "display_order": "x"})
    text = bad.content.decode()
    assert bad.status_code == 400
    assert "Display order: write a whole number" in text


def test_the_export_downloads_yaml_that_loads_to_the_drafts_checksum(
    author_client: Client, draft: RuleSet
) -> None:
    author_client.post(MARROW, rule_post())
    response = author_client.get("/rulesets/1.3.0-draft/export.yaml")
    assert response["Content-Type"].startswith("application/yaml")
    assert 'filename="knowledge_base_1.3.0-draft.yaml"' in response["Content-Disposition"]
    assert parse_text(response.content.decode()).checksum == RuleSet.objects.get(pk=draft.pk).checksum


def test_a_published_rule_set_is_read_only_in_the_editor(author_client: Client, published: RuleSet) -> None:
    version = published.version
    html = author_client.get(f"/rulesets/{version}/edit/").content.decode()
    assert "read-only: clone it as a new draft" in html and "Edit<span" not in html
    response = author_client.post(
        f"/rulesets/{version}/modalities/prrt_lu177/rules/prrt.marrow/", rule_post()
    )
    assert response.status_code == 409
    assert "(published) is not a draft" in response.content.decode()


@pytest.mark.parametrize("persona", ["clinician", "coordinator", "admin_user"])
def test_only_rule_authors_may_open_the_editor(
    persona: str, draft: RuleSet, request: pytest.FixtureRequest
) -> None:
    user = request.getfixturevalue(persona)
    client = logged_in(user)
    for url in (EDITOR, MARROW):
        assert client.get(url).status_code == 403
    assert client.post(MARROW, rule_post()).status_code == 403
    # the export is a read: whoever may see the rule sets may download one
    export = client.get("/rulesets/1.3.0-draft/export.yaml").status_code
    assert export == (200 if roles.can(user, "view_rulesets") else 403)


def test_an_unknown_rule_set_rule_or_modality_is_a_404(author_client: Client, draft: RuleSet) -> None:
    assert author_client.get("/rulesets/9.9.9/edit/").status_code == 404
    assert (
        author_client.get("/rulesets/1.3.0-draft/modalities/prrt_lu177/rules/prrt.nope/").status_code == 404
    )
    assert author_client.get("/rulesets/1.3.0-draft/modalities/nope/").status_code == 404
    # every modality key of the contract is in the draft already: nothing to add
    assert author_client.get("/rulesets/1.3.0-draft/modalities/new/").status_code == 404


def test_a_save_over_someone_elses_newer_change_of_the_rule_is_refused_then_allowed_knowingly(
    author_client: Client, draft: RuleSet, rule_author: Any
) -> None:
    html = author_client.get(MARROW).content.decode()
    based_on = re.search(r'name="based_on" value="([0-9a-f]+)"', html)
    assert based_on is not None
    # meanwhile someone else saves the same rule
    services.ruleset_rule_edit(
        rule_set=draft,
        modality="prrt_lu177",
        rule_id="prrt.marrow",
        fields={"reason": "Theirs."},
        actor=rule_author,
    )
    refused = author_client.post(MARROW, rule_post(based_on=based_on[1], reason="Mine."))
    page = refused.content.decode()
    assert refused.status_code == 400 and "was changed by someone else since you opened it" in page
    assert "Mine." in page
    saved = Rule.objects.get(rule_set=draft, modality__key="prrt_lu177", rule_id="prrt.marrow")
    assert saved.reason == "Theirs."
    newer = re.search(r'name="based_on" value="([0-9a-f]+)"', page)
    assert newer is not None and newer[1] != based_on[1]
    assert author_client.post(MARROW, rule_post(based_on=newer[1], reason="Mine.")).status_code == 302
    assert (
        Rule.objects.get(rule_set=draft, modality__key="prrt_lu177", rule_id="prrt.marrow").reason == "Mine."
    )


def test_a_named_set_of_the_rule_set_is_read_and_saved_by_its_name(
    author_client: Client, draft: RuleSet
) -> None:
    """A rule set keeps the file's named sets: the preview reads a set name as its members, and a
    rule saved with it counts as one of the set's users (the diff names it when the set changes)."""
    condition = "{all: [{fact: primary_site, in: PPGL}, {fact: ecog, le: 2}]}"
    preview = author_client.post("/rulesets/1.3.0-draft/condition-preview/", {"condition": condition})
    assert (
        "In plain English:" in preview.content.decode() and "Not readable yet" not in preview.content.decode()
    )

    url = "/rulesets/1.3.0-draft/modalities/prrt_lu177/rules/new/"
    fields = {
        "rule_id": "prrt.ppgl_fit",
        "kind": "caution",
        "title": "PPGL",
        "condition": condition,
        "reason": "Example.",
        "source": "Example.",
        "evidence": "expert_opinion",
        "verification": "judgement",
        "if_unknown": "hold",
    }
    response = author_client.post(url, fields)

    assert response.status_code == 302, response.content.decode()[:2000]
    usage = RuleSet.objects.get(pk=draft.pk).content["set_usage"]["PPGL"]
    assert ["prrt_lu177", "prrt.ppgl_fit"] in usage
