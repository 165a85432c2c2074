"""The patient options sheet: the options discussed, each in plain English from the knowledge base
(every modality has a text for patients), printable as HTML and as an A4 PDF, without statuses or
rules; the options asked for are checked like any other input."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import User
from django.test import Client
from pypdf import PdfReader

from tests.conftest import KNOWLEDGE_BASE
from tests.pages.mdt import create_case, decided_at_a_meeting, evaluated_case, text
from treatments.models import AuditEvent, Case, Modality
from treatments.rules.document import parse_data
from treatments.rules.vocabulary import MODALITY_KEYS

pytestmark = pytest.mark.django_db
JARGON = (
    "needs_data",
    "trial_only",
    "not_indicated",
    "Candidate",
    "Krenning",
    "eGFR",
    "SmPC",
    "NICE",
    "ENETS",
)


def test_every_modality_has_a_plain_english_text_for_patients() -> None:
    content = yaml.safe_load(KNOWLEDGE_BASE.read_text(encoding="utf-8"))

    texts = {modality["key"]: modality.get("patient_summary", "") for modality in content["modalities"]}

    assert set(texts) == set(MODALITY_KEYS)
    for key, summary in texts.items():
        words = summary.split()
        assert 40 <= len(words) <= 120, (key, len(words))
        assert not any(term in summary for term in JARGON), key
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", summary) if s]
        assert max(len(s.split()) for s in sentences) <= 40, (key, "a sentence too long for a patient")


def test_the_patient_text_and_page_are_optional_and_a_page_must_be_https() -> None:
    content = yaml.safe_load(KNOWLEDGE_BASE.read_text(encoding="utf-8"))
    del content["modalities"][0]["patient_summary"]
    assert parse_data(content).modalities[0].patient_summary == ""

    content["modalities"][0]["patient_page_url"] = "http://intranet.example/net"
    with pytest.raises(Exception, match="patient_page_url"):
        parse_data(content)


@pytest.fixture
def case(clinician: User, published: Any) -> Case:
    return evaluated_case(clinician, "NET-8001", "01_si_g2_progressive_nhs")


def test_the_sheet_explains_the_options_to_consider_now_by_default_in_plain_english(
    clinician_client: Client, case: Case
) -> None:
    response = clinician_client.get(f"/cases/{case.pk}/patient-sheet/")

    assert response.status_code == 200
    html = response.content.decode()
    sheet = text(html[html.index('<article class="patient-sheet"') :])
    assert "Your treatment options" in sheet and "It is not a decision" in sheet
    ssta = Modality.objects.get(rule_set__status="published", key="ssta")
    assert ssta.patient_summary and " ".join(ssta.patient_summary.split()) in sheet
    for term in ("Candidate", "Needs data", "Not suitable", "Source:"):
        assert term not in sheet, term
    assert "Questions you may want to ask" in sheet
    event = AuditEvent.objects.get(action="summary.export")
    assert event.payload == {"format": "patient-html"}


def test_the_sheet_starts_with_the_options_the_mdt_chose(
    clinician_client: Client, clinician: User, case: Case
) -> None:
    decided_at_a_meeting(clinician, case, ["prrt_lu177"], "PRRT")

    html = clinician_client.get(f"/cases/{case.pk}/patient-sheet/").content.decode()

    headings = re.findall(r'<h2 id="patient-option-([a-z_0-9]+)">', html)
    assert headings == ["prrt_lu177"]
    assert "Discussed at" in text(html)


def test_the_clinician_chooses_the_options_and_the_pdf_says_the_same(
    clinician_client: Client, case: Case
) -> None:
    query = "option=active_surveillance&option=clinical_trial"

    html = clinician_client.get(f"/cases/{case.pk}/patient-sheet/?{query}").content.decode()
    document = clinician_client.get(f"/cases/{case.pk}/patient-sheet.pdf?{query}")

    assert sorted(re.findall(r"<h2 id=\"patient-option-([a-z_]+)\">", html)) == [
        "active_surveillance",
        "clinical_trial",
    ]
    assert f"/cases/{case.pk}/patient-sheet.pdf?option=clinical_trial&amp;option=active_surveillance" in html
    assert document.status_code == 200 and document["Content-Type"] == "application/pdf"
    assert document["Content-Disposition"] == 'attachment; filename="netcare-patient-options-NET-8001.pdf"'
    reader = PdfReader(io.BytesIO(document.content))
    words = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert "Your treatment options" in words and "Active surveillance" in words and "research study" in words
    assert "Everolimus" not in words and "Candidate" not in words
    assert len(reader.pages) <= 2
    assert AuditEvent.objects.filter(payload={"format": "patient-pdf"}).exists()


@pytest.mark.parametrize("query", ["option=nope", "option=", "option=ssta&option=%00", "chosen=1"])
def test_an_unknown_or_missing_option_is_a_message_by_the_field(
    clinician_client: Client, case: Case, query: str
) -> None:
    for url in (f"/cases/{case.pk}/patient-sheet/?{query}", f"/cases/{case.pk}/patient-sheet.pdf?{query}"):
        response = clinician_client.get(url)
        assert response.status_code == 400, url
        page = text(response.content.decode())
        assert "There is a problem" in page
        assert "is not an option of the knowledge base" in page or "Choose at least one option" in page
    assert not AuditEvent.objects.filter(action="summary.export").exists()


def test_a_case_not_evaluated_gets_an_empty_sheet_to_fill_by_choosing(
    clinician_client: Client, clinician: User, published: Any
) -> None:
    case = create_case(clinician, "NET-8002")

    page = text(clinician_client.get(f"/cases/{case.pk}/patient-sheet/").content.decode())

    assert "No option was chosen for this sheet." in page


def test_only_roles_that_export_summaries_may_make_it(
    author_client: Client, client: Client, case: Case
) -> None:
    for url in (f"/cases/{case.pk}/patient-sheet/", f"/cases/{case.pk}/patient-sheet.pdf"):
        assert author_client.get(url).status_code == 403
        assert client.get(url)["Location"].startswith("/login/")


# --- the unit's patient-information page: NETCARE_PATIENT_INFO_URL --------------------------------


def test_without_a_patient_page_the_sheet_shows_no_link(
    settings: Any, clinician_client: Client, case: Case
) -> None:
    settings.NETCARE_PATIENT_INFO_URL = ""

    html = clinician_client.get(f"/cases/{case.pk}/patient-sheet/?option=ssta").content.decode()

    assert "More about it from our unit" not in html and 'class="patient-link"' not in html


def test_the_setting_links_each_option_to_the_units_page_on_screen_and_in_the_pdf(
    settings: Any, clinician_client: Client, case: Case
) -> None:
    settings.NETCARE_PATIENT_INFO_URL = "https://net.trust.example/patients/{modality}"
    query = "option=ssta&option=prrt_lu177"

    html = clinician_client.get(f"/cases/{case.pk}/patient-sheet/?{query}").content.decode()
    document = clinician_client.get(f"/cases/{case.pk}/patient-sheet.pdf?{query}").content

    for key in ("ssta", "prrt_lu177"):
        url = f"https://net.trust.example/patients/{key}"
        assert f'<a href="{url}">{url}</a>' in html
        assert url in " ".join(page.extract_text() for page in PdfReader(io.BytesIO(document)).pages)


def test_the_knowledge_bases_own_page_for_an_option_comes_before_the_setting(settings: Any) -> None:
    from treatments.views.context import patient_page

    settings.NETCARE_PATIENT_INFO_URL = "https://net.trust.example/patients/{modality}"
    own = Modality(key="ssta", patient_page_url="https://net.trust.example/leaflets/somatostatin-analogues")

    assert patient_page(own) == "https://net.trust.example/leaflets/somatostatin-analogues"
    assert patient_page(Modality(key="everolimus")) == "https://net.trust.example/patients/everolimus"
    settings.NETCARE_PATIENT_INFO_URL = ""
    assert patient_page(Modality(key="everolimus")) == ""


@pytest.mark.parametrize(
    "raw", ["http://net.trust.example/{modality}", "https://net.trust.example/{case}", "https://x/{", "a b"]
)
def test_a_patient_page_setting_that_is_not_https_with_only_the_option_is_refused(raw: str) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from netcare.settings import patient_info_url

    with pytest.raises(ImproperlyConfigured, match="NETCARE_PATIENT_INFO_URL"):
        patient_info_url(raw)
    assert patient_info_url("https://net.trust.example/{modality}") == "https://net.trust.example/{modality}"
    assert patient_info_url("") == ""
