"""GET /api/v2/cds/feedback/summary/: override counts per option and code, for clinicians and rule
authors only; bad dates named."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.api.conftest import client_for
from tests.cds.conftest import Ehr
from tests.cds.test_cds_feedback import _accepted, _cards, _overridden, _prefers

pytestmark = pytest.mark.django_db

URL = "/api/v2/cds/feedback/summary/"


def test_counts_per_option_outcome_and_override_code(ehr: Ehr, clinician: User) -> None:
    summary, trial, *_ = _cards(ehr)
    ehr.feedback([_accepted(trial), _overridden(trial, _prefers()), _overridden(summary)])

    body = client_for(clinician).get_json(URL).json()

    key = trial["source"]["topic"]["code"]
    assert {
        (row["modality"], row["outcome"], row["override_code"], row["count"]) for row in body["counts"]
    } == {
        (key, "accepted", "", 1),
        (key, "overridden", "prefers-alternative", 1),
        ("", "overridden", "", 1),
    }
    assert set(body) == {"from", "to", "counts"}


def test_a_rule_author_may_read_it_and_a_coordinator_may_not(
    published: Any, rule_author: User, coordinator: User
) -> None:
    assert client_for(rule_author).get_json(URL).status_code == 200
    assert client_for(coordinator).get_json(URL).status_code == 403


def test_dates_outside_the_range_are_not_counted(ehr: Ehr, clinician: User) -> None:
    trial = _cards(ehr)[1]
    ehr.feedback([_accepted(trial)])

    body = client_for(clinician).get_json(URL + "?from=2020-01-01&to=2020-12-31").json()

    assert body["counts"] == []


@pytest.mark.parametrize("query", ["?from=yesterday", "?from=2026-12-01&to=2026-11-01"])
def test_bad_dates_answer_400(published: Any, clinician: User, query: str) -> None:
    response = client_for(clinician).get_json(URL + query)

    assert response.status_code == 400


def test_v1_has_no_such_endpoint(published: Any, clinician: User) -> None:
    assert client_for(clinician).get_json("/api/v1/cds/feedback/summary/").status_code == 404
