"""Outcomes that close the loop: reasons that fit the decision, an outcome pre-filled from the
accepted reviews, coded next steps, the case moving to "discussed", trial-only choices counted as
concordant, and the outcome letter to the GP and the referrer as a PDF. Every write is audited."""

from __future__ import annotations

import html
import io
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from pypdf import PdfReader

from tests.pages.mdt import create_meeting, evaluated_case, field_error, from_tag, text
from treatments import selectors, services
from treatments.inputs import ReviewInput
from treatments.models import AuditEvent, Case, Meeting, Outcome, Review

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(clinician: User, published: object) -> Meeting:
    """NET MDT with NET-4001 (SI G2 progressive) and NET-4002 (PRRT trial only: Ki-67 22 %)."""
    meeting = create_meeting(clinician)
    for reference, vignette in (
        ("NET-4001", "01_si_g2_progressive_nhs"),
        ("NET-4002", "06_si_g2_ki67_22_nhs"),
    ):
        case = evaluated_case(clinician, reference, vignette)
        services.meeting_add_case(actor=clinician, meeting=meeting, case=case)
    return meeting


def case_of(meeting: Meeting, reference: str) -> Case:
    return meeting.entries.get(case__hospital_reference=reference).case


def outcome_post(case: Case, chosen: list[str], steps: list[str], plan: str = "As discussed") -> dict:
    prefix = f"case{case.pk}"
    return {
        f"{prefix}-chosen_modalities": chosen,
        f"{prefix}-next_steps": steps,
        f"{prefix}-plan": plan,
        f"{prefix}-version": "",
        f"{prefix}-evaluation": str(selectors.latest_evaluation(case).pk),  # type: ignore[union-attr]
    }


def test_a_reason_that_does_not_fit_the_decision_is_refused_by_the_field(
    clinician_client: Client, meeting: Meeting
) -> None:
    case = case_of(meeting, "NET-4001")
    evaluation = selectors.latest_evaluation(case)
    assert evaluation is not None

    response = clinician_client.post(
        f"/cases/{case.pk}/evaluations/{evaluation.pk}/review/ssta/",
        {"ssta-decision": "reject", "ssta-reason_code": "clinically_appropriate", "ssta-note": ""},
    )

    assert response.status_code == 400 and not Review.objects.exists()
    message = html.unescape(field_error(response.content.decode(), "id_ssta-reason_code"))
    assert "'Clinically appropriate' is not a reason to reject" in message and "Risk of toxicity" in message


def test_the_reason_list_is_grouped_by_the_decision_it_fits(
    clinician_client: Client, meeting: Meeting
) -> None:
    case = case_of(meeting, "NET-4001")

    html = clinician_client.get(f"/cases/{case.pk}/").content.decode()

    select = from_tag(html, 'id="id_ssta-reason_code"', 3000)
    assert (
        '<optgroup label="Reasons to reject">' in select and '<optgroup label="Reasons to defer">' in select
    )


def test_the_outcome_form_starts_from_the_accepted_reviews(
    clinician_client: Client, clinician: User, meeting: Meeting
) -> None:
    case = case_of(meeting, "NET-4001")
    evaluation = selectors.latest_evaluation(case)
    assert evaluation is not None
    services.option_review(
        actor=clinician,
        evaluation=evaluation,
        modality="ssta",
        data=ReviewInput(decision="accept", reason_code="guideline_recommended"),
    )

    page = clinician_client.get(f"/meetings/{meeting.pk}/").content.decode()

    form = from_tag(page, f'action="/meetings/{meeting.pk}/cases/{case.pk}/outcome/"', 30000)
    form = form[: form.index("</form>")]
    ticked = re.findall(r'<input type="checkbox" name="case\d+-(\w+)" value="(\w+)"[^>]*checked', form)
    assert ticked == [("chosen_modalities", "ssta"), ("next_steps", "treatment")]
    assert "The options accepted in the reviews are ticked already." in text(page)


