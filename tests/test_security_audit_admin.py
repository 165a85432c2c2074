"""The audit trail in the admin (security review F6): the administrator, who may not see cases,
reads who did what and when, but not the clinical content of patient events: no hospital reference,
no profile, no notes, and no search or filter that would find a patient by them. Clinical roles
with admin access still see everything. Tested through the admin pages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import make_user
from tests.pages.conftest import logged_in
from tests.pages.mdt import create_case
from treatments import roles, selectors, services
from treatments.inputs import ReviewInput
from treatments.models import AuditEvent, RuleSet

pytestmark = pytest.mark.django_db

REFERENCE = "RFH-7001"
CLINICAL = [REFERENCE, "Carcinoid syndrome with flushing", "Dr Q Lister", "Needs renal function first"]


@pytest.fixture
def patient_events(clinician: User, published: RuleSet) -> dict[str, AuditEvent]:
    case = create_case(
        clinician,
        REFERENCE,
        {"primary_site": "small_intestine", "ecog": 1, "pregnant": False},
        referring_clinician="Dr Q Lister",
        clinical_summary="Carcinoid syndrome with flushing",
    )
    services.case_evaluate(actor=clinician, case=case)
    services.option_review(
        actor=clinician,
        evaluation=selectors.latest_evaluation(case),  # type: ignore[arg-type]
        modality="prrt_lu177",
        data=ReviewInput(decision="defer", reason_code="awaiting_data", note="Needs renal function first"),
    )
    return {event.action: event for event in AuditEvent.objects.all()}


def _shows_clinical_content(html: str) -> list[str]:
    return [value for value in CLINICAL if value in html]


def test_the_administrator_sees_who_did_what_but_no_clinical_content_in_the_list_and_the_events(
    admin_user: User, patient_events: dict[str, AuditEvent]
) -> None:
    assert not roles.can(admin_user, "view_cases")
    client = logged_in(admin_user)

    listing = client.get("/admin/treatments/auditevent/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "case.create" in html and "review.save" in html and "dr_hughes" in html
    assert _shows_clinical_content(html) == []

    for action in ("case.create", "evaluation.create", "review.save"):
        event = patient_events[action]
        detail = client.get(f"/admin/treatments/auditevent/{event.pk}/change/")
        page = detail.content.decode()
        assert detail.status_code == 200, action
        assert _shows_clinical_content(page) == [], action
        assert "hidden: your role may not see cases" in page and "dr_hughes" in page


def test_the_administrator_cannot_find_a_patient_by_search_or_by_a_filter_on_the_payload(
    admin_user: User, patient_events: dict[str, AuditEvent]
) -> None:
    client = logged_in(admin_user)

    searched = client.get("/admin/treatments/auditevent/", {"q": REFERENCE})
    assert searched.status_code == 200 and "0 audit events" in searched.content.decode()

    for query in (
        {"payload__fields__hospital_reference": REFERENCE},
        {"object_repr__contains": REFERENCE},
        {"payload__case": REFERENCE},
    ):
        filtered = client.get("/admin/treatments/auditevent/", query)
        assert filtered.status_code == 400, query
        assert _shows_clinical_content(filtered.content.decode()) == []

    by_action = client.get("/admin/treatments/auditevent/", {"action": "case.create"})
    assert by_action.status_code == 200 and "1 audit event" in by_action.content.decode()


def test_knowledge_base_events_stay_fully_readable_for_the_administrator(
    admin_user: User, patient_events: dict[str, AuditEvent], published: RuleSet
) -> None:
    event = AuditEvent.objects.get(action="ruleset.publish")

    page = logged_in(admin_user).get(f"/admin/treatments/auditevent/{event.pk}/change/").content.decode()

    assert published.checksum in page and "your role may not see cases" not in page


def test_a_clinical_role_with_admin_access_still_reads_the_whole_event(
    db: None, patient_events: dict[str, AuditEvent]
) -> None:
    lead = make_user("mdt_lead", roles.CLINICIAN, is_staff=True, is_superuser=True)
    client: Client = logged_in(lead)

    listing = client.get("/admin/treatments/auditevent/", {"q": REFERENCE}).content.decode()
    detail = client.get(f"/admin/treatments/auditevent/{patient_events['case.create'].pk}/change/")

    assert REFERENCE in listing
    assert _shows_clinical_content(detail.content.decode()) == CLINICAL[:3]
