"""The `patient-view` service: discovery, the cards for the three example bundles, when it stays
silent, the 412/400/503 answers, what is stored, and the link to a NETcare case."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from tests.cds.conftest import DISCOVERY, SERVICE, Ehr, bundle_call, card_problems, empty_elements
from tests.conftest import KB_VERSION, make_user
from treatments import roles
from treatments.models import Case, HookCard, HookEvaluation

pytestmark = pytest.mark.django_db

TOKEN = {"access_token": "t", "token_type": "Bearer", "expires_in": 60, "scope": "s", "subject": "x"}
SI_NET = "ex-si-net-g2.json"
PANC_NEC = "ex-panc-nec-g3.json"
SPARSE = "ex-sparse.json"
# The profile bundle 1 maps to (interop spec A.9; tests/fhir/expected/) (direct and derived facts only).
SI_NET_PROFILE = {
    "age_years": 64,
    "primary_site": "small_intestine",
    "differentiation": "well",
    "who_grade": "G2",
    "ki67_percent": 8.0,
    "disease_extent": "metastatic",
    "liver_metastases": True,
    "sstr_imaging": "positive",
    "krenning_score": 3,
    "disease_status": "progressive",
    "ecog": 1,
    "egfr_ml_min": 75.0,
    "platelets_10e9_l": 220.0,
    "neutrophils_10e9_l": 4.1,
    "bilirubin_umol_l": 12.0,
    "prior_therapies": ["ssta"],
    "funding": "nhs",  # the contract's default: always known
}


def test_discovery_describes_exactly_the_patient_view_service(ehr: Ehr) -> None:
    body = ehr.get(DISCOVERY).json()

    assert [service["id"] for service in body["services"]] == ["netcare-net-options"]
    service = body["services"][0]
    assert service["hook"] == "patient-view"
    assert service["title"] == "NETcare: NET treatment options"
    assert list(service["prefetch"]) == [
        "patient", "conditions", "tumour", "labs", "medsGiven", "medsOrdered", "medsStated", "procedures",
        "assessments",
    ]  # fmt: skip
    assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
    assert service["extension"]["uk.nhs.netcare.rulesetVersion"] == KB_VERSION
    assert empty_elements(body) == []


def test_bundle_1_gets_a_summary_card_and_one_card_per_candidate(ehr: Ehr) -> None:
    response = ehr.patient_view(SI_NET)

    assert response.status_code == 200
    body = response.json()
    assert card_problems(body) == []
    stored = HookEvaluation.objects.get()
    statuses = {option["modality"]: option["status"] for option in stored.result["options"]}
    candidates = [key for key, status in statuses.items() if status == "candidate"]
    summary, *options = body["cards"]
    count = list(statuses.values()).count
    assert summary["summary"].startswith(
        f"NET options (rules {KB_VERSION}): {count('candidate')} candidate, {count('needs_data')} need data, "
        f"{count('not_suitable')} not suitable. Missing: resectable"
    )
    assert [card["source"]["topic"]["code"] for card in options] == candidates
    assert "clinical_trial" in candidates
    for card in options:
        assert re.fullmatch(r".+: candidate — .+", card["summary"])
        assert card["selectionBehavior"] == "at-most-one"
        assert card["suggestions"][0]["label"] == "Mark as an option for the NET MDT"
        assert {reason["code"] for reason in card["overrideReasons"]} == {
            "patient-contraindication", "prefers-alternative", "comorbidity-disability",
            "service-not-available", "need-more-info",
        }  # fmt: skip
        assert card["source"]["url"].endswith(f"/catalogue/{card['source']['topic']['code']}/")
    assert "**Data to obtain**" in summary["detail"]
    assert "not medical advice" in summary["detail"]


def test_the_call_is_stored_with_the_rule_set_the_profile_and_the_cards(ehr: Ehr) -> None:
    body = ehr.patient_view(SI_NET).json()

    stored = HookEvaluation.objects.get()
    assert stored.ruleset_version == KB_VERSION
    assert stored.profile == SI_NET_PROFILE
    assert stored.cards == body["cards"]
    assert stored.patient_fhir_id == "pt-si-g2"
    assert stored.user_ref == "Practitioner/dr-hughes"
    assert stored.client == ehr.client
    assert stored.duration_ms >= 0
    assert stored.fact_sources["ki67_percent"]["sources"][0]["ref"] == "Observation/ki67"
    assert {row.uuid.hex for row in HookCard.objects.all()} == {
        card["uuid"].replace("-", "") for card in body["cards"]
    }
    assert all(card["links"][0]["url"].endswith(f"/cds/evaluations/{stored.pk}/") for card in body["cards"])


def test_bundle_2_gets_platinum_etoposide_and_clinical_trial_cards(ehr: Ehr) -> None:
    body = ehr.patient_view(PANC_NEC).json()

    assert card_problems(body) == []
    topics = [card["source"]["topic"]["code"] for card in body["cards"][1:]]
    assert {"platinum_etoposide", "clinical_trial"} <= set(topics)


def test_bundle_3_gets_one_card_saying_there_is_too_little_data(ehr: Ehr) -> None:
    body = ehr.patient_view(SPARSE).json()

    assert card_problems(body) == []
    [card] = body["cards"]
    assert (
        card["summary"] == f"NETcare: too little structured data to assess NET options (rules {KB_VERSION})"
    )
    assert "**Facts to obtain first**" in card["detail"]
    assert "suggestions" not in card


def test_a_patient_without_a_net_condition_gets_no_cards(ehr: Ehr) -> None:
    call = bundle_call(SI_NET)
    confirmed = {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}
    diabetes = {
        "resourceType": "Condition",
        "id": "dm",
        "subject": {"reference": "Patient/pt-si-g2"},
        "verificationStatus": {"coding": [confirmed]},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "E11.9"}]},
    }
    call["prefetch"]["conditions"]["entry"] = [{"resource": diabetes}]
    call["prefetch"]["tumour"]["entry"] = []

    response = ehr.post(SERVICE, call)

    assert response.status_code == 200
    assert response.json() == {"cards": []}


@pytest.mark.parametrize("user", ["Patient/pt-si-g2", "RelatedPerson/mum"])
def test_a_patient_or_relative_opening_the_record_gets_no_cards(ehr: Ehr, user: str) -> None:
    response = ehr.patient_view(SI_NET, userId=user)

    assert response.json() == {"cards": []}
    assert not HookEvaluation.objects.exists()


@pytest.mark.parametrize("key", ["patient", "conditions"])
def test_a_missing_required_prefetch_without_fhir_access_answers_412(ehr: Ehr, key: str) -> None:
    call = bundle_call(SI_NET)
    del call["prefetch"][key]

    response = ehr.post(SERVICE, call)

    assert response.status_code == 412
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["expression"] == [f"prefetch.{key}"]


def test_conditions_sent_as_null_mean_the_ehr_has_none_and_get_no_cards(ehr: Ehr) -> None:
    call = bundle_call(SI_NET)
    call["prefetch"]["conditions"] = None

    response = ehr.post(SERVICE, call)

    assert response.status_code == 200
    assert response.json() == {"cards": []}


def test_an_operation_outcome_in_place_of_a_prefetch_is_a_missing_key(ehr: Ehr) -> None:
    call = bundle_call(SI_NET)
    call["prefetch"]["conditions"] = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout"}],
    }

    assert ehr.post(SERVICE, call).status_code == 412


def test_a_missing_optional_prefetch_leaves_its_facts_unknown(ehr: Ehr) -> None:
    call = bundle_call(SI_NET)
    del call["prefetch"]["labs"]

    response = ehr.post(SERVICE, call)

    assert response.status_code == 200
    stored = HookEvaluation.objects.get()
    assert "egfr_ml_min" not in stored.profile
    assert {"code": "prefetch_missing:labs", "message": "no labs data was sent"} in stored.issues


def test_no_published_rule_set_answers_503(ehr: Ehr, no_knowledge_base: None) -> None:
    response = ehr.patient_view(SI_NET)

    assert response.status_code == 503
    assert response.json()["issue"][0]["code"] == "transient"
    assert response["Retry-After"]


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        (lambda call: call.pop("hookInstance"), "hookInstance"),
        (lambda call: call["context"].pop("patientId"), "context.patientId"),
        (lambda call: call.update(fhirAuthorization=TOKEN), "body"),
        (lambda call: call.update(hook="order-sign"), "hook"),
    ],
)  # fmt: skip
def test_a_malformed_call_answers_400_naming_the_field(ehr: Ehr, change: Any, expression: str) -> None:
    call = bundle_call(SI_NET)
    change(call)

    response = ehr.post(SERVICE, call)

    assert response.status_code == 400
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert expression in [item for issue in body["issue"] for item in issue.get("expression", [])]


def test_a_body_that_is_not_json_answers_400(ehr: Ehr) -> None:
    response = ehr.post(SERVICE, b"{not json")

    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def test_a_prefetch_resource_that_is_not_valid_fhir_answers_400(ehr: Ehr) -> None:
    call = bundle_call(SI_NET)
    call["prefetch"]["tumour"]["entry"][0]["resource"]["status"] = 7

    response = ehr.post(SERVICE, call)

    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def test_a_call_for_a_patient_with_a_case_is_linked_to_it_by_nhs_number(ehr: Ehr) -> None:
    case = _case(nhs_number="9434765919")
    call = bundle_call(SI_NET)
    call["prefetch"]["patient"]["identifier"] = [
        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}
    ]

    ehr.post(SERVICE, call)

    assert HookEvaluation.objects.get().linked_case == case


def test_a_patient_resource_of_another_patient_links_nothing(ehr: Ehr) -> None:
    _case(nhs_number="9434765919")
    call = bundle_call(SI_NET)
    call["prefetch"]["patient"]["identifier"] = [
        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}
    ]
    call["context"]["patientId"] = "someone-else"

    ehr.post(SERVICE, call)

    assert not HookEvaluation.objects.filter(linked_case__isnull=False).exists()


def test_a_wrong_check_digit_or_two_cases_link_nothing(ehr: Ehr) -> None:
    _case(nhs_number="9434765919", reference="H1")
    _case(nhs_number="9434765919", reference="H2")
    for number in ("9434765919", "9434765918"):
        call = bundle_call(SI_NET)
        call["prefetch"]["patient"]["identifier"] = [
            {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": number}
        ]
        ehr.post(SERVICE, call)

    assert not HookEvaluation.objects.filter(linked_case__isnull=False).exists()


def test_with_option_cards_off_only_the_summary_card_is_sent(ehr: Ehr, settings: Any) -> None:
    settings.CDS_OPTION_CARDS = False

    assert len(ehr.patient_view(SI_NET).json()["cards"]) == 1


def test_the_same_call_twice_is_answered_twice_with_new_card_uuids(ehr: Ehr) -> None:
    first = ehr.patient_view(SI_NET).json()["cards"]
    second = ehr.patient_view(SI_NET).json()["cards"]

    assert [card["summary"] for card in first] == [card["summary"] for card in second]
    assert {card["uuid"] for card in first}.isdisjoint(card["uuid"] for card in second)


def test_unknown_prefetch_keys_and_elements_are_ignored(ehr: Ehr) -> None:
    call = copy.deepcopy(bundle_call(SI_NET))
    call["prefetch"]["somethingElse"] = {"resourceType": "Basic"}
    call["extension"] = {"com.example": 1}

    assert ehr.post(SERVICE, call).status_code == 200


def _case(*, nhs_number: str, reference: str = "H100") -> Case:
    user = make_user(f"creator-{reference}", roles.CLINICIAN)
    return Case.objects.create(
        hospital_reference=reference,
        nhs_number=nhs_number,
        referring_clinician="Dr Who",
        question="Options?",
        created_by=user,
        updated_by=user,
    )


def test_a_stale_ehr_value_is_left_unknown_and_the_card_says_so(ehr: Ehr) -> None:
    call = bundle_call(SI_NET)
    for entry in call["prefetch"]["labs"]["entry"]:
        if entry["resource"]["id"] == "egfr":
            entry["resource"]["effectiveDateTime"] = "2023-01-10"

    summary = ehr.post(SERVICE, call).json()["cards"][0]

    stored = HookEvaluation.objects.get()
    assert "egfr_ml_min" not in stored.profile
    stale = [issue for issue in stored.issues if issue["code"] == "stale"]
    assert stale
    assert stale[0]["message"] in summary["detail"]


def test_the_facts_used_are_listed_with_the_date_of_their_source(ehr: Ehr) -> None:
    summary = ehr.patient_view(SI_NET).json()["cards"][0]

    assert "**Facts used** (from the EHR)" in summary["detail"]
    assert "Ki-67 index 8 % (2021-05-20)" in summary["detail"]


def test_a_prefetch_seen_before_is_not_validated_again_but_a_changed_one_is(ehr: Ehr) -> None:
    assert ehr.patient_view(SI_NET).status_code == 200
    assert ehr.patient_view(SI_NET).status_code == 200  # the same bytes: validated once per process
    call = bundle_call(SI_NET)
    call["prefetch"]["tumour"]["entry"][0]["resource"]["status"] = 7

    assert ehr.post(SERVICE, call).status_code == 400
