"""Bad input on the pages is a message by its field, never a 500 (security review F7): control
characters, NHS numbers in other scripts' digits, a NUL in a search or a path, a deeply nested
what-if base. And no lost updates (F12): the meeting and outcome forms say what they were made from."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.pages.mdt import case_post, create_case, create_meeting, evaluated_case, field_error
from treatments import selectors, services
from treatments.inputs import CaseChange, MeetingChange
from treatments.models import Case, Outcome


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


# --- lost updates (security review F12) ------------------------------------------------------------


def test_the_meeting_edit_form_sends_its_version_and_a_stale_one_is_a_conflict_not_an_overwrite(
    clinician_client: Client, clinician: User
) -> None:
    meeting = create_meeting(clinician)
    page = clinician_client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert re.search(r'<input type="hidden" name="meeting-version" value="1"', page)
    services.meeting_update(
        actor=clinician, meeting=meeting, data=MeetingChange(title="Theirs", date=meeting.date, version=1)
    )

    response = clinician_client.post(
        f"/meetings/{meeting.pk}/edit/",
        {"meeting-title": "Mine", "meeting-date": "2031-02-06", "meeting-version": "1"},
    )

    html = response.content.decode()
    assert response.status_code == 409
    assert "was changed since you opened it" in html
    assert 'value="Mine"' in html and re.search(r'name="meeting-version" value="2"', html)
    meeting.refresh_from_db()
    assert (meeting.title, meeting.version) == ("Theirs", 2)


def test_the_outcome_form_names_its_evaluation_and_a_superseded_one_is_not_recorded(
    clinician_client: Client, clinician: User
) -> None:
    meeting = create_meeting(clinician)
    case = evaluated_case(clinician)
    services.meeting_add_case(actor=clinician, meeting=meeting, case=case)
    shown = selectors.latest_evaluation(case)
    assert shown is not None
    page = clinician_client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert f'name="case{case.pk}-evaluation" value="{shown.pk}"' in page
    changed = services.case_update(
        actor=clinician,
        case=case,
        data=CaseChange.model_validate({"version": case.version, "profile": {**case.profile, "ecog": 4}}),
    )
    newer = services.case_evaluate(actor=clinician, case=changed)
    assert newer.pk != shown.pk
    post = {f"case{case.pk}-plan": "PRRT", f"case{case.pk}-evaluation": str(shown.pk)}

    response = clinician_client.post(f"/meetings/{meeting.pk}/cases/{case.pk}/outcome/", post)

    html = response.content.decode()
    assert response.status_code == 409
    assert "A newer evaluation of this case exists" in html
    assert f'name="case{case.pk}-evaluation" value="{newer.pk}"' in html
    assert not Outcome.objects.exists()
