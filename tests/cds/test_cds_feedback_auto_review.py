"""CDS_FEEDBACK_AUTO_REVIEW (interop spec B.8): off by default; on, feedback on an option card becomes
the review of the NETcare clinician the EHR user is linked to (PractitionerLink), for a call linked
to a case. Without a link, without the clinician's right to review, or with feedback that says too
little, the feedback stays pending for a clinician to record."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings

from tests.cds.conftest import Ehr
from tests.cds.test_cds_feedback import _accepted, _cards, _overridden, _prefers
from treatments.models import AuditEvent, CardFeedback, Case, PractitionerLink, Review
from treatments.services.cds import practitioner_link

pytestmark = pytest.mark.django_db

EHR_USER = "Practitioner/dr-hughes"  # the userId of tools.cds_client.hook_request


def test_off_by_default_the_feedback_waits_for_a_clinician(ehr: Ehr, case: Case, clinician: User) -> None:
    practitioner_link(actor=None, client=ehr.client, user_ref=EHR_USER, user=clinician)
    trial = _cards(ehr, linked=True)[1]

    ehr.feedback([_overridden(trial, _prefers())])

    assert not Review.objects.exists()
    assert CardFeedback.objects.get().recorded_review is None


@override_settings(CDS_FEEDBACK_AUTO_REVIEW=True)
def test_on_the_linked_clinicians_review_is_recorded_at_once(ehr: Ehr, case: Case, clinician: User) -> None:
    practitioner_link(actor=None, client=ehr.client, user_ref=EHR_USER, user=clinician)
    trial = _cards(ehr, linked=True)[1]

    response = ehr.feedback([_overridden(trial, _prefers())])

    assert response.status_code == 200
    review = Review.objects.get()
    assert (review.decision, review.reason_code) == ("reject", "patient_preference")
    assert review.reviewed_by == clinician
    assert review.evaluation.case == case
    assert str(trial["uuid"]) in review.note
    assert CardFeedback.objects.get().recorded_review == review
    event = AuditEvent.objects.get(action="cds.feedback_review")
    assert event.actor == clinician
    assert event.payload["automatic"] is True


@override_settings(CDS_FEEDBACK_AUTO_REVIEW=True)
def test_on_without_a_link_the_feedback_stays_pending(ehr: Ehr, case: Case) -> None:
    trial = _cards(ehr, linked=True)[1]

    ehr.feedback([_accepted(trial)])

    assert not Review.objects.exists()
    assert CardFeedback.objects.get().recorded_review is None


@override_settings(CDS_FEEDBACK_AUTO_REVIEW=True)
def test_on_a_user_who_may_not_review_records_nothing(ehr: Ehr, case: Case, coordinator: User) -> None:
    practitioner_link(actor=None, client=ehr.client, user_ref=EHR_USER, user=coordinator)
    trial = _cards(ehr, linked=True)[1]

    ehr.feedback([_accepted(trial)])

    assert not Review.objects.exists()


@override_settings(CDS_FEEDBACK_AUTO_REVIEW=True)
def test_on_an_unlinked_call_or_an_override_without_reason_records_nothing(
    ehr: Ehr, case: Case, clinician: User
) -> None:
    practitioner_link(actor=None, client=ehr.client, user_ref=EHR_USER, user=clinician)
    unlinked = _cards(ehr)[1]
    linked = _cards(ehr, linked=True)[1]

    response = ehr.feedback([_accepted(unlinked), _overridden(linked)])

    assert response.status_code == 200
    assert CardFeedback.objects.count() == 2
    assert not Review.objects.exists()


def test_the_command_links_an_ehr_user_to_a_netcare_user(ehr: Ehr, clinician: User) -> None:
    call_command(
        "cds_client", "link", "--iss", ehr.client.iss, "--user-ref", EHR_USER,
        "--username", clinician.username,
    )  # fmt: skip

    assert PractitionerLink.objects.get().user == clinician
    assert AuditEvent.objects.filter(action="cds.practitioner_link.create").exists()


@pytest.mark.parametrize(
    ("iss", "user_ref", "username"),
    [("https://nobody.example", EHR_USER, None), (None, "Patient/1", None), (None, EHR_USER, "nobody")],
)
def test_the_link_command_refuses_bad_input_with_exit_2(
    ehr: Ehr, clinician: User, iss: str | None, user_ref: str, username: str | None
) -> None:
    with pytest.raises(CommandError) as refused:
        call_command(
            "cds_client", "link", "--iss", iss or ehr.client.iss, "--user-ref", user_ref,
            "--username", username or clinician.username,
        )  # fmt: skip
    assert refused.value.returncode == 2
    assert not PractitionerLink.objects.exists()


def test_an_administrator_links_an_ehr_user_in_the_admin_and_it_is_audited(
    ehr: Ehr, clinician: User, admin_user: User
) -> None:
    page = Client()
    page.force_login(admin_user)
    form = {"client": ehr.client.pk, "user_ref": EHR_USER, "user": clinician.pk}

    assert page.post("/admin/treatments/practitionerlink/add/", form).status_code == 302
    link = PractitionerLink.objects.get()
    assert (
        page.post(f"/admin/treatments/practitionerlink/{link.pk}/delete/", {"post": "yes"}).status_code == 302
    )

    assert not PractitionerLink.objects.exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="cds.practitioner_link").values_list("action", "actor")
    )
    assert sorted(actions) == [
        ("cds.practitioner_link.create", admin_user.pk), ("cds.practitioner_link.delete", admin_user.pk)
    ]  # fmt: skip
