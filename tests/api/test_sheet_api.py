"""Other systems fetch the MDT case sheet and the meeting pack as PDFs with an API token:
`Accept: application/pdf` on the summary endpoints (v1 and v2), the pack under /api/v2/, and the
pages' PDF URLs answer a token client 401 with the way to the API (they take a browser login)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from pypdf import PdfReader

from tests.api.conftest import ApiClient, client_for
from tests.pages.mdt import create_meeting, evaluated_case
from treatments import services
from treatments.models import AuditEvent, Case, Meeting, MeetingPack
from treatments.services.tokens import token_issue

pytestmark = pytest.mark.django_db
PDF = {"HTTP_ACCEPT": "application/pdf"}


def pdf_text(content: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def case(clinician: User, published: Any) -> Case:
    return evaluated_case(clinician, "NET-7001", "36_missing_bloods_pnet")


@pytest.fixture
def meeting(clinician: User, case: Case) -> Meeting:
    meeting = create_meeting(clinician, "NET MDT")
    services.meeting_add_case(actor=clinician, meeting=meeting, case=case)
    services.meeting_add_case(
        actor=clinician,
        meeting=meeting,
        case=evaluated_case(clinician, "NET-7002", "02_lung_progressive_nhs"),
    )
    return meeting


@pytest.fixture
def coordinator_api(coordinator: User, published: Any) -> ApiClient:
    return client_for(coordinator)


# --- the case sheet -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_a_token_client_gets_the_case_sheet_pdf_by_asking_for_it(
    coordinator_api: ApiClient, coordinator: User, case: Case, version: str
) -> None:
    response = coordinator_api.get_json(f"/api/{version}/cases/{case.pk}/summary/", **PDF)

    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="netcare-case-sheet-NET-7001.pdf"'
    assert "no-store" in response["Cache-Control"]
    text = pdf_text(response.content)
    assert "Case NET-7001" in text and "Options to consider now" in text and "Appendix" not in text
    assert len(PdfReader(io.BytesIO(response.content)).pages) <= 2
    event = AuditEvent.objects.get(action="summary.export")
    assert (event.actor, event.object_id, event.payload) == (coordinator, str(case.pk), {"format": "pdf"})
    if version == "v1":
        assert response["Deprecation"], "v1 answers stay deprecated, PDFs too"


def test_the_appendix_is_a_query_parameter_and_format_pdf_works_too(
    coordinator_api: ApiClient, case: Case
) -> None:
    response = coordinator_api.get_json(f"/api/v2/cases/{case.pk}/summary/?format=pdf&appendix=true")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "Appendix: every option and the rules that decided it" in pdf_text(response.content)


def test_without_accept_pdf_the_summary_stays_the_json_document(
    coordinator_api: ApiClient, case: Case
) -> None:
    for accept in ("", "application/json", "*/*", "application/json, application/pdf"):
        response = coordinator_api.get_json(f"/api/v1/cases/{case.pk}/summary/", HTTP_ACCEPT=accept)
        assert response.status_code == 200 and response["Content-Type"] == "application/json", accept
        assert response.json()["case"]["hospital_reference"] == "NET-7001"


def test_errors_are_json_even_when_a_pdf_was_asked_for(
    coordinator_api: ApiClient, author: ApiClient, anonymous: ApiClient, case: Case
) -> None:
    missing = coordinator_api.get_json("/api/v2/cases/999999/summary/", **PDF)
    refused = author.get_json(f"/api/v2/cases/{case.pk}/summary/", **PDF)
    nobody = anonymous.get_json(f"/api/v2/cases/{case.pk}/summary/", **PDF)
    bad = coordinator_api.get_json(f"/api/v2/cases/{case.pk}/summary/?appendix=perhaps", **PDF)

    assert (missing.status_code, refused.status_code, nobody.status_code) == (404, 403, 401)
    assert bad.status_code == 400 and bad.json()["errors"][0]["loc"] == ["query", "appendix"]
    for response in (missing, refused, nobody, bad):
        assert response["Content-Type"] == "application/json" and "detail" in response.json()


def test_an_unknown_accept_is_still_refused(coordinator_api: ApiClient, case: Case) -> None:
    response = coordinator_api.get_json(f"/api/v2/cases/{case.pk}/summary/", HTTP_ACCEPT="text/csv")

    assert response.status_code == 406


@pytest.fixture
def author(rule_author: User, published: Any) -> ApiClient:
    return client_for(rule_author)


# --- the pages' PDF URLs with a token -------------------------------------------------------------


def test_the_pages_answer_a_token_client_401_with_the_way_to_the_api(
    coordinator: User, case: Case, meeting: Meeting
) -> None:
    token = token_issue(user=coordinator, client="tests")[1]
    client = ApiClient(token)

    for url in (f"/cases/{case.pk}/summary.pdf", f"/meetings/{meeting.pk}/pack.pdf", f"/cases/{case.pk}/"):
        response = client.get_json(url)
        assert response.status_code == 401, url
        assert "/api/v2/cases/{id}/summary/" in response.json()["detail"], url
        assert response["WWW-Authenticate"].startswith("Session ")
    assert not AuditEvent.objects.filter(action="summary.export").exists()


def test_a_browser_without_a_session_is_still_sent_to_the_login_page(case: Case) -> None:
    from django.test import Client

    plain = Client().get(f"/cases/{case.pk}/summary.pdf")
    behind_a_basic_auth_proxy = Client().get(f"/cases/{case.pk}/summary.pdf", HTTP_AUTHORIZATION="Basic eDp5")

    for response in (plain, behind_a_basic_auth_proxy):
        assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


# --- the meeting pack under /api/v2/ --------------------------------------------------------------


def test_a_token_client_prepares_a_pack_follows_its_progress_and_downloads_it(
    coordinator_api: ApiClient, coordinator: User, meeting: Meeting
) -> None:
    url = f"/api/v2/meetings/{meeting.pk}/pack/"
    assert coordinator_api.get_json(url).status_code == 404  # none prepared yet

    prepared = coordinator_api.post_json(url, {"appendix": False})

    assert prepared.status_code == 202 and prepared["Location"] == url
    body = prepared.json()
    # The immediate task backend of the tests has built it already; a worker would take a while.
    assert (body["status"], body["cases"], body["done"], body["appendix"]) == ("ready", 2, 2, False)
    assert body["pdf"] == url
    state = coordinator_api.get_json(url).json()
    assert state["id"] == body["id"] and state["status"] == "ready"
    download = coordinator_api.get_json(url, **PDF)
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    text = pdf_text(download.content)
    assert "NETCARE MEETING PACK" in text and "NET-7001" in text and "NET-7002" in text
    event = AuditEvent.objects.filter(action="summary.export").get()
    assert (event.object_type, event.object_id, event.payload) == (
        "meeting",
        str(meeting.pk),
        {"format": "pdf"},
    )


def test_a_pack_not_ready_yet_is_a_409_with_its_progress(
    coordinator_api: ApiClient, coordinator: User, meeting: Meeting
) -> None:
    MeetingPack.objects.create(meeting=meeting, requested_by=coordinator, cases=2, done=1, status="running")

    response = coordinator_api.get_json(f"/api/v2/meetings/{meeting.pk}/pack/", **PDF)

    assert response.status_code == 409 and response["Content-Type"] == "application/json"
    assert "1 of 2 case sheets made" in response.json()["detail"]
    assert response.json()["current"]["status"] == "running"


def test_preparing_a_pack_checks_its_body_and_the_meeting(
    coordinator_api: ApiClient, coordinator: User, published: Any
) -> None:
    empty = create_meeting(coordinator, "Empty MDT")
    url = f"/api/v2/meetings/{empty.pk}/pack/"

    bad = coordinator_api.post_json(url, {"appendix": "yes please"})
    unknown = coordinator_api.post_json(url, {"colour": "blue"})
    nothing = coordinator_api.post_json(url, {})

    assert bad.status_code == 400 and bad.json()["errors"][0]["loc"] == ["appendix"]
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["loc"] == ["colour"]
    assert nothing.status_code == 409 and "no cases" in nothing.json()["detail"]
    assert coordinator_api.post_json("/api/v2/meetings/999999/pack/", {}).status_code == 404


def test_the_pack_endpoint_is_v2_only_and_for_roles_that_export(
    author: ApiClient, coordinator_api: ApiClient, meeting: Meeting
) -> None:
    assert coordinator_api.get_json(f"/api/v1/meetings/{meeting.pk}/pack/").status_code == 404
    assert author.post_json(f"/api/v2/meetings/{meeting.pk}/pack/", {}).status_code == 403
    assert author.get_json(f"/api/v2/meetings/{meeting.pk}/pack/").status_code == 403
