"""Unbounded growth (security review F9): every API list is bounded, and re-evaluating an unchanged
case makes no new row.

- v2 lists (cases, a case's evaluations, meetings) are pages: {"count", "page", "pages", "results"}.
- v1's published document says the evaluation and meeting lists are arrays, so v1 keeps arrays and
  answers the newest EVALUATION_PAGE_SIZE / PAGE_SIZE only (docs/contract.md 4.1).
- POST .../evaluations/ with the same facts under the same rule set as the latest evaluation
  answers 200 with that evaluation, not 201 with a copy.
- The case page lists the newest evaluations and links to older ones (a plain link).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.api.conftest import ApiClient, client_for
from tests.personas import SI_NET
from treatments import services
from treatments.api.pagination import EVALUATION_PAGE_SIZE, PAGE_SIZE
from treatments.inputs import CaseChange, CaseCreate, MeetingInput
from treatments.models import AuditEvent, Case, Evaluation


@pytest.fixture
def coordinator_api(published: Any, coordinator: User) -> ApiClient:
    return client_for(coordinator)


def new_case(actor: User, reference: str = "GROW-0001") -> Case:
    data = CaseCreate.model_validate(
        {
            "hospital_reference": reference,
            "referring_clinician": "Dr Ada Lovelace",
            "question": "Is PRRT an option?",
            "profile": SI_NET,
        }
    )
    return services.case_create(actor=actor, data=data)


def evaluated_many(actor: User, count: int) -> tuple[Case, list[Evaluation]]:
    """A case evaluated `count` times, its Ki-67 changed before each (so each one is new)."""
    case = new_case(actor)
    made = []
    for number in range(count):
        change = CaseChange.model_validate(
            {"version": case.version, "profile": {**SI_NET, "ki67_percent": 3 + number % 15}}
        )
        case = services.case_update(actor=actor, case=case, data=change)
        made.append(services.case_evaluate(actor=actor, case=case))
    return case, made


# --- evaluating an unchanged case --------------------------------------------------------------------


def test_evaluating_an_unchanged_case_again_answers_the_latest_evaluation_without_a_new_row(
    coordinator_api: ApiClient, coordinator: User
) -> None:
    case = new_case(coordinator)
    url = f"/api/v2/cases/{case.pk}/evaluations/"

    first = coordinator_api.post_json(url, None)
    again = coordinator_api.post_json(url, None)
    v1_again = coordinator_api.post_json(f"/api/v1/cases/{case.pk}/evaluations/", None)

    assert first.status_code == 201
    assert again.status_code == 200 and v1_again.status_code == 200
    assert again.json()["id"] == v1_again.json()["id"] == first.json()["id"]
    assert Evaluation.objects.filter(case=case).count() == 1
    assert AuditEvent.objects.filter(action="evaluation.create").count() == 1  # nothing new was written


def test_a_changed_fact_makes_a_new_evaluation(coordinator_api: ApiClient, coordinator: User) -> None:
    case = new_case(coordinator)
    url = f"/api/v2/cases/{case.pk}/evaluations/"
    first = coordinator_api.post_json(url, None).json()
    change = {"version": case.version, "profile": {**SI_NET, "ecog": 2}}
    assert coordinator_api.send("PATCH", f"/api/v2/cases/{case.pk}/", change).status_code == 200

    second = coordinator_api.post_json(url, None)

    assert second.status_code == 201 and second.json()["id"] != first["id"]
    # Back to the first facts: the latest differs, so this is a new evaluation again.
    back = {"version": case.version + 1, "profile": SI_NET}
    assert coordinator_api.send("PATCH", f"/api/v2/cases/{case.pk}/", back).status_code == 200
    assert coordinator_api.post_json(url, None).status_code == 201


# --- evaluation lists --------------------------------------------------------------------------------


def test_v2_pages_a_cases_evaluations_newest_first(coordinator_api: ApiClient, coordinator: User) -> None:
    case, made = evaluated_many(coordinator, EVALUATION_PAGE_SIZE + 1)
    url = f"/api/v2/cases/{case.pk}/evaluations/"

    first = coordinator_api.get_json(url).json()
    second = coordinator_api.get_json(url + "?page=2").json()
    beyond = coordinator_api.get_json(url + "?page=3").json()

    assert (first["count"], first["page"], first["pages"]) == (EVALUATION_PAGE_SIZE + 1, 1, 2)
    assert [item["id"] for item in first["results"]] == [e.pk for e in reversed(made[1:])]
    assert [item["id"] for item in second["results"]] == [made[0].pk]
    assert beyond["results"] == [] and beyond["pages"] == 2


def test_v1_keeps_its_array_of_evaluations_and_answers_the_newest_only(
    coordinator_api: ApiClient, coordinator: User
) -> None:
    case, made = evaluated_many(coordinator, EVALUATION_PAGE_SIZE + 1)

    body = coordinator_api.get_json(f"/api/v1/cases/{case.pk}/evaluations/").json()

    assert isinstance(body, list)
    assert [item["id"] for item in body] == [e.pk for e in reversed(made[1:])]
    # The oldest is still there, by its id.
    older = coordinator_api.get_json(f"/api/v1/cases/{case.pk}/evaluations/{made[0].pk}/")
    assert older.status_code == 200


@pytest.mark.parametrize("page", ["0", "-1", "abc", "100001"])
def test_a_bad_page_number_is_a_400_naming_the_parameter(
    coordinator_api: ApiClient, coordinator: User, page: str
) -> None:
    case = new_case(coordinator)
    for url in (f"/api/v2/cases/{case.pk}/evaluations/", "/api/v2/meetings/"):
        response = coordinator_api.get_json(f"{url}?page={page}")
        assert response.status_code == 400
        assert response.json()["errors"][0]["loc"] == ["query", "page"]


# --- meetings ---------------------------------------------------------------------------------------


def test_v2_pages_the_meetings_and_v1_answers_the_newest_as_an_array(
    coordinator_api: ApiClient, coordinator: User
) -> None:
    start = dt.date(2027, 1, 1)
    for day in range(PAGE_SIZE + 1):
        data = MeetingInput(title=f"NET MDT {day}", date=start + dt.timedelta(days=day))
        services.meeting_create(actor=coordinator, data=data)

    first = coordinator_api.get_json("/api/v2/meetings/").json()
    second = coordinator_api.get_json("/api/v2/meetings/?page=2").json()
    v1 = coordinator_api.get_json("/api/v1/meetings/").json()

    assert (first["count"], first["pages"], len(first["results"])) == (PAGE_SIZE + 1, 2, PAGE_SIZE)
    assert len(second["results"]) == 1
    assert isinstance(v1, list) and len(v1) == PAGE_SIZE
    assert [m["id"] for m in v1] == [m["id"] for m in first["results"]]


# --- the case page ----------------------------------------------------------------------------------


def test_the_case_page_lists_the_newest_evaluations_and_links_to_older_ones(
    published: Any, coordinator: User
) -> None:
    coordinator_client = Client()
    coordinator_client.force_login(coordinator)
    case, made = evaluated_many(coordinator, EVALUATION_PAGE_SIZE + 1)

    html = coordinator_client.get(f"/cases/{case.pk}/").content.decode()
    older = re.search(r'<a href="(\?history=2#history)"[^>]*>Show older evaluations', html)
    listed = set(map(int, re.findall(rf"/cases/{case.pk}/evaluations/(\d+)/\"", html)))

    assert f'Evaluation history <span class="count">({EVALUATION_PAGE_SIZE + 1})</span>' in html
    assert made[0].pk not in listed and made[-1].pk in listed
    assert older is not None
    page_two = coordinator_client.get(f"/cases/{case.pk}/?history=2").content.decode()
    assert f"/cases/{case.pk}/evaluations/{made[0].pk}/" in page_two
    assert "Show newer evaluations" in page_two and "Show older evaluations" not in page_two
    assert coordinator_client.get(f"/cases/{case.pk}/?history=abc").status_code == 200  # page 1
