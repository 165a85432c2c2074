"""Bad input on the pages is a message by its field, never a 500 (security review F7): control
characters, NHS numbers in other scripts' digits, a NUL in a search or a path, a deeply nested
what-if base."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.pages.mdt import case_post, create_case, field_error
from treatments.models import Case


@pytest.mark.parametrize("nhs_number", ["٩٤٣٤٧٦٥٩١٩", "９４３４７６５９１９"])
def test_an_nhs_number_in_other_digits_is_refused_by_its_field(
    clinician_client: Client, nhs_number: str
) -> None:
    response = clinician_client.post("/cases/new/", case_post(nhs_number=nhs_number))

    assert response.status_code == 400
    assert "must be 10 digits" in field_error(response.content.decode(), "id_nhs_number")
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("question", "a\x1bb"), ("referring_clinician", "Dr\x07X"), ("clinical_summary", "x\x0by")],
)
def test_control_characters_in_the_case_form_are_refused_by_their_field(
    clinician_client: Client, field: str, value: str
) -> None:
    response = clinician_client.post("/cases/new/", case_post(None, **{field: value}))

    assert response.status_code == 400
    assert "must not contain control characters" in field_error(response.content.decode(), f"id_{field}")
    assert not Case.objects.exists()


def test_a_nul_in_the_case_form_is_refused_by_its_field(clinician_client: Client) -> None:
    response = clinician_client.post("/cases/new/", case_post(question="a\x00b"))

    assert response.status_code == 400
    assert field_error(response.content.decode(), "id_question")


def test_a_meeting_title_with_a_control_character_is_refused_by_its_field(clinician_client: Client) -> None:
    response = clinician_client.post("/meetings/new/", {"title": "NET\x1bMDT", "date": "2026-12-03"})

    assert response.status_code == 400
    assert "must not contain control characters" in field_error(response.content.decode(), "id_title")


@pytest.mark.parametrize("path", ["/catalogue/", "/cases/"])
def test_a_nul_in_a_search_box_is_a_message_by_the_box(
    clinician_client: Client, clinician: User, path: str
) -> None:
    create_case(clinician)

    response = clinician_client.get(path, {"q": "a\x00b"})

    assert response.status_code == 200
    assert "Search must not contain control characters" in response.content.decode()


def test_a_nul_in_a_modality_path_is_a_404(clinician_client: Client) -> None:
    assert clinician_client.get("/catalogue/a%00b/").status_code == 404


@pytest.mark.parametrize("headers", [{}, {"HTTP_HX_REQUEST": "true"}])
def test_a_deeply_nested_what_if_base_is_a_form_error(
    clinician_client: Client, headers: dict[str, Any]
) -> None:
    response = clinician_client.post("/check/what-if/", {"base": "[" * 9999}, **headers)

    assert response.status_code == 400
    assert "The facts of the previous result could not be read" in response.content.decode()
