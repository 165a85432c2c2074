"""What-if: change facts on the result page and re-evaluate; the options whose status changed are
listed with why. htmx gets the result region only; without JavaScript the same post gets the page."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

from django.test import Client

from tests.pages.helpers import form_data, golden, shown_options
from treatments.forms import encode_profile
from treatments.rules.profile import PatientProfile

MISSING_KRENNING = golden("34_missing_krenning_pnet")["profile"]


def whatif_data(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """What the what-if form posts: the current profile (hidden) and the facts, some changed."""
    return {
        "base": encode_profile(PatientProfile.model_validate(base)),
        **form_data({**base, **changes}),
    }


def test_the_result_page_holds_the_profile_and_a_prefilled_what_if_form(clinician_client: Client) -> None:
    html = clinician_client.post("/check/", form_data(MISSING_KRENNING)).content.decode()

    base = re.search(r'<input type="hidden" name="base" value="([^"]*)"', html)
    assert base and PatientProfile.model_validate(json.loads(unescape(base.group(1)))) == PatientProfile(
        **MISSING_KRENNING
    )
    form = html[html.index('<section class="whatif"') :]
    assert '<form method="post" action="/check/what-if/#result-region"' in form
    assert 'hx-post="/check/what-if/" hx-target="#result-region"' in form
    assert re.search(r'name="primary_site"[^>]*>.*?<option value="pancreas" selected>', form, re.S)
    assert re.search(r'<input type="number" name="krenning_score"(?![^>]*value=)[^>]*>', form)  # unknown


def test_what_if_without_javascript_returns_the_full_page_with_what_changed(clinician_client: Client) -> None:
    response = clinician_client.post("/check/what-if/", whatif_data(MISSING_KRENNING, krenning_score=3))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith("<!doctype html>")
    panel = html[html.index('<section class="what-changed"') :]
    panel = panel[: panel.index("</section>")]
    assert "<strong>Krenning score</strong> unknown" in panel and "3</span>" in panel
    assert "1 option changed its status:" in panel
    assert 'data-modality="prrt_lu177"' in panel
    assert '<span class="status-text">Needs data</span>' in panel
    assert '<span class="status-text">Candidate</span>' in panel
    assert "Uptake at least equal to liver" in panel  # the rule whose outcome changed
    assert shown_options(html)["prrt_lu177"].group == "candidate"
    assert response["Vary"].count("HX-Request") == 1


def test_what_if_with_htmx_returns_only_the_result_region(clinician_client: Client) -> None:
    response = clinician_client.post(
        "/check/what-if/", whatif_data(MISSING_KRENNING, krenning_score=1), headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and '<header class="site-header">' not in html
    assert html.lstrip().startswith('<p class="result-meta">')
    assert '<section class="what-changed"' in html
    assert shown_options(html)["prrt_lu177"].group == "not_suitable"
    assert "Vary" in response and "HX-Request" in response["Vary"]


def posted_base(html: str) -> str:
    base = re.search(r'<input type="hidden" name="base" value="([^"]*)"', html)
    assert base
    return unescape(base.group(1))


def test_the_original_check_stays_the_base_of_every_what_if(clinician_client: Client) -> None:
    """UX review, Journey 1: each what-if became the new baseline, so putting a value back showed a
    change rather than the original patient. Every what-if is now compared with the original."""
    html = clinician_client.post(
        "/check/what-if/", whatif_data(MISSING_KRENNING, krenning_score=3), headers={"HX-Request": "true"}
    ).content.decode()

    assert "krenning_score" not in json.loads(posted_base(html))  # still the original: unknown
    assert re.search(r'name="krenning_score" value="3"', html)  # the form shows the what-if

    second = {**whatif_data(MISSING_KRENNING, krenning_score=1), "base": posted_base(html)}
    html = clinician_client.post("/check/what-if/", second, headers={"HX-Request": "true"}).content.decode()
    panel = html[html.index('<section class="what-changed"') :]
    assert '<h2 id="what-changed-title" tabindex="-1">What changed from the original check</h2>' in panel
    assert "<strong>Krenning score</strong> unknown" in panel  # from the original, not from 3

    back = {**whatif_data(MISSING_KRENNING), "base": posted_base(html)}
    html = clinician_client.post("/check/what-if/", back, headers={"HX-Request": "true"}).content.decode()
    assert "No fact was changed." in html and "No option changed status." in html


def test_reset_to_original_links_to_the_original_result(clinician_client: Client) -> None:
    html = clinician_client.post(
        "/check/what-if/", whatif_data(MISSING_KRENNING, krenning_score=3)
    ).content.decode()

    reset = re.search(r'<a href="([^"]*)" class="button button-secondary" id="reset-original">', html)
    assert reset
    original = clinician_client.get(unescape(reset.group(1)))
    assert original.status_code == 200
    page = original.content.decode()
    assert '<section class="what-changed"' not in page and 'id="reset-original"' not in page
    assert shown_options(page)["prrt_lu177"].group == "needs_data"
    assert PatientProfile.model_validate(json.loads(posted_base(page))) == PatientProfile(**MISSING_KRENNING)


def test_a_fresh_result_offers_no_reset(clinician_client: Client) -> None:
    html = clinician_client.post("/check/", form_data(MISSING_KRENNING)).content.decode()

    assert 'id="result-link"' in html and 'id="reset-original"' not in html


def test_the_what_if_shows_the_original_and_the_what_if_option_by_option(clinician_client: Client) -> None:
    html = clinician_client.post(
        "/check/what-if/", whatif_data(MISSING_KRENNING, krenning_score=3)
    ).content.decode()

    table = html[html.index('<table class="data-table comparison-table" id="comparison-table">') :]
    table = table[: table.index("</table>")]
    assert "<caption>Every option in the original check and in this what-if</caption>" in table
    assert '<th scope="col">Original check</th><th scope="col">What-if</th>' in table
    rows = dict(
        re.findall(
            r'<tr class="comparison-row[^"]*" data-modality="([a-z0-9_]+)" data-changed="(\w+)">', table
        )
    )
    assert len(rows) == len(shown_options(html))  # every option, not only the changed ones
    assert rows["prrt_lu177"] == "true" and list(rows.values()).count("true") == 1
    prrt = table[table.index('data-modality="prrt_lu177"') :]
    prrt = prrt[: prrt.index("</tr>")]
    assert re.search(
        r'<th scope="row">Peptide-receptor[^<]*<span class="changed-flag">Changed</span></th>', prrt
    )
    assert "Uptake at least equal to liver" in prrt  # the rule that made the difference


def test_a_what_if_that_changes_nothing_says_so(clinician_client: Client) -> None:
    html = clinician_client.post("/check/what-if/", whatif_data(MISSING_KRENNING)).content.decode()

    assert "No fact was changed." in html
    assert "No option changed status." in html


def test_several_changes_at_once_list_every_option_that_changed(clinician_client: Client) -> None:
    html = clinician_client.post(
        "/check/what-if/", whatif_data(MISSING_KRENNING, krenning_score=1, sstr_imaging="negative")
    ).content.decode()

    panel = html[
        html.index('<section class="what-changed"') : html.index("</section>", html.index("what-changed"))
    ]
    assert "<strong>SSTR imaging</strong>" in panel and "<strong>Krenning score</strong>" in panel
    changed = re.findall(r'<li class="status-change" data-modality="([a-z0-9_]+)">', panel)
    assert "prrt_lu177" in changed and "ssta" in changed


def test_an_invalid_change_keeps_the_previous_result_and_shows_the_message(clinician_client: Client) -> None:
    response = clinician_client.post(
        "/check/what-if/", whatif_data(MISSING_KRENNING, ki67_percent=250), headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "The what-if facts need attention" in html
    assert '<a href="#id_ki67_percent">Ki-67 index must be at most 100 %</a>' in html
    assert 'value="250"' in html
    assert '<section class="what-changed"' not in html
    assert shown_options(html)["prrt_lu177"].group == "needs_data"


def test_a_tampered_base_profile_is_a_400_not_a_server_error(clinician_client: Client) -> None:
    for base in ("not json", "[]", '{"ki67_percent": 900}', '{"shoe_size": 44}', "{" * 5000):
        data = {**whatif_data(MISSING_KRENNING), "base": base}
        response = clinician_client.post("/check/what-if/", data)
        assert response.status_code == 400, base
        assert "could not be read" in response.content.decode()

    data = whatif_data(MISSING_KRENNING)
    del data["base"]
    assert clinician_client.post("/check/what-if/", data).status_code == 400


def test_an_invalid_change_without_javascript_is_a_400_with_the_message(clinician_client: Client) -> None:
    response = clinician_client.post("/check/what-if/", whatif_data(MISSING_KRENNING, ki67_percent=250))

    assert response.status_code == 400
    assert '<a href="#id_ki67_percent">Ki-67 index must be at most 100 %</a>' in response.content.decode()