def test_a_coded_outcome_moves_the_case_to_discussed_and_is_audited(
    clinician_client: Client, meeting: Meeting
) -> None:
    case = case_of(meeting, "NET-4001")
    version = case.version

    response = clinician_client.post(
        f"/meetings/{meeting.pk}/cases/{case.pk}/outcome/",
        outcome_post(case, [], ["surveillance", "rediscuss"], "Scan in 3 months"),
    )

    assert response.status_code == 302
    outcome = Outcome.objects.get(entry__case=case)
    assert outcome.next_steps == ["surveillance", "rediscuss"] and outcome.concordant is None
    case.refresh_from_db()
    assert case.status == "discussed" and case.version == version + 1
    event = AuditEvent.objects.get(action="outcome.record")
    assert event.payload["next_steps"] == ["surveillance", "rediscuss"]
    assert event.payload["case_status"] == {"before": "draft", "after": "discussed"}
    html = text(clinician_client.get(f"/meetings/{meeting.pk}/").content.decode())
    assert "Next steps: Surveillance; Re-discuss at a later MDT" in html
    assert "Discussed" in text(clinician_client.get("/cases/").content.decode())


def test_an_unknown_next_step_is_refused_by_the_field(clinician_client: Client, meeting: Meeting) -> None:
    case = case_of(meeting, "NET-4001")

    response = clinician_client.post(
        f"/meetings/{meeting.pk}/cases/{case.pk}/outcome/", outcome_post(case, [], ["chemo_forever"])
    )

    assert response.status_code == 400 and not Outcome.objects.exists()
    assert "chemo_forever is not one of the listed steps" in text(response.content.decode())


def test_choosing_a_trial_only_option_is_concordant(clinician_client: Client, meeting: Meeting) -> None:
    case = case_of(meeting, "NET-4002")
    assert selectors.latest_evaluation(case).option_statuses()["prrt_lu177"] == "trial_only"  # type: ignore[union-attr]

    clinician_client.post(
        f"/meetings/{meeting.pk}/cases/{case.pk}/outcome/",
        outcome_post(case, ["prrt_lu177"], ["trial_referral"]),
    )

    assert Outcome.objects.get(entry__case=case).concordant is True
    html = text(clinician_client.get(f"/meetings/{meeting.pk}/").content.decode())
    assert "1 of 1 decision chose only candidate or trial-only options (100 %)." in html


def test_the_outcome_letter_names_the_decision_and_the_next_step_in_plain_words(
    clinician_client: Client, coordinator_client: Client, meeting: Meeting
) -> None:
    case = case_of(meeting, "NET-4001")
    before = clinician_client.get(f"/meetings/{meeting.pk}/cases/{case.pk}/letter.pdf")
    clinician_client.post(
        f"/meetings/{meeting.pk}/cases/{case.pk}/outcome/",
        outcome_post(case, ["ssta"], ["treatment", "further_imaging"], "Lanreotide; CT in 3 months"),
    )

    response = coordinator_client.get(f"/meetings/{meeting.pk}/cases/{case.pk}/letter.pdf")

    assert before.status_code == 404
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "netcare-mdt-outcome-NET-4001-" in response["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    words = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert len(reader.pages) == 1
    assert "MDT outcome for patient NET-4001" in words and "Dear colleague" in words
    assert "Somatostatin analogue" in words or "somatostatin" in words.lower()
    assert "Further imaging. Arrange further scans before a final decision." in words
    assert "Lanreotide; CT in 3 months" in words
    event = AuditEvent.objects.filter(action="summary.export").latest("id")
    assert event.payload == {"format": "letter.pdf"}


def test_only_clinicians_and_coordinators_get_the_letter(
    author_client: Client, clinician_client: Client, meeting: Meeting
) -> None:
    case = case_of(meeting, "NET-4001")
    clinician_client.post(
        f"/meetings/{meeting.pk}/cases/{case.pk}/outcome/", outcome_post(case, [], ["surveillance"])
    )

    assert author_client.get(f"/meetings/{meeting.pk}/cases/{case.pk}/letter.pdf").status_code == 403
