"""FHIR input over the API (/api/v2/ only): fhir/profile/, fhir/eligibility/ and a case's
fhir-import/ (preview, then apply with the case's edit-conflict rules), and every refusal as a 4xx
naming the element (an OperationOutcome when the caller asks for application/fhir+json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.contrib.auth.models import User

from treatments import services
from treatments.inputs import CaseCreate
from treatments.models import AuditEvent, Case, Evaluation

from .conftest import ApiClient, client_for

BUNDLES = Path(__file__).resolve().parents[2] / "fixtures" / "fhir"
AS_OF = "?as_of=2026-11-20"
PROFILE = "/api/v2/fhir/profile/" + AS_OF
ELIGIBILITY = "/api/v2/fhir/eligibility/" + AS_OF


def bundle(name: str = "ex-si-net-g2.json") -> dict[str, Any]:
    return json.loads((BUNDLES / name).read_text(encoding="utf-8"))


def counts() -> tuple[int, int, int]:
    return Case.objects.count(), Evaluation.objects.count(), AuditEvent.objects.count()


# --- fhir/profile/ ----------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/fhir+json", "application/json"])
def test_a_bundle_maps_to_facts_with_sources_and_stores_nothing(api: ApiClient, content_type: str) -> None:
    before = counts()
    answer = api.post_raw(PROFILE, orjson.dumps(bundle()), content_type=content_type)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["profile"]["who_grade"] == "G2"
    assert body["provenance"]["egfr_ml_min"]["sources"][0] == {
        "ref": "Observation/egfr",
        "effective": "2026-11-10",
        "fullUrl": "https://ehr.example.nhs.uk/fhir/Observation/egfr",
        "code": "http://loinc.org|98979-8",
        "original": {"value": 75, "unit": "mL/min/1.73m2", "code": "mL/min/{1.73_m2}"},
    }
    assert body["proposals"]["primary_resected"]["value"] is True
    assert (body["mapping_version"], body["as_of"]) == ("fhir-map-1.1.0", "2026-11-20")
    assert counts() == before


def test_fhir_input_is_not_served_by_the_frozen_v1(api: ApiClient) -> None:
    assert api.post_json("/api/v1/fhir/profile/", bundle()).status_code == 404


def test_invalid_fhir_is_a_400_naming_the_element(api: ApiClient) -> None:
    data = bundle()
    data["entry"][3]["resource"]["colour"] = "blue"
    answer = api.post_json(PROFILE, data)
    assert answer.status_code == 400
    body = answer.json()
    assert body["detail"].startswith("the bundle is not valid FHIR R4")
    assert any(error["loc"][:4] == ["bundle", "entry", 3, "resource"] for error in body["errors"])


def test_a_caller_asking_for_fhir_json_gets_an_operation_outcome(api: ApiClient) -> None:
    data = bundle()
    data["entry"][3]["resource"]["status"] = 7
    answer = api.post_raw(
        PROFILE, orjson.dumps(data), content_type="application/fhir+json", HTTP_ACCEPT="application/fhir+json"
    )
    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("application/fhir+json")
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "invalid"
    assert outcome["issue"][0]["expression"][0].startswith("Bundle.entry[3].resource.status")


def test_two_patients_are_a_400(api: ApiClient) -> None:
    data = bundle()
    data["entry"].append({"resource": {"resourceType": "Patient", "id": "someone-else"}})
    answer = api.post_json(PROFILE, data)
    assert answer.status_code == 400
    assert "multiple_patients" in answer.json()["detail"]


def test_a_deceased_patient_is_a_400_naming_the_element(api: ApiClient) -> None:
    data = bundle()
    data["entry"][0]["resource"]["deceasedBoolean"] = True
    answer = api.post_json(PROFILE, data)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["loc"] == ["bundle", "entry", 0, "resource", "deceasedBoolean"]


def test_another_patients_resources_are_ignored_with_an_issue(api: ApiClient) -> None:
    data = bundle()
    data["entry"][11]["resource"]["subject"] = {"reference": "Patient/someone-else"}  # the platelets
    body = api.post_json(PROFILE, data).json()
    assert "platelets_10e9_l" not in body["profile"]
    assert {"code": "subject_mismatch", "resource": "Observation/plt"}.items() <= next(
        issue for issue in body["issues"] if issue["code"] == "subject_mismatch"
    ).items()


def test_the_units_own_procedure_codes_give_prior_therapies(api: ApiClient, settings: Any) -> None:
    local = "http://trust.example/procedures|TACE-01"
    settings.NETCARE_FHIR_PROCEDURE_CODES = {local: "liver_embolisation"}
    data = bundle()
    tace = {
        "resourceType": "Procedure",
        "id": "tace-1",
        "status": "completed",
        "code": {"coding": [{"system": "http://trust.example/procedures", "code": "TACE-01"}]},
        "subject": {"reference": "Patient/pt-si-g2"},
        "performedDateTime": "2025-03-01",
    }
    data["entry"].append({"fullUrl": "https://ehr.example.nhs.uk/fhir/Procedure/tace-1", "resource": tace})

    answer = api.post_json(PROFILE, data)

    assert answer.status_code == 200, answer.content
    assert "liver_embolisation" in answer.json()["profile"]["prior_therapies"]


def test_a_bundle_over_the_size_limit_is_a_413(api: ApiClient, settings: Any) -> None:
    settings.NETCARE_FHIR_MAX_BYTES = 4096
    answer = api.post_json(PROFILE, bundle())
    assert answer.status_code == 413
    assert answer.json()["errors"] == []


def test_the_fhir_limit_is_larger_than_other_api_bodies(api: ApiClient, settings: Any) -> None:
    settings.NETCARE_API_MAX_BODY_BYTES = 4096
    assert api.post_json(PROFILE, bundle()).status_code == 200
    assert api.post_json("/api/v2/eligibility/", {"profile": {}, "pad": "x" * 5000}).status_code == 413


def test_too_many_entries_are_a_413(api: ApiClient, settings: Any) -> None:
    settings.NETCARE_FHIR_MAX_ENTRIES = 5
    answer = api.post_json(PROFILE, bundle())
    assert answer.status_code == 413
    assert answer.json()["errors"][0]["loc"] == ["bundle", "entry"]


@pytest.mark.parametrize(("content_type", "code"), [("text/plain", 415), ("application/xml", 415)])
def test_a_wrong_content_type_is_refused(api: ApiClient, content_type: str, code: int) -> None:
    assert api.post_raw(PROFILE, orjson.dumps(bundle()), content_type=content_type).status_code == code


def test_a_body_that_is_not_json_is_a_400(api: ApiClient) -> None:
    assert api.post_raw(PROFILE, b"{not json").status_code == 400


def test_not_a_bundle_is_a_400(api: ApiClient) -> None:
    answer = api.post_json(PROFILE, {"resourceType": "Patient", "id": "x"})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["loc"] == ["bundle", "resourceType"]


def test_a_bad_as_of_is_a_400(api: ApiClient) -> None:
    answer = api.post_json("/api/v2/fhir/profile/?as_of=yesterday", bundle())
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["loc"] == ["query", "as_of"]


def test_the_freshness_windows_are_settings(api: ApiClient, settings: Any) -> None:
    settings.NETCARE_FHIR_MAX_AGE_DAYS = {"egfr_ml_min": 5}
    body = api.post_json(PROFILE, bundle()).json()
    assert "egfr_ml_min" not in body["profile"]
    assert any(issue["code"] == "stale" and issue["fact"] == "egfr_ml_min" for issue in body["issues"])


def test_fhir_input_needs_a_login(anonymous: ApiClient) -> None:
    assert anonymous.post_json(PROFILE, bundle()).status_code == 401


# --- fhir/eligibility/ ------------------------------------------------------------------------


def test_a_bundle_gives_the_eligibility_of_its_mapped_facts(api: ApiClient) -> None:
    answer = api.post_json(ELIGIBILITY, bundle("ex-panc-nec-g3.json"))
    assert answer.status_code == 200
    body = answer.json()
    assert body["mapping"]["profile"]["differentiation"] == "poorly"
    statuses = {option["modality"]: option["status"] for option in body["eligibility"]["options"]}
    assert statuses["platinum_etoposide"] == "candidate"
    assert statuses["prrt_lu177"] == "not_suitable"


# --- cases/{id}/fhir-import/ ------------------------------------------------------------------


@pytest.fixture
def case(clinician: User, published: Any) -> Case:
    data = CaseCreate.model_validate(
        {
            "hospital_reference": "FHIR-0001",
            "referring_clinician": "Dr Ada Lovelace",
            "question": "Next line?",
            "profile": {"primary_site": "small_intestine", "resectable": False},
        }
    )
    return services.case_create(actor=clinician, data=data)


def import_url(case: Case) -> str:
    return f"/api/v2/cases/{case.pk}/fhir-import/{AS_OF}"


def test_the_import_preview_lists_each_fact_and_stores_nothing(api: ApiClient, case: Case) -> None:
    before = counts()
    answer = api.post_json(import_url(case), bundle())
    assert answer.status_code == 200, answer.content
    body = answer.json()
    rows = {row["fact"]: row for row in body["changes"]}
    assert rows["primary_site"]["current"] == rows["primary_site"]["imported"] == "small_intestine"
    assert rows["ecog"] == {
        "fact": "ecog",
        "current": None,
        "imported": 1,
        "level": "direct",
        "provenance": rows["ecog"]["provenance"],
    }
    assert rows["primary_resected"]["level"] == "proposed"
    assert body["version"] == case.version
    assert counts() == before


def test_applying_an_import_sets_the_accepted_facts_with_their_sources(api: ApiClient, case: Case) -> None:
    apply = {
        "bundle": bundle(),
        "version": case.version,
        "accept": ["ecog", "ki67_percent", "primary_resected"],
    }
    answer = api.post_json(import_url(case), apply)
    assert answer.status_code == 200, answer.content
    case.refresh_from_db()
    assert case.profile["ecog"] == 1 and case.profile["primary_resected"] is True
    assert "egfr_ml_min" not in case.profile  # not accepted
    assert case.profile["resectable"] is False  # untouched
    source = case.fact_sources["ecog"]
    assert (source["level"], source["sources"][0]["ref"], source["sources"][0]["effective"]) == (
        "direct",
        "Observation/ecog",
        "2026-11-10",
    )
    assert case.fact_sources["primary_resected"]["level"] == "confirmed"
    assert case.fact_sources["resectable"]["level"] == "manual"
    event = AuditEvent.objects.filter(action="case.fhir_import").get()
    assert len(event.payload["bundle_sha256"]) == 64
    assert "entry" not in json.dumps(event.payload)  # the bundle itself is never stored
    assert answer.json()["fact_sources"]["ecog"]["sources"][0]["ref"] == "Observation/ecog"


def test_applying_an_import_over_a_newer_version_is_a_409(
    api: ApiClient, case: Case, clinician: User
) -> None:
    seen = case.version
    api.send("PATCH", f"/api/v2/cases/{case.pk}/", {"version": seen, "question": "Changed by someone"})
    answer = api.post_json(import_url(case), {"bundle": bundle(), "version": seen, "accept": ["ecog"]})
    assert answer.status_code == 409
    assert answer.json()["current"]["question"] == "Changed by someone"
    case.refresh_from_db()
    assert "ecog" not in case.profile


def test_accepting_a_fact_the_bundle_does_not_give_is_a_400(api: ApiClient, case: Case) -> None:
    answer = api.post_json(
        import_url(case), {"bundle": bundle(), "version": case.version, "accept": ["resectable"]}
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["loc"] == ["accept", 0]


def test_an_import_that_contradicts_the_case_changes_nothing(
    api: ApiClient, case: Case, clinician: User
) -> None:
    api.send(
        "PATCH",
        f"/api/v2/cases/{case.pk}/",
        {"version": case.version, "profile": {"disease_extent": "localised"}},
    )
    case.refresh_from_db()
    before = (dict(case.profile), case.version, AuditEvent.objects.count())
    answer = api.post_json(
        import_url(case),
        {"bundle": bundle(), "version": case.version, "accept": ["liver_metastases", "ecog"]},
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["loc"] == ["accept", 0]
    case.refresh_from_db()
    assert (case.profile, case.version, AuditEvent.objects.count()) == before


def test_an_invalid_bundle_in_an_apply_is_a_400_and_nothing_changes(api: ApiClient, case: Case) -> None:
    data = bundle()
    data["entry"][0]["resource"]["deceasedBoolean"] = True
    answer = api.post_json(import_url(case), {"bundle": data, "version": case.version, "accept": ["ecog"]})
    assert answer.status_code == 400
    case.refresh_from_db()
    assert "ecog" not in case.profile


def test_an_evaluation_freezes_the_sources_and_the_mapping_version(api: ApiClient, case: Case) -> None:
    api.post_json(
        import_url(case), {"bundle": bundle(), "version": case.version, "accept": ["ecog", "egfr_ml_min"]}
    )
    answer = api.post_json(f"/api/v2/cases/{case.pk}/evaluations/", {})
    assert answer.status_code == 201
    evaluation = Evaluation.objects.get(pk=answer.json()["id"])
    assert evaluation.mapping_version == "fhir-map-1.1.0"
    assert (evaluation.fact_sources or {})["egfr_ml_min"]["sources"][0]["ref"] == "Observation/egfr"
    assert answer.json()["fact_sources"]["ecog"]["sources"][0]["effective"] == "2026-11-10"
    v1 = api.get_json(f"/api/v1/cases/{case.pk}/evaluations/{evaluation.pk}/").json()
    assert "fact_sources" not in v1  # v1 answers keep their published shape


def test_a_coordinator_may_import_and_a_rule_author_may_not(
    case: Case, coordinator: User, rule_author: User
) -> None:
    assert client_for(coordinator).post_json(import_url(case), bundle()).status_code == 200
    assert client_for(rule_author).post_json(import_url(case), bundle()).status_code == 403
    assert client_for(rule_author).post_json(PROFILE, bundle()).status_code == 200


def test_a_bundle_larger_than_other_api_bodies_is_accepted_up_to_the_fhir_limit(api: ApiClient) -> None:
    data = bundle()
    data["entry"][0]["resource"]["name"] = [{"text": "x" * 3_000_000}]  # 3 MB: over the 2 MB API limit
    answer = api.post_raw(PROFILE, orjson.dumps(data), content_type="application/fhir+json")
    assert answer.status_code == 200, answer.content[:300]
    assert answer.json()["profile"]["ecog"] == 1


# --- patient matching by NHS number (hazard H-11) -----------------------------------------------

NHS_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"


def bundle_with_nhs_number(number: str) -> dict[str, Any]:
    data = bundle()
    data["entry"][0]["resource"]["identifier"] = [{"system": NHS_SYSTEM, "value": number}]
    return data


def with_case_nhs_number(case: Case, number: str) -> Case:
    Case.objects.filter(pk=case.pk).update(nhs_number=number)
    case.refresh_from_db()
    return case


def test_the_preview_says_whether_the_patient_matches_the_case(api: ApiClient, case: Case) -> None:
    unmatched = api.post_json(import_url(case), bundle_with_nhs_number("943 476 5919")).json()
    assert unmatched["patient"] == {
        "match": "not_matched",
        "bundle_nhs_number": "9434765919",
        "case_nhs_number": None,
    }
    with_case_nhs_number(case, "9434765919")
    matched = api.post_json(import_url(case), bundle_with_nhs_number("943 476 5919")).json()
    assert matched["patient"]["match"] == "matched"
    assert api.post_json(import_url(case), bundle()).json()["patient"]["match"] == "not_matched"


def test_another_nhs_number_is_a_409_naming_both_and_nothing_changes(api: ApiClient, case: Case) -> None:
    with_case_nhs_number(case, "4010232137")
    before = counts()
    preview = api.post_json(import_url(case), bundle_with_nhs_number("9434765919"))
    assert preview.status_code == 200 and preview.json()["patient"]["match"] == "mismatch"
    apply = {"bundle": bundle_with_nhs_number("9434765919"), "version": case.version, "accept": ["ecog"]}
    answer = api.post_json(import_url(case), apply)
    assert answer.status_code == 409
    assert "9434765919" in answer.json()["detail"] and "4010232137" in answer.json()["detail"]
    case.refresh_from_db()
    assert "ecog" not in case.profile
    assert counts() == before


def test_a_confirmed_import_despite_another_nhs_number_is_audited_with_both(
    api: ApiClient, case: Case
) -> None:
    with_case_nhs_number(case, "4010232137")
    apply = {
        "bundle": bundle_with_nhs_number("9434765919"),
        "version": case.version,
        "accept": ["ecog"],
        "confirm_patient": True,
    }
    answer = api.post_json(import_url(case), apply)
    assert answer.status_code == 200, answer.content
    event = AuditEvent.objects.filter(action="case.fhir_import").get()
    assert event.payload["patient_match"] == "mismatch"
    assert event.payload["patient_override"] == {
        "bundle_nhs_number": "9434765919",
        "case_nhs_number": "4010232137",
    }


def test_a_matching_import_is_audited_as_matched(api: ApiClient, case: Case) -> None:
    with_case_nhs_number(case, "9434765919")
    apply = {"bundle": bundle_with_nhs_number("9434765919"), "version": case.version, "accept": ["ecog"]}
    assert api.post_json(import_url(case), apply).status_code == 200
    event = AuditEvent.objects.filter(action="case.fhir_import").get()
    assert event.payload["patient_match"] == "matched" and "patient_override" not in event.payload
