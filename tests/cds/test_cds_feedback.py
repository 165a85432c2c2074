"""Feedback on cards (CDS Hooks 2.0 §Feedback): stored once, refused when malformed, and on a linked
case recorded as a clinician's review only by someone who may review options."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.cds.conftest import FEEDBACK, NHS_NUMBER, SERVICE, Ehr, bundle_call, other_key, register
from tests.conftest import PASSWORD, make_user
from treatments import roles
from treatments.models import AuditEvent, CardFeedback, Case, HookEvaluation, Review
from treatments.services.cds import OVERRIDE_TO_REVIEW

pytestmark = pytest.mark.django_db

WHEN = "2026-11-20T10:15:00Z"
NON_ADHERENCE = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"


def _cards(ehr: Ehr, *, linked: bool = False) -> list[dict[str, Any]]:
    call = bundle_call("ex-si-net-g2.json")
    if linked:
        call["prefetch"]["patient"]["identifier"] = [
            {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": NHS_NUMBER}
        ]
    response = ehr.post(SERVICE, call)
    assert response.status_code == 200
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def _accepted(card: dict[str, Any]) -> dict[str, Any]:
    return {"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": WHEN,
            "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}]}  # fmt: skip


def _overridden(card: dict[str, Any], reason: dict[str, Any] | None = None) -> dict[str, Any]:
    item = {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": WHEN}
    if reason is not None:
        item["overrideReason"] = reason
    return item


def _coded(code: str) -> dict[str, Any]:
    return {"reason": {"system": NON_ADHERENCE, "code": code}}


def _prefers(comment: str = "Patient wants PRRT first") -> dict[str, Any]:
    reason = {
        "system": NON_ADHERENCE,
        "code": "prefers-alternative",
        "display": "Patient prefers an alternative",
    }
    return {"reason": reason, "userComment": comment}


def test_the_three_examples_of_the_specification_are_each_stored_once(ehr: Ehr) -> None:
    summary, trial, *_ = _cards(ehr)
    items = [_accepted(trial), _overridden(summary), _overridden(trial, _prefers())]

    for item in items:
        assert ehr.feedback([item]).status_code == 200
    assert CardFeedback.objects.count() == 3
    for item in items:
        assert ehr.feedback([item]).status_code == 200  # the EHR sends it again
    assert CardFeedback.objects.count() == 3

    stored = CardFeedback.objects.get(override_code="prefers-alternative")
    assert stored.user_comment == "Patient wants PRRT first"
    assert stored.modality == trial["source"]["topic"]["code"]
    assert CardFeedback.objects.get(outcome="overridden", override_code="").modality == ""  # the summary card
    assert AuditEvent.objects.filter(action="cds.feedback").count() == 3


def test_feedback_answers_200_with_an_empty_body(ehr: Ehr) -> None:
    card = _cards(ehr)[1]

    response = ehr.feedback([_accepted(card)])

    assert response.status_code == 200
    assert response.content == b""


def test_feedback_on_an_unknown_card_is_logged_and_dropped(
    ehr: Ehr, caplog: pytest.LogCaptureFixture
) -> None:
    item = {"card": "00000000-0000-4000-8000-000000000000", "outcome": "overridden", "outcomeTimestamp": WHEN}

    with caplog.at_level("WARNING", logger="netcare.cds"):
        response = ehr.feedback([item])

    assert response.status_code == 200
    assert "unknown_card" in caplog.text
    assert not CardFeedback.objects.exists()


def test_feedback_on_another_clients_card_is_treated_as_unknown(ehr: Ehr) -> None:
    card = _cards(ehr)[1]
    key = other_key()
    other = Ehr(register(iss="https://other.example/cds", key=key), key=key)

    assert other.feedback([_accepted(card)]).status_code == 200
    assert not CardFeedback.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda item: item.pop("acceptedSuggestions"), id="accepted without acceptedSuggestions"),
        pytest.param(lambda item: item.update(outcome="dismissed"), id="outcome dismissed"),
        pytest.param(
            lambda item: item.update(outcome="overridden", overrideReason={}), id="empty overrideReason"
        ),
        pytest.param(lambda item: item.update(outcomeTimestamp="yesterday"), id="bad timestamp"),
        pytest.param(lambda item: item.update(card="not-a-uuid"), id="card not a uuid"),
    ],
)
def test_malformed_feedback_answers_400_and_stores_nothing(ehr: Ehr, change: Any) -> None:
    item = _accepted(_cards(ehr)[1])
    change(item)

    response = ehr.feedback([item])

    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    assert not CardFeedback.objects.exists()


def test_feedback_needs_a_jwt_for_the_feedback_url(ehr: Ehr) -> None:
    card = _cards(ehr)[1]
    token = ehr.token(SERVICE)  # aud of the service, not of its feedback endpoint

    assert ehr.post(FEEDBACK, {"feedback": [_accepted(card)]}, token=token).status_code == 401


# --- recorded as a review on the linked case ------------------------------------------------------


def _logged_in(user: User) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_case_page_lists_pending_feedback_and_a_clinician_records_it_as_a_review(
    ehr: Ehr, case: Case, clinician: User
) -> None:
    trial = _cards(ehr, linked=True)[1]
    ehr.feedback([_overridden(trial, _prefers())])
    feedback = CardFeedback.objects.get()
    page = _logged_in(clinician)

    html = page.get(f"/cases/{case.pk}/").content.decode()
    assert "Feedback from the EHR" in html
    assert "Patient wants PRRT first" in html
    assert "Practitioner/dr-hughes" in html

    response = page.post(f"/cases/{case.pk}/ehr-feedback/{feedback.pk}/review/")

    assert response.status_code == 302
    review = Review.objects.get()
    assert (review.decision, review.reason_code) == ("reject", "patient_preference")
    assert review.modality == trial["source"]["topic"]["code"]
    assert str(feedback.card_uuid) in review.note
    assert review.evaluation.case == case
    feedback.refresh_from_db()
    assert feedback.recorded_review == review
    assert "Feedback from the EHR" not in page.get(f"/cases/{case.pk}/").content.decode()
    assert AuditEvent.objects.filter(action="cds.feedback_review").exists()


def test_a_coordinator_sees_the_feedback_but_cannot_record_it(
    ehr: Ehr, case: Case, coordinator: User
) -> None:
    trial = _cards(ehr, linked=True)[1]
    ehr.feedback([_accepted(trial)])
    feedback = CardFeedback.objects.get()
    page = _logged_in(coordinator)

    html = page.get(f"/cases/{case.pk}/").content.decode()
    assert "Feedback from the EHR" in html
    assert "Record as review" not in html
    assert page.post(f"/cases/{case.pk}/ehr-feedback/{feedback.pk}/review/").status_code == 403
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (lambda card: _accepted(card), ("accept", "clinically_appropriate")),
        (lambda card: _overridden(card, _coded("patient-contraindication")), ("reject", "comorbidity")),
        (lambda card: _overridden(card, _coded("service-not-available")), ("reject", "not_available")),
        (lambda card: _overridden(card, _coded("need-more-info")), ("defer", "awaiting_data")),
        (lambda card: _overridden(card, {"userComment": "Discussed with family"}), ("reject", "other")),
    ],
)  # fmt: skip
def test_each_kind_of_feedback_becomes_the_review_of_the_mapping_table(
    ehr: Ehr, case: Case, clinician: User, item: Any, expected: tuple[str, str]
) -> None:
    trial = _cards(ehr, linked=True)[1]
    ehr.feedback([item(trial)])

    response = _logged_in(clinician).post(
        f"/cases/{case.pk}/ehr-feedback/{CardFeedback.objects.get().pk}/review/"
    )

    assert response.status_code == 302
    review = Review.objects.get()
    assert (review.decision, review.reason_code) == expected


def test_an_override_without_a_reason_is_kept_but_not_recordable(
    ehr: Ehr, case: Case, clinician: User
) -> None:
    trial = _cards(ehr, linked=True)[1]
    ehr.feedback([_overridden(trial)])

    response = _logged_in(clinician).post(
        f"/cases/{case.pk}/ehr-feedback/{CardFeedback.objects.get().pk}/review/"
    )

    assert response.status_code == 409
    assert not Review.objects.exists()


def test_the_mapping_table_covers_the_five_reasons_offered_on_the_cards() -> None:
    from treatments.cds.cards import OVERRIDE_REASONS

    assert {reason["code"] for reason in OVERRIDE_REASONS} <= set(OVERRIDE_TO_REVIEW)


def test_the_card_link_opens_the_linked_case_after_login(ehr: Ehr, case: Case, clinician: User) -> None:
    link = _cards(ehr, linked=True)[0]["links"][0]["url"]
    path = link.removeprefix("http://testserver")

    assert Client().get(path).status_code == 302  # to the login page
    response = _logged_in(clinician).get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.pk}/"


def test_the_card_link_of_an_unlinked_call_shows_the_check_it_made(ehr: Ehr, clinician: User) -> None:
    link = _cards(ehr)[0]["links"][0]["url"]

    response = _logged_in(clinician).get(link.removeprefix("http://testserver"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Treatment options for this patient" in html
    assert HookEvaluation.objects.get().client.name in html


def test_an_administrator_cannot_open_a_card_link(ehr: Ehr) -> None:
    link = _cards(ehr)[0]["links"][0]["url"]
    admin = make_user("admin_x", roles.ADMIN)

    assert _logged_in(admin).get(link.removeprefix("http://testserver")).status_code == 403
