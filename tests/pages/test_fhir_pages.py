"""The FHIR pages: "Import from FHIR" on a case (upload, preview with a checkbox per fact, apply)
and "New case from FHIR"; the case, evaluation and summary pages show each fact's source and date."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from treatments import services
from treatments.inputs import CaseCreate
from treatments.models import AuditEvent, Case

BUNDLES = Path(__file__).resolve().parents[2] / "fixtures" / "fhir"


def upload(name: str = "ex-si-net-g2.json", data: dict[str, Any] | None = None) -> SimpleUploadedFile:
    raw = json.dumps(data).encode() if data is not None else (BUNDLES / name).read_bytes()
    return SimpleUploadedFile(name, raw, content_type="application/fhir+json")


@pytest.fixture
def case(clinician: User, published: Any) -> Case:
    data = CaseCreate.model_validate(
        {
            "hospital_reference": "FHIR-PAGE-1",
            "referring_clinician": "Dr Ada Lovelace",
            "question": "Next line?",
            "profile": {"primary_site": "small_intestine"},
        }
    )
    return services.case_create(actor=clinician, data=data)


def preview(client: Client, case: Case, **extra: Any) -> Any:
    return client.post(
        f"/cases/{case.pk}/fhir-import/",
        {"step": "preview", "bundle": upload(), "as_of": "2026-11-20", **extra},
    )


def test_the_case_page_links_to_the_import(clinician_client: Client, case: Case) -> None:
    page = clinician_client.get(f"/cases/{case.pk}/").content.decode()
    assert f'href="/cases/{case.pk}/fhir-import/"' in page


def test_the_preview_shows_each_fact_with_source_date_and_a_checkbox(
    clinician_client: Client, case: Case
) -> None:
    before = AuditEvent.objects.count()
    answer = preview(clinician_client, case)
    assert answer.status_code == 200
    page = answer.content.decode()
    assert 'name="accept" value="ecog" id="accept-ecog" checked' in page
    assert 'value="primary_resected" id="accept-primary_resected">' in page  # a proposal: unticked
    assert 'value="primary_site" id="accept-primary_site">' in page  # the same value: unticked
    assert "Observation/egfr" in page and "2026-11-10" in page and "LOINC 98979-8" in page
    assert "old_pathology" in page
    assert AuditEvent.objects.filter(action="case.fhir_import").count() == 0
    assert AuditEvent.objects.count() >= before


def test_applying_the_ticked_facts_imports_them_with_their_sources(
    clinician_client: Client, case: Case
) -> None:
    page = preview(clinician_client, case).content.decode()
    bundle = (BUNDLES / "ex-si-net-g2.json").read_text(encoding="utf-8")
    assert "pt-si-g2" in page
    answer = clinician_client.post(
        f"/cases/{case.pk}/fhir-import/",
        {
            "step": "apply",
            "bundle": bundle,
            "version": case.version,
            "as_of": "2026-11-20",
            "accept": ["ecog", "egfr_ml_min", "primary_resected"],
        },
    )
    assert answer.status_code == 302
    case.refresh_from_db()
    assert (case.profile["ecog"], case.profile["egfr_ml_min"], case.profile["primary_resected"]) == (
        1,
        75.0,
        True,
    )
    detail = clinician_client.get(f"/cases/{case.pk}/").content.decode()
    assert "from FHIR Observation/egfr (LOINC 98979-8), 2026-11-10" in detail
    assert "proposed from FHIR, confirmed Procedure/resection" in detail


def test_an_import_over_a_newer_version_is_refused_with_the_preview_kept(
    clinician_client: Client, case: Case, clinician: User
) -> None:
    seen = case.version
    services.case_update(
        actor=clinician,
        case=case,
        data=services.cases.CaseChange.model_validate({"version": seen, "question": "Changed"}),
    )
    bundle = (BUNDLES / "ex-si-net-g2.json").read_text(encoding="utf-8")
    answer = clinician_client.post(
        f"/cases/{case.pk}/fhir-import/",
        {"step": "apply", "bundle": bundle, "version": seen, "as_of": "2026-11-20", "accept": ["ecog"]},
    )
    assert answer.status_code == 409
    assert "since you opened it" in answer.content.decode()
    case.refresh_from_db()
    assert "ecog" not in case.profile


def test_a_bundle_that_is_not_valid_fhir_is_refused_by_the_file_field(
    clinician_client: Client, case: Case
) -> None:
    data = json.loads((BUNDLES / "ex-si-net-g2.json").read_text(encoding="utf-8"))
    data["entry"][0]["resource"]["deceasedBoolean"] = True
    answer = clinician_client.post(
        f"/cases/{case.pk}/fhir-import/", {"step": "preview", "bundle": upload(data=data)}
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "deceased" in page and "Bundle.entry[0].resource.deceasedBoolean" in page


def test_a_file_that_is_not_json_is_refused(clinician_client: Client, case: Case) -> None:
    bad = SimpleUploadedFile("x.json", b"<Bundle/>", content_type="application/xml")
    answer = clinician_client.post(f"/cases/{case.pk}/fhir-import/", {"step": "preview", "bundle": bad})
    assert answer.status_code == 400
    assert "not valid JSON" in answer.content.decode()


def test_a_rule_author_may_not_import(author_client: Client, case: Case) -> None:
    assert author_client.get(f"/cases/{case.pk}/fhir-import/").status_code == 403


# --- new case from FHIR -----------------------------------------------------------------------


def with_identifiers(**patient: Any) -> dict[str, Any]:
    data = json.loads((BUNDLES / "ex-panc-nec-g3.json").read_text(encoding="utf-8"))
    data["entry"][0]["resource"].update(patient)
    return data


NHS = {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "943 476 5919"}
MRN = {
    "system": "https://ehr.example.nhs.uk/mrn",
    "value": "RX1-204518",
    "type": {"coding": [{"code": "MR"}]},
}


def new_case(client: Client, data: dict[str, Any], **fields: Any) -> Any:
    form = {
        "bundle": upload(data=data),
        "referring_clinician": "Dr Khan",
        "question": "First line?",
        "as_of": "2026-11-20",
    }
    return client.post("/cases/new/fhir/", {**form, **fields})


def test_a_new_case_takes_reference_nhs_number_and_facts_from_the_bundle(clinician_client: Client) -> None:
    answer = new_case(clinician_client, with_identifiers(identifier=[NHS, MRN]))
    assert answer.status_code == 302, answer.content.decode()[:2000]
    case = Case.objects.get(hospital_reference="RX1-204518")
    assert case.nhs_number == "9434765919"
    assert case.profile["differentiation"] == "poorly"
    assert "disease_status" not in case.profile  # a proposal is never set without a clinician
    assert case.fact_sources["bilirubin_umol_l"]["sources"][0]["original"]["unit"] == "mg/dL"


def test_an_invalid_nhs_number_in_the_patient_is_refused_by_name(clinician_client: Client) -> None:
    wrong = {**NHS, "value": "9434765918"}
    answer = new_case(clinician_client, with_identifiers(identifier=[wrong, MRN]))
    assert answer.status_code == 400
    assert "NHS number of the Patient" in answer.content.decode()
    assert not Case.objects.filter(hospital_reference="RX1-204518").exists()


def test_without_a_hospital_identifier_the_reference_must_be_typed(clinician_client: Client) -> None:
    answer = new_case(clinician_client, with_identifiers())
    assert answer.status_code == 400
    assert "Hospital reference (from the Patient)" in answer.content.decode()
    assert new_case(clinician_client, with_identifiers(), hospital_reference="TYPED-1").status_code == 302


def test_a_taken_reference_is_refused(clinician_client: Client, case: Case) -> None:
    answer = new_case(clinician_client, with_identifiers(), hospital_reference=case.hospital_reference)
    assert answer.status_code == 400
    assert "already exists" in answer.content.decode()


# --- sources on the evaluation and summary ----------------------------------------------------


def test_the_evaluation_and_summary_show_the_frozen_source_and_date(
    clinician_client: Client, case: Case
) -> None:
    bundle = (BUNDLES / "ex-si-net-g2.json").read_text(encoding="utf-8")
    clinician_client.post(
        f"/cases/{case.pk}/fhir-import/",
        {
            "step": "apply",
            "bundle": bundle,
            "version": case.version,
            "as_of": "2026-11-20",
            "accept": ["ki67_percent"],
        },
    )
    assert clinician_client.post(f"/cases/{case.pk}/evaluate/").status_code in (302, 303)
    evaluation = case.evaluations.get()
    page = clinician_client.get(f"/cases/{case.pk}/evaluations/{evaluation.pk}/").content.decode()
    assert "from FHIR Observation/ki67 (LOINC 29593-1), 2021-05-20" in page
    summary = clinician_client.get(f"/cases/{case.pk}/summary/").content.decode()
    assert "from FHIR Observation/ki67 (LOINC 29593-1), 2021-05-20" in summary
    # The sheet names the record's sources only: typed facts (the primary site) carry no line there,
    # to keep it to two pages; the case and evaluation pages show who typed them.
    assert "entered by" not in summary


def test_the_pdf_summary_shows_source_and_date(clinician_client: Client, case: Case) -> None:
    import io

    from pypdf import PdfReader

    bundle = (BUNDLES / "ex-si-net-g2.json").read_text(encoding="utf-8")
    clinician_client.post(
        f"/cases/{case.pk}/fhir-import/",
        {
            "step": "apply",
            "bundle": bundle,
            "version": case.version,
            "as_of": "2026-11-20",
            "accept": ["ecog"],
        },
    )
    clinician_client.post(f"/cases/{case.pk}/evaluate/")
    pdf = clinician_client.get(f"/cases/{case.pk}/summary.pdf")
    assert pdf.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    squeezed = "".join(text.split())  # the PDF wraps the narrow fact column
    assert "fromFHIRObservation/ecog(LOINC89247-1),2026-11-10" in squeezed


# --- patient matching by NHS number (hazard H-11) -----------------------------------------------


def bundle_with_nhs_number(number: str) -> dict[str, Any]:
    data = json.loads((BUNDLES / "ex-si-net-g2.json").read_text(encoding="utf-8"))
    data["entry"][0]["resource"]["identifier"] = [{"system": NHS["system"], "value": number}]
    return data


def apply_import(client: Client, case: Case, data: dict[str, Any], **extra: Any) -> Any:
    return client.post(
        f"/cases/{case.pk}/fhir-import/",
        {
            "step": "apply",
            "bundle": json.dumps(data),
            "version": case.version,
            "as_of": "2026-11-20",
            "accept": ["ecog"],
            **extra,
        },
    )


def test_the_preview_shows_a_patient_without_nhs_number_as_not_matched(
    clinician_client: Client, case: Case
) -> None:
    page = preview(clinician_client, case).content.decode()
    assert 'data-match="not_matched"' in page and "Not matched" in page


def test_another_nhs_number_is_refused_by_name_unless_confirmed(clinician_client: Client, case: Case) -> None:
    Case.objects.filter(pk=case.pk).update(nhs_number="4010232137")
    case.refresh_from_db()
    data = bundle_with_nhs_number("943 476 5919")
    shown = clinician_client.post(
        f"/cases/{case.pk}/fhir-import/",
        {"step": "preview", "bundle": upload(data=data), "as_of": "2026-11-20"},
    ).content.decode()
    assert 'data-match="mismatch"' in shown and 'name="confirm_patient"' in shown
    refused = apply_import(clinician_client, case, data)
    assert refused.status_code == 409
    page = refused.content.decode()
    assert "9434765919" in page and "4010232137" in page
    case.refresh_from_db()
    assert "ecog" not in case.profile

    confirmed = apply_import(clinician_client, case, data, confirm_patient="yes")
    assert confirmed.status_code == 302
    case.refresh_from_db()
    assert case.profile["ecog"] == 1
    event = AuditEvent.objects.filter(action="case.fhir_import").get()
    assert event.payload["patient_override"] == {
        "bundle_nhs_number": "9434765919",
        "case_nhs_number": "4010232137",
    }


def test_a_matching_nhs_number_is_shown_as_matched(clinician_client: Client, case: Case) -> None:
    Case.objects.filter(pk=case.pk).update(nhs_number="9434765919")
    data = bundle_with_nhs_number("9434765919")
    page = clinician_client.post(
        f"/cases/{case.pk}/fhir-import/",
        {"step": "preview", "bundle": upload(data=data), "as_of": "2026-11-20"},
    ).content.decode()
    assert 'data-match="matched"' in page
