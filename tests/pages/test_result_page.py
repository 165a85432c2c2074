"""The result page: every option grouped by status with its intent, deciding reasons (outcome and
the patient's values), source and evidence, cautions and verification flags; one checklist of the
data to obtain; golden profiles posted through the form show the statuses the engine gives them."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from django.test import Client

from tests.conftest import KB_VERSION
from tests.pages.helpers import GOLDEN, form_data, golden, shown_options
from treatments import selectors
from treatments.models import Rule
from treatments.rules.engine import STATUS_ORDER
from treatments.rules.explain import STATUS_LABELS
from treatments.rules.profile import MODALITY_KEYS, PatientProfile

CASES = sorted(GOLDEN.glob("*.yaml"))


def result_html(client: Client, case: str) -> str:
    response = client.post("/check/", form_data(golden(case)["profile"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Treatment options for this patient</h1>" in html, "the form was not accepted"
    return html


def card(html: str, modality: str) -> str:
    start = html.index('<article class="option option-')
    start = html.index(f'id="option-{modality}"', start)
    return html[start : html.index("</article>", start)]


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_a_golden_patient_entered_through_the_form_shows_each_option_in_its_status_group(
    clinician_client: Client, path: Path
) -> None:
    case = golden(path.name)

    options = shown_options(result_html(clinician_client, path.name))

    assert sorted(options) == sorted(MODALITY_KEYS)
    for modality, expected in case["expect"].items():
        shown = options[modality]
        assert (shown.group, shown.status, shown.label) == (expected, expected, STATUS_LABELS[expected]), (
            modality
        )


def test_every_status_group_is_shown_in_order_with_its_meaning_and_count(clinician_client: Client) -> None:
    html = result_html(clinician_client, "34_missing_krenning_pnet")

    groups = re.findall(r'<section class="status-group status-group-([a-z_]+)"', html)
    assert groups == list(STATUS_ORDER)
    counts = Counter(
        selectors.eligibility(PatientProfile.model_validate(golden("34_missing_krenning_pnet")["profile"]))
        .statuses()
        .values()
    )
    for status in STATUS_ORDER:
        label = STATUS_LABELS[status]
        assert (
            f'<span class="status-text">{label}</span></span> <span class="count">({counts[status]})</span>'
            in html
        )
    assert ("No option has this status." in html) == (len(counts) < len(STATUS_ORDER))


def test_status_is_shown_by_words_and_icon_not_colour_alone(clinician_client: Client) -> None:
    prrt = card(result_html(clinician_client, "34_missing_krenning_pnet"), "prrt_lu177")

    badge = re.search(r'<span class="status status-needs_data">(.*?)</span></span>', prrt, re.S)
    assert badge
    assert '<svg class="icon"' in badge.group(1) and 'aria-hidden="true"' in badge.group(1)
    assert '<span class="status-text">Needs data' in badge.group(1)


def test_a_needs_data_option_names_its_missing_fact_and_the_unknown_rule(clinician_client: Client) -> None:
    prrt = card(result_html(clinician_client, "34_missing_krenning_pnet"), "prrt_lu177")

    assert '<span class="k">Data to obtain:</span> Krenning score' in prrt
    deciding = prrt[: prrt.index('<details class="all-rules">')]
    assert '<span class="outcome outcome-unknown">' in deciding
    assert "Krenning score ≥ 2" in deciding
    assert '<span class="value-unknown">Krenning score: unknown</span>' in deciding
    assert '<span class="k">Source:</span>' in deciding and '<span class="k">Evidence:</span>' in deciding
    assert '<span class="k">Intent:</span> Antiproliferative, Symptom control' in prrt


def test_a_not_suitable_option_shows_the_rule_not_met_with_the_patients_value(
    clinician_client: Client,
) -> None:
    surgery = card(result_html(clinician_client, "34_missing_krenning_pnet"), "surgery_curative")
    deciding = surgery[: surgery.index('<details class="all-rules">')]

    assert '<span class="outcome outcome-not_met">' in deciding
    assert "All known disease removable" in deciding
    assert "Resectable: no" in deciding
    assert "Unverified: check before release." in deciding  # surg_cur.resectable is recall


def test_every_rule_of_an_option_is_listed_with_its_outcome(
    clinician_client: Client, published: object
) -> None:
    prrt = card(result_html(clinician_client, "34_missing_krenning_pnet"), "prrt_lu177")
    deciding = prrt[: prrt.index('<details class="all-rules">')]
    others = prrt[prrt.index('<details class="all-rules">') :]

    rules = Rule.objects.published().filter(modality__key="prrt_lu177").count()
    assert deciding.count('<li class="reason') == 1
    assert others.count('<li class="reason') == rules - 1
    assert f"The other {rules - 1} rules for this option" in others


def test_cautions_are_listed_with_their_source(clinician_client: Client) -> None:
    ssta = card(result_html(clinician_client, "34_missing_krenning_pnet"), "ssta")

    cautions = ssta[ssta.index("Cautions</h4>") :]
    assert "<strong>Given before:</strong>" in cautions
    assert '<span class="k">Source:</span> judgement' in cautions


def test_an_unrecorded_pregnancy_is_a_not_checked_caution(clinician_client: Client) -> None:
    case = golden("34_missing_krenning_pnet")
    profile = {k: v for k, v in case["profile"].items() if k != "pregnant"}

    html = clinician_client.post("/check/", form_data(profile)).content.decode()

    # Contract 1.2: pregnancy is possible unless sex or childbearing potential rule it out.
    assert "Not checked: Pregnant is unknown, Sex is unknown, Childbearing potential is unknown." in card(
        html, "everolimus"
    )


def test_the_data_to_obtain_checklist_names_the_options_each_fact_would_decide(
    clinician_client: Client,
) -> None:
    html = clinician_client.post("/check/", {}).content.decode()
    checklist = html[html.index('<section class="data-to-obtain"') :]
    checklist = checklist[: checklist.index("</section>")]

    facts = re.findall(r'<li data-fact="([a-z0-9_]+)">', checklist)
    assert facts[:1] and len(facts) == len(set(facts))
    assert "disease_extent" in facts and "resectable" in facts
    item = checklist[checklist.index('data-fact="krenning_score"') :]
    item = item[: item.index("</li>")]
    assert '<a href="#option-prrt_lu177">Peptide-receptor radionuclide therapy' in item
    assert '<a class="try no-print" href="#id_krenning_score">' in item


def test_nothing_to_obtain_says_so(clinician_client: Client) -> None:
    html = result_html(clinician_client, "01_si_g2_progressive_nhs")

    assert "No unknown fact holds an option back." in html


def test_the_result_page_says_which_rule_set_decided_it_and_can_be_printed(clinician_client: Client) -> None:
    html = result_html(clinician_client, "01_si_g2_progressive_nhs")

    assert f"Evaluated with rule set <strong>version {KB_VERSION}</strong>" in html
    assert "data-print hidden>Print handout</button>" in html
    assert '<link rel="stylesheet" href="/static/css/print.css" media="print">' in html
    assert '<section class="print-only print-facts">' in html


def test_the_option_card_renders_a_verdict_on_its_own(published: object) -> None:
    """The include is reused by the MDT case summary: `verdict` is all it needs."""
    from django.template.loader import render_to_string

    from treatments import selectors
    from treatments.rules.profile import PatientProfile

    result = selectors.eligibility(
        PatientProfile.model_validate(golden("02_lung_progressive_nhs")["profile"])
    )
    prrt = result.verdict("prrt_lu177")

    html = render_to_string("treatments/includes/option_card.html", {"verdict": prrt, "heading_level": 2})

    assert '<h2 class="option-name" id="option-prrt_lu177-name">' in html
    assert '<span class="status-text">Trial only</span>' in html
    assert '<h3 class="sub-title">Why: the deciding rules</h3>' in html
    assert html.count('<li class="reason') >= 2
