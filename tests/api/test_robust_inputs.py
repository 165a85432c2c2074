"""Ordinary bad input is a 400 or a 409, never a 500 (security review F7): control characters in
any text, body, query or path; NHS numbers in other scripts' digits; two requests creating the same
hospital reference at once. No failing row (patient data) reaches the application's logs."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, connections, transaction

from tests.concurrency import backends_waiting_for_a_lock, in_threads
from treatments import services
from treatments.inputs import CaseCreate
from treatments.models import Case

from .conftest import ApiClient, client_for
from .test_mdt_api import CASE, create_case, evaluate, patch, put

CONTROL = "a\x00b"


@pytest.fixture
def coordinator_api(published: Any, coordinator: User) -> ApiClient:
    return client_for(coordinator)


@pytest.fixture
def clinician_api(published: Any, clinician: User) -> ApiClient:
    return client_for(clinician)


def _assert_400_at(response: Any, loc: list[Any]) -> None:
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert loc in [error["loc"] for error in errors], errors
    assert any("control characters" in error["msg"] for error in errors if error["loc"] == loc), errors


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("question", CONTROL),
        ("question", "line\x1bone"),
        ("referring_clinician", CONTROL),
        ("referring_clinician", "Dr\nX"),  # one line: no newline
        ("clinical_summary", "x\x07"),
        ("clinical_summary", "\x7f"),
    ],
)
def test_control_characters_in_a_new_case_get_a_400_naming_the_field(
    coordinator_api: ApiClient, version: str, field: str, value: str
) -> None:
    response = coordinator_api.post_json(f"/api/{version}/cases/", {**CASE, field: value})

    _assert_400_at(response, [field])
    assert not Case.objects.exists()


def test_multi_line_text_keeps_tabs_and_line_breaks(coordinator_api: ApiClient) -> None:
    case = create_case(coordinator_api, question="First line\r\nsecond\tline?", clinical_summary="a\nb")

    assert case["question"] == "First line\r\nsecond\tline?"


def test_control_characters_in_every_other_write_get_a_400(
    coordinator_api: ApiClient, clinician_api: ApiClient
) -> None:
    case = create_case(coordinator_api)
    evaluation = evaluate(coordinator_api, case)
    meeting = coordinator_api.post_json(
        "/api/v1/meetings/", {"title": "NET MDT", "date": "2026-12-03"}
    ).json()
    coordinator_api.post_json(f"/api/v1/meetings/{meeting['id']}/cases/", {"case": case["id"]})
    review = f"/api/v1/cases/{case['id']}/evaluations/{evaluation['id']}/reviews/prrt_lu177/"

    _assert_400_at(
        patch(coordinator_api, f"/api/v1/cases/{case['id']}/", {"version": 1, "question": CONTROL}),
        ["question"],
    )
    _assert_400_at(
        coordinator_api.post_json("/api/v1/meetings/", {"title": CONTROL, "date": "2026-12-03"}), ["title"]
    )
    _assert_400_at(
        put(coordinator_api, f"/api/v1/meetings/{meeting['id']}/", {"title": CONTROL, "date": "2026-12-03"}),
        ["title"],
    )
    _assert_400_at(
        put(clinician_api, review, {"decision": "accept", "reason_code": "other", "note": CONTROL}), ["note"]
    )
    outcome = f"/api/v1/meetings/{meeting['id']}/cases/{case['id']}/outcome/"
    _assert_400_at(put(clinician_api, outcome, {"chosen_modalities": [], "plan": CONTROL}), ["plan"])


@pytest.mark.parametrize("path", ["/api/v1/cases/", "/api/v2/modalities/"])
def test_a_nul_in_a_search_gets_a_400_naming_the_parameter(coordinator_api: ApiClient, path: str) -> None:
    _assert_400_at(coordinator_api.get_json(f"{path}?search=a%00b"), ["query", "search"])


def test_a_nul_in_a_modality_key_gets_a_400_naming_the_path_parameter(coordinator_api: ApiClient) -> None:
    _assert_400_at(coordinator_api.get_json("/api/v2/modalities/a%00b/"), ["path", "key"])
    assert coordinator_api.get_json("/api/v2/modalities/homeopathy/").status_code == 404


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("nhs_number", ["٩٤٣٤٧٦٥٩١٩", "９４３４７６５９１９", "९४३४७६५९१९"])
def test_nhs_numbers_in_other_digits_get_the_usual_400(
    coordinator_api: ApiClient, version: str, nhs_number: str
) -> None:
    response = coordinator_api.post_json(f"/api/{version}/cases/", {**CASE, "nhs_number": nhs_number})

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"loc": ["nhs_number"], "msg": "must be 10 digits (spaces and hyphens are ignored)"}
    ]


def test_a_case_changed_to_an_nhs_number_in_other_digits_gets_the_usual_400(
    coordinator_api: ApiClient,
) -> None:
    case = create_case(coordinator_api)

    response = patch(
        coordinator_api, f"/api/v2/cases/{case['id']}/", {"version": 1, "nhs_number": "９４３４７６５９１９"}
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == ["nhs_number"]


# --- racing creates ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_creates_of_one_reference_give_one_201_and_409s(
    coordinator: User, published: Any, caplog: pytest.LogCaptureFixture
) -> None:
    token_client = client_for(coordinator)
    token = token_client.token

    def create() -> Any:
        client = ApiClient(token, raise_request_exception=False)
        return client.post_json("/api/v2/cases/", {**CASE, "hospital_reference": "RACE-1"})

    responses = in_threads(8, create)

    codes = sorted(response.status_code for response in responses)
    assert codes == [201] + [409] * 7, [r.content for r in responses]
    conflict = next(r for r in responses if r.status_code == 409).json()
    assert conflict["detail"] == "a case with hospital reference RACE-1 already exists"
    assert Case.objects.filter(hospital_reference="RACE-1").count() == 1
    assert "9434765919" not in caplog.text and "Failing row" not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_create_that_loses_the_race_after_its_check_gets_409_in_the_usual_shape(
    coordinator: User, published: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Deterministic on PostgreSQL: the other writer has inserted the reference but not committed,
    so this request's check finds nothing, its insert waits on the unique index, and fails once the
    other commits."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers (IMMEDIATE transactions): its check cannot be raced")
    token = client_for(coordinator).token
    inserted, commit = threading.Event(), threading.Event()

    def other_writer() -> None:
        try:
            with transaction.atomic():
                services.case_create(
                    actor=coordinator, data=CaseCreate(**{**CASE, "hospital_reference": "RACE-2"})
                )
                inserted.set()
                commit.wait(30)
        finally:
            connections.close_all()

    answer: dict[str, Any] = {}

    def request() -> None:
        try:
            client = ApiClient(token, raise_request_exception=False)
            answer["response"] = client.post_json("/api/v2/cases/", {**CASE, "hospital_reference": "RACE-2"})
        finally:
            connections.close_all()

    writer = threading.Thread(target=other_writer)
    writer.start()
    assert inserted.wait(10)
    requester = threading.Thread(target=request)
    requester.start()
    deadline = time.monotonic() + 10
    while backends_waiting_for_a_lock() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    commit.set()
    writer.join(30)
    requester.join(30)

    response = answer["response"]
    assert response.status_code == 409, response.content
    assert response.json()["detail"] == "a case with hospital reference RACE-2 already exists"
    assert response.json()["errors"] == []
    assert "9434765919" not in caplog.text and "Failing row" not in caplog.text
