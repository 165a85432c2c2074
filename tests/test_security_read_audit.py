"""Reads of a case are audited (security review F13).

Before: only summary exports were recorded; GET of a case (page or API) and its evaluations left no
trace. Now each such read is one `case.read` event: who, which case, when and through what view -
never what was shown. Lists are not audited. Tested over HTTP with Django's test client.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.api.conftest import client_for
from tests.pages.conftest import logged_in
from tests.pages.mdt import evaluated_case
from treatments.models import AuditEvent, Case

pytestmark = pytest.mark.django_db

REFERENCE = "RFH-8123"


@pytest.fixture
def case(clinician: User, published: Any) -> Case:
    return evaluated_case(clinician, REFERENCE)


@pytest.fixture
def clinician_client(clinician: User) -> Client:
    return logged_in(clinician)


@pytest.fixture
def coordinator_client(coordinator: User) -> Client:
    return logged_in(coordinator)


@pytest.fixture
def author_client(rule_author: User) -> Client:
    return logged_in(rule_author)


def reads(case: Case) -> list[tuple[str, dict[str, Any]]]:
    events = AuditEvent.objects.filter(action="case.read", object_type="case", object_id=str(case.pk))
    return [(event.actor_name, event.payload) for event in events.order_by("id")]


def test_the_case_page_and_an_evaluation_page_are_recorded(
    case: Case, coordinator: User, coordinator_client: Client
) -> None:
    evaluation = case.evaluations.get()

    assert coordinator_client.get(f"/cases/{case.pk}/").status_code == 200
    assert coordinator_client.get(f"/cases/{case.pk}/evaluations/{evaluation.pk}/").status_code == 200

    assert reads(case) == [
        ("mdt_reyes", {"view": "page"}),
        ("mdt_reyes", {"view": "evaluation page", "evaluation": evaluation.pk}),
    ]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_api_case_and_evaluation_reads_are_recorded(case: Case, coordinator: User, version: str) -> None:
    api = client_for(coordinator)
    evaluation = case.evaluations.get()

    assert api.get_json(f"/api/{version}/cases/{case.pk}/").status_code == 200
    assert api.get_json(f"/api/{version}/cases/{case.pk}/evaluations/{evaluation.pk}/").status_code == 200

    assert reads(case) == [
        ("mdt_reyes", {"view": f"api {version}"}),
        ("mdt_reyes", {"view": f"api {version}", "evaluation": evaluation.pk}),
    ]


def test_a_read_event_holds_no_clinical_content(case: Case, clinician_client: Client) -> None:
    clinician_client.get(f"/cases/{case.pk}/")

    event = AuditEvent.objects.get(action="case.read")
    assert event.actor_name == "dr_hughes" and event.at is not None
    assert set(event.payload) == {"view"}
    assert str(case.facts) not in str(event.payload)


def test_lists_are_not_recorded_and_refused_reads_are_not_either(
    case: Case, clinician_client: Client, author_client: Client
) -> None:
    assert clinician_client.get("/cases/").status_code == 200
    assert clinician_client.get("/cases/999999/").status_code == 404
    assert author_client.get(f"/cases/{case.pk}/").status_code == 403

    assert reads(case) == []


def test_summaries_and_pdfs_stay_recorded_as_exports(case: Case, clinician_client: Client) -> None:
    assert clinician_client.get(f"/cases/{case.pk}/summary/").status_code == 200

    assert AuditEvent.objects.filter(action="summary.export", object_id=str(case.pk)).count() == 1
