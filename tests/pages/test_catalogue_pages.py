"""The catalogue: every option by category with intent, agents, description and rules in plain
English (source, evidence, verification); filter by category and search; a page per option."""

from __future__ import annotations

import re

from django.test import Client
from django.utils.html import escape

from treatments.models import Rule
from treatments.rules.document import CATEGORY_LABELS
from treatments.rules.profile import MODALITY_KEYS


def category_headings(html: str) -> list[str]:
    return re.findall(r'<h2 id="cat-[a-z_]+-title">([^<]+)</h2>', html)


def modality_keys(html: str) -> list[str]:
    return re.findall(r'<article class="modality-card" id="modality-([a-z0-9_]+)"', html)


def test_the_catalogue_groups_every_option_by_category_in_order(clinician_client: Client) -> None:
    html = clinician_client.get("/catalogue/").content.decode()

    assert category_headings(html) == [label.replace("'", "&#x27;") for label in CATEGORY_LABELS.values()]
    assert sorted(modality_keys(html)) == sorted(MODALITY_KEYS)
    assert f"Showing {len(MODALITY_KEYS)} of {len(MODALITY_KEYS)} options." in html


def test_each_option_shows_intent_agents_description_and_its_rules(clinician_client: Client) -> None:
    html = clinician_client.get("/catalogue/").content.decode()
    card = html[html.index('id="modality-prrt_lu177"') :]
    card = card[: card.index("</article>")]

    assert "<dt>Intent</dt><dd>Antiproliferative, Symptom control</dd>" in card
    assert "<dt>Agents and regimens</dt>" in card and "7.4 GBq" in card
    assert "intravenous radiolabelled somatostatin analogue" in card
    assert "Rules in plain English (" in card
    assert '<span class="k">When:</span> Krenning score ≥ 2' in card
    assert '<span class="k">Source:</span>' in card and '<span class="k">Evidence:</span>' in card


def test_filtering_by_category_keeps_only_that_category(clinician_client: Client) -> None:
    html = clinician_client.get("/catalogue/?category=radionuclide_therapy").content.decode()

    assert category_headings(html) == ["Radionuclide therapy"]
    assert modality_keys(html) == ["prrt_lu177"]
    assert f"Showing 1 of {len(MODALITY_KEYS)} options." in html
    assert '<option value="radionuclide_therapy" selected>' in html


def test_searching_for_prrt_finds_the_radionuclide_therapy(clinician_client: Client) -> None:
    html = clinician_client.get("/catalogue/?q=PRRT").content.decode()

    assert "prrt_lu177" in modality_keys(html)
    assert 'value="PRRT"' in html


def test_search_words_must_all_match_and_can_be_combined_with_a_category(clinician_client: Client) -> None:
    html = clinician_client.get("/catalogue/?q=lanreotide&category=somatostatin_analogue").content.decode()

    assert modality_keys(html) == ["ssta"]


def test_a_search_without_a_match_says_so(clinician_client: Client) -> None:
    html = clinician_client.get("/catalogue/?q=homeopathy").content.decode()

    assert modality_keys(html) == []
    assert "No option matches." in html
    assert f"Showing 0 of {len(MODALITY_KEYS)} options." in html


def test_an_unknown_category_is_reported_and_every_option_shown(clinician_client: Client) -> None:
    response = clinician_client.get("/catalogue/?category=astrology")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Choose one of the listed categories" in html
    assert len(modality_keys(html)) == len(MODALITY_KEYS)


def test_the_option_page_shows_every_rule_by_kind_with_source_and_evidence(clinician_client: Client) -> None:
    response = clinician_client.get("/catalogue/prrt_lu177/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Peptide-receptor radionuclide therapy" in html
    for kind in ("indication", "requirement", "contraindication", "trial_only", "caution"):
        assert f'<h3 id="kind-{kind}">' in html
    assert "<code>prrt.uptake</code>" in html
    assert "NETTER-1" in html
    assert "checked when known" in html  # common.pregnancy: if_unknown note


def test_unverified_rules_are_flagged_with_their_verification_note(clinician_client: Client) -> None:
    stored = Rule.objects.published().get(modality__key="surgery_curative", rule_id="surg_cur.resectable")
    assert stored.verification == "recall"

    html = clinician_client.get("/catalogue/surgery_curative/").content.decode()
    rule = html[html.index('id="rule-surgery_curative-surg_curresectable"') :]
    rule = rule[: rule.index("</li>")]

    assert "Unverified: check before release." in rule
    assert escape(stored.verification_note) in rule


def test_every_unverified_rule_of_the_catalogue_is_flagged(clinician_client: Client) -> None:
    unverified = Rule.objects.published().filter(verification__in=["recall", "to_be_confirmed"]).count()

    html = clinician_client.get("/catalogue/").content.decode()

    assert unverified > 0
    assert html.count("Unverified: check before release.") == unverified


def test_verified_rules_are_not_flagged(clinician_client: Client) -> None:
    html = clinician_client.get("/catalogue/prrt_lu177/").content.decode()
    rule = html[html.index('id="rule-prrt_lu177-prrtuptake"') :]
    rule = rule[: rule.index("</li>")]

    assert "Unverified" not in rule
