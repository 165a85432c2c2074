"""The patient form: every fact of the contract, grouped, with units and allowed values; every fact
may stay unknown; server-side messages next to the fields, with what was entered kept."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from django.test import Client

from tests.pages.helpers import form_data, golden
from treatments.rules.profile import FACT_NAMES, GROUPS, PatientProfile, fact_kind


def get_form(client: Client) -> str:
    response = client.get("/check/")
    assert response.status_code == 200
    return response.content.decode()


def field_block(html: str, name: str) -> str:
    """The markup of one field: from its group wrapper to the next field."""
    start = html.index(f'id="id_{name}_group"')
    following = re.compile(r'id="id_[a-z0-9_]+_group"|</fieldset>').search(html, start + 10)
    return html[start : following.start() if following else len(html)]


def base_of(html: str) -> dict[str, object]:
    """The profile the result page carries for what-if (the hidden `base` field)."""
    match = re.search(r'<input type="hidden" name="base" value="([^"]*)"', html)
    assert match, "the result page holds the profile"
    return json.loads(unescape(match.group(1)))


def test_the_form_has_every_fact_of_the_contract(clinician_client: Client) -> None:
    html = get_form(clinician_client)

    for name in FACT_NAMES:
        # prior_therapy_details is entered as rows, one field per part of a detail
        field = f"{name}_0_modality" if fact_kind(name) == "records" else name
        assert f'name="{field}"' in html, name
    assert 'name="prior_therapies_known"' in html


def test_the_facts_are_grouped_as_a_clinician_thinks_about_a_case(clinician_client: Client) -> None:
    html = get_form(clinician_client)

    legends = re.findall(
        r'<fieldset class="fact-group[a-z -]*" id="group-[a-z_]+">\s*<legend[^>]*>([^<]+)</legend>', html
    )
    assert legends == [label for _, label in GROUPS]


@pytest.mark.parametrize("name", [n for n in FACT_NAMES if fact_kind(n) == "bool"])
def test_yes_no_facts_are_yes_no_unknown_radios_defaulting_to_unknown(
    clinician_client: Client, name: str
) -> None:
    html = get_form(clinician_client)

    assert f'type="checkbox" name="{name}"' not in html
    for value in ("yes", "no"):
        assert re.search(rf'<input type="radio" name="{name}" value="{value}"(?! [^>]*checked)[^>]*>', html)
    assert re.search(rf'<input type="radio" name="{name}" value="unknown"[^>]*checked', html)


def test_enumerated_facts_offer_their_values_and_unknown(clinician_client: Client) -> None:
    html = get_form(clinician_client)

    assert '<option value="" selected>Unknown</option>' in html  # primary site, functional syndrome
    assert '<option value="lung_bronchus">Lung or bronchus</option>' in html
    assert re.search(r'<input type="radio" name="differentiation" value=""[^>]*checked', html)
    assert re.search(r'<input type="radio" name="funding" value="nhs"[^>]*checked', html)


def test_numbers_show_unit_and_bounds_from_the_profile_model(clinician_client: Client) -> None:
    html = get_form(clinician_client)

    ki67 = field_block(html, "ki67_percent")
    assert '<span class="unit-label">(%)</span>' in ki67
    assert 'min="0"' in ki67 and 'max="100"' in ki67 and 'step="any"' in ki67
    assert "Allowed: 0 to 100 %." in ki67
    krenning = field_block(html, "krenning_score")
    assert 'min="0"' in krenning and 'max="4"' in krenning and 'step="1"' in krenning
    egfr = field_block(html, "egfr_ml_min")
    assert "(mL/min/1.73 m²)" in egfr
    lesion = field_block(html, "largest_liver_lesion_mm")
    assert "more than 0, up to 500 mm" in lesion


def test_every_control_has_a_label(clinician_client: Client) -> None:
    html = get_form(clinician_client)

    ids = re.findall(r'<(?:input|select)[^>]* id="([^"]+)"', html)
    labelled = set(re.findall(r'<label[^>]* for="([^"]+)"', html))
    assert ids and not [i for i in ids if i not in labelled]


def test_prior_therapies_offer_unknown_none_or_the_treatments_given(clinician_client: Client) -> None:
    html = get_form(clinician_client)

    assert re.search(r'name="prior_therapies_known" value="unknown"[^>]*checked', html)
    assert 'name="prior_therapies_known" value="none"' in html
    assert 'type="checkbox" name="prior_therapies" value="prrt_lu177"' in html
    assert "Peptide-receptor radionuclide therapy" in html


def test_an_empty_form_is_a_profile_of_unknowns(clinician_client: Client) -> None:
    response = clinician_client.post("/check/", {})

    assert response.status_code == 200
    assert base_of(response.content.decode()) == {"funding": "nhs"}


def test_yes_no_and_unknown_keep_their_meaning(clinician_client: Client) -> None:
    response = clinician_client.post(
        "/check/", {"resectable": "no", "pregnant": "yes", "liver_metastases": "unknown"}
    )

    html = response.content.decode()
    assert base_of(html) == {"resectable": False, "pregnant": True, "funding": "nhs"}
    # ... and round-trip into the what-if form as they were entered.
    assert re.search(r'name="resectable" value="no"[^>]*checked', html)
    assert re.search(r'name="pregnant" value="yes"[^>]*checked', html)
    assert re.search(r'name="liver_metastases" value="unknown"[^>]*checked', html)


def test_unknown_facts_are_shown_as_unknown_never_as_no(clinician_client: Client) -> None:
    html = clinician_client.post("/check/", {"resectable": "unknown"}).content.decode()

    start = html.index('<details class="facts-summary"')
    facts = html[start : html.index("</details>", start)]
    assert "<dt>Resectable</dt><dd>unknown</dd>" in facts
    assert "<dd>no</dd>" not in facts
    reasons = re.findall(r"Resectable: ([a-z]+)", html)
    assert reasons and set(reasons) == {"unknown"}


def test_prior_therapies_none_and_unknown_stay_different(clinician_client: Client) -> None:
    none = clinician_client.post("/check/", {"prior_therapies_known": "none"}).content.decode()
    unknown = clinician_client.post("/check/", {"prior_therapies_known": "unknown"}).content.decode()
    given = clinician_client.post(
        "/check/", {"prior_therapies_known": "given", "prior_therapies": ["ssta", "everolimus"]}
    ).content.decode()

    assert base_of(none)["prior_therapies"] == []
    assert "prior_therapies" not in base_of(unknown)
    assert base_of(given)["prior_therapies"] == ["ssta", "everolimus"]
    assert "<dt>Prior therapies</dt><dd>none</dd>" in none
    assert "<dt>Prior therapies</dt><dd>unknown</dd>" in unknown
    assert "<dt>Prior therapies</dt><dd>Somatostatin analogue" in given
    assert re.search(r'name="prior_therapies_known" value="none"[^>]*checked', none)


def test_a_value_out_of_bounds_gets_a_message_next_to_the_field_and_is_kept(clinician_client: Client) -> None:
    response = clinician_client.post(
        "/check/", {"ki67_percent": "150", "primary_site": "pancreas", "resectable": "no"}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "There is a problem with the facts entered" in html
    assert '<a href="#id_ki67_percent">Ki-67 index must be at most 100 %</a>' in html
    ki67 = field_block(html, "ki67_percent")
    assert (
        '<p class="field-error" id="id_ki67_percent_error"><span>Error: Ki-67 index must be at most 100 %'
        in ki67
    )
    assert 'value="150"' in ki67 and 'aria-invalid="true"' in ki67
    assert 'aria-describedby="id_ki67_percent_hint id_ki67_percent_error"' in ki67
    assert '<option value="pancreas" selected>' in html
    assert re.search(r'name="resectable" value="no"[^>]*checked', html)
    assert "<title>Error: Check a patient" in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"krenning_score": "2.5"}, "krenning_score", "Krenning score must be a whole number"),
        ({"egfr_ml_min": "lots"}, "egfr_ml_min", "eGFR must be a number"),
        (
            {"largest_liver_lesion_mm": "0"},
            "largest_liver_lesion_mm",
            "Largest liver lesion must be more than 0 mm",
        ),
        ({"age_years": "-1"}, "age_years", "Age must be at least 0 years"),
        ({"ecog": "5"}, "ecog", "ECOG performance status must be at most 4"),
        ({"egfr_ml_min": "nan"}, "egfr_ml_min", "eGFR must be a number"),
        ({"bilirubin_umol_l": "1e999"}, "bilirubin_umol_l", "Bilirubin must be a number"),
        ({"primary_site": "moon"}, "primary_site", "Primary site: choose one of the listed values"),
        ({"resectable": "maybe"}, "resectable", "Resectable: choose yes, no or unknown"),
    ],
)
def test_bad_values_get_readable_messages_next_to_their_field(
    clinician_client: Client, data: dict[str, str], field: str, message: str
) -> None:
    response = clinician_client.post("/check/", data)

    assert response.status_code == 400
    html = response.content.decode()
    assert message in field_block(html, field) if field != "resectable" else message in html
    assert "Treatment options for this patient" not in html


def test_ticked_treatments_need_the_matching_choice(clinician_client: Client) -> None:
    html = clinician_client.post(
        "/check/", {"prior_therapies_known": "none", "prior_therapies": ["ssta"]}
    ).content.decode()

    assert "You ticked treatments but chose “none”" in html
    assert re.search(r'name="prior_therapies" value="ssta"[^>]*checked', html)

    html = clinician_client.post("/check/", {"prior_therapies_known": "given"}).content.decode()
    assert "Tick the treatments already given" in html


def test_an_unknown_treatment_key_is_refused(clinician_client: Client) -> None:
    html = clinician_client.post(
        "/check/", {"prior_therapies_known": "given", "prior_therapies": ["leeches"]}
    ).content.decode()

    assert "leeches is not a treatment in the catalogue" in html


def test_rubbish_in_every_field_never_gives_a_server_error(clinician_client: Client) -> None:
    data = {name: "\x00<script>" for name in [*FACT_NAMES, "prior_therapies_known"]}

    response = clinician_client.post("/check/", data)

    assert response.status_code == 400
    body = response.content.decode().split("</head>", 1)[1]
    assert "<script>" not in body


def test_a_golden_profile_posted_through_the_form_validates_to_the_same_profile(
    clinician_client: Client,
) -> None:
    case = golden("01_si_g2_progressive_nhs")

    html = clinician_client.post("/check/", form_data(case["profile"])).content.decode()

    assert PatientProfile.model_validate(base_of(html)) == PatientProfile.model_validate(case["profile"])
