"""/api/v2/ closes the loop: reasons must fit the decision (400 naming reason_code), outcomes carry
coded next steps, the outcome letter is a PDF for `Accept: application/pdf`, and a meeting's
outcomes leave as a FHIR Bundle or CSV. A token with the wrong role gets 403."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from pypdf import PdfReader

from tests.api.conftest import ApiClient, client_for
from tests.pages.mdt import create_meeting, evaluated_case
from treatments import selectors, services
from treatments.inputs import WaiverInput
from treatments.models import AuditEvent, Case, Meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed(clinician: User, published: Any) -> tuple[Meeting, Case]:
    meeting = create_meeting(clinician)
    case = evaluated_case(clinician, "NET-6001")
    services.meeting_add_case(actor=clinician, meeting=meeting, case=case)
    return meeting, case


def record(api: ApiClient, meeting: Meeting, case: Case, **body: Any) -> Any:
    evaluation = selectors.latest_evaluation(case)
    assert evaluation is not None
    return api.send(
        "PUT",
        f"/api/v2/meetings/{meeting.pk}/cases/{case.pk}/outcome/",
        {"plan": "Surveillance, CT in 6 months", "evaluation": evaluation.pk, **body},
    )


def test_a_review_whose_reason_does_not_fit_the_decision_is_a_400_naming_the_field(
    api: ApiClient, listed: tuple[Meeting, Case]
) -> None:
    _, case = listed
    evaluation = selectors.latest_evaluation(case)
    assert evaluation is not None

    response = api.send(
        "PUT",
        f"/api/v2/cases/{case.pk}/evaluations/{evaluation.pk}/reviews/ssta/",
        {"decision": "reject", "reason_code": "clinically_appropriate"},
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == ["reason_code"]
    assert "is not a reason to reject" in response.json()["errors"][0]["msg"]


def test_the_letter_is_a_pdf_for_a_token_that_asks_for_one(
    api: ApiClient, coordinator: User, listed: tuple[Meeting, Case]
) -> None:
    meeting, case = listed
    url = f"/api/v2/meetings/{meeting.pk}/cases/{case.pk}/outcome/letter/"
    assert api.get_json(url, HTTP_ACCEPT="application/pdf").status_code == 404
    assert record(api, meeting, case, next_steps=["surveillance"]).status_code == 201

    response = client_for(coordinator).get_json(url, HTTP_ACCEPT="application/pdf")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    words = " ".join(PdfReader(io.BytesIO(response.content)).pages[0].extract_text().split())
    assert "MDT outcome for patient NET-6001" in words
    assert "Surveillance. Keep a close watch with regular scans and blood tests" in words
    assert api.get_json(url, HTTP_ACCEPT="application/json").status_code == 406
    assert AuditEvent.objects.filter(action="summary.export", payload__format="letter.pdf").count() == 1


def test_the_outcomes_leave_as_a_fhir_bundle_or_csv(api: ApiClient, listed: tuple[Meeting, Case]) -> None:
    meeting, case = listed
    record(api, meeting, case, chosen_modalities=["ssta"], next_steps=["treatment"])
    url = f"/api/v2/meetings/{meeting.pk}/outcomes/"

    bundle = api.get_json(url, HTTP_ACCEPT="application/fhir+json")
    table = api.get_json(url, HTTP_ACCEPT="text/csv")

    assert bundle.status_code == 200 and bundle["Content-Type"].startswith("application/fhir+json")
    assert bundle.json()["entry"][0]["resource"]["resourceType"] == "CarePlan"
    rows = list(csv.DictReader(io.StringIO(table.content.decode())))
    assert rows[0]["hospital_reference"] == "NET-6001" and rows[0]["next_steps"].startswith("Start or change")


def test_a_rule_author_gets_403_and_v1_has_no_exports(
    rule_author: User, api: ApiClient, listed: tuple[Meeting, Case]
) -> None:
    meeting, case = listed
    author = client_for(rule_author)

    assert author.get_json(f"/api/v2/meetings/{meeting.pk}/outcomes/").status_code == 403
    assert (
        author.get_json(
            f"/api/v2/meetings/{meeting.pk}/cases/{case.pk}/outcome/letter/", HTTP_ACCEPT="application/pdf"
        ).status_code
        == 403
    )
    assert api.get_json(f"/api/v1/meetings/{meeting.pk}/outcomes/").status_code == 404


def test_the_v2_worklist_names_the_facts_marked_not_needed_and_v1_does_not(
    api: ApiClient, clinician: User, listed: tuple[Meeting, Case]
) -> None:
    meeting, _ = listed
    case = evaluated_case(clinician, "NET-6002", "34_missing_krenning_pnet")
    services.meeting_add_case(actor=clinician, meeting=meeting, case=case)

    worklist = api.get_json(f"/api/v2/meetings/{meeting.pk}/worklist/").json()
    fact = worklist[1]["data_to_obtain"][0]["fact"]
    services.waiver_record(actor=clinician, case=case, data=WaiverInput(fact=fact, reason="Decided already"))

    after = api.get_json(f"/api/v2/meetings/{meeting.pk}/worklist/").json()[1]
    v1 = api.get_json(f"/api/v1/meetings/{meeting.pk}/worklist/").json()[1]

    assert fact not in [item["fact"] for item in after["data_to_obtain"]]
    assert after["not_needed"][0]["fact"] == fact and after["not_needed"][0]["reason"] == "Decided already"
    assert "not_needed" not in v1
