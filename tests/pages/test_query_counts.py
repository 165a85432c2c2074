"""The MDT coordinator's lists cost a fixed number of queries whatever their length.

A 30-case meeting must not cost 30 times a 1-case one: the worklist (page, API and selector), the
case list (page and API) and the case page are measured with 1 and 10 evaluated cases.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.pages.mdt import create_meeting, evaluated_case
from treatments import selectors, services
from treatments.models import Meeting

pytestmark = pytest.mark.django_db


_references = itertools.count(2000)


def _meeting_with(cases: int, actor: User) -> Meeting:
    meeting = create_meeting(actor)
    for _ in range(cases):
        case = evaluated_case(actor, f"NET-{next(_references)}")
        services.meeting_add_case(actor=actor, meeting=meeting, case=case)
    return meeting


def _queries(call: Callable[[], Any]) -> int:
    call()  # warm the per-process caches (rule set, tokens, sessions) first
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert getattr(response, "status_code", 200) == 200
    return len(captured)


def _counts(make: Callable[[Meeting], Callable[[], Any]], actor: User) -> tuple[int, int]:
    one = _queries(make(_meeting_with(1, actor)))
    ten = _queries(make(_meeting_with(10, actor)))  # the case lists then show eleven
    return one, ten


def test_the_worklist_selector_costs_the_same_for_ten_cases_as_for_one(
    clinician: User, published: object
) -> None:
    one, ten = _counts(lambda meeting: lambda: selectors.meeting_worklist(meeting), clinician)

    assert ten == one
    assert one <= 5  # entries, latest evaluations, facts marked not needed, accepted reviews, rule set


def test_the_meeting_page_costs_the_same_for_ten_cases_as_for_one(
    coordinator: User, coordinator_client: Client
) -> None:
    one, ten = _counts(
        lambda meeting: lambda: coordinator_client.get(f"/meetings/{meeting.pk}/"), coordinator
    )

    assert ten == one


def test_the_worklist_api_costs_the_same_for_ten_cases_as_for_one(
    clinician: User, clinician_client: Client
) -> None:
    one, ten = _counts(
        lambda meeting: lambda: clinician_client.get(f"/api/v1/meetings/{meeting.pk}/worklist/"), clinician
    )

    assert ten == one


def test_the_case_list_page_and_api_cost_the_same_for_ten_cases_as_for_one(
    clinician: User, clinician_client: Client
) -> None:
    one, ten = _counts(lambda meeting: lambda: clinician_client.get("/cases/"), clinician)
    api_one, api_ten = _counts(lambda meeting: lambda: clinician_client.get("/api/v1/cases/"), clinician)

    assert ten == one
    assert api_ten == api_one


def test_a_case_page_costs_the_same_whatever_the_number_of_cases(
    clinician: User, clinician_client: Client
) -> None:
    def case_page(meeting: Meeting) -> Callable[[], Any]:
        case = meeting.entries.first().case  # type: ignore[union-attr]
        return lambda: clinician_client.get(f"/cases/{case.pk}/")

    one, ten = _counts(case_page, clinician)

    assert ten == one
