"""API tokens are trusted for a short while without a database lookup (in Django's cache), and
forgotten at once when the token is revoked or the user changes."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from treatments.models import ApiToken, token_digest
from treatments.services.tokens import REVOKED_BY_ADMIN, token_revoke

from .conftest import ApiClient

ELIGIBILITY = "/api/v1/eligibility/"


@pytest.fixture
def cached(settings: Any) -> Any:
    settings.NETCARE_TOKEN_CACHE_SECONDS = 30
    cache.clear()
    yield
    cache.clear()


def test_a_known_token_costs_no_query_while_cached(api: ApiClient, cached: None) -> None:
    api.post_json(ELIGIBILITY, {"profile": {}})

    with CaptureQueriesContext(connection) as queries:
        response = api.post_json(ELIGIBILITY, {"profile": {}})

    assert response.status_code == 200
    assert queries.captured_queries == []


def test_a_revoked_token_is_refused_at_once(api: ApiClient, admin_user: User, cached: None) -> None:
    assert api.post_json(ELIGIBILITY, {"profile": {}}).status_code == 200
    token = ApiToken.objects.get(digest=token_digest(str(api.token)))
    token_revoke(token=token, actor=admin_user, reason=REVOKED_BY_ADMIN)

    assert api.post_json(ELIGIBILITY, {"profile": {}}).status_code == 401


def test_a_deactivated_user_is_refused_at_once(api: ApiClient, clinician: User, cached: None) -> None:
    assert api.post_json(ELIGIBILITY, {"profile": {}}).status_code == 200
    clinician.is_active = False
    clinician.save()

    assert api.post_json(ELIGIBILITY, {"profile": {}}).status_code == 401


def test_a_user_who_loses_their_role_is_refused_at_once(
    api: ApiClient, clinician: User, cached: None
) -> None:
    assert api.post_json(ELIGIBILITY, {"profile": {}}).status_code == 200
    clinician.groups.clear()

    assert api.post_json(ELIGIBILITY, {"profile": {}}).status_code == 403


def test_removing_a_user_from_a_role_group_is_seen_at_once(
    api: ApiClient, clinician: User, cached: None
) -> None:
    assert api.post_json(ELIGIBILITY, {"profile": {}}).status_code == 200
    Group.objects.get(name="clinician").user_set.remove(clinician)

    assert api.post_json(ELIGIBILITY, {"profile": {}}).status_code == 403
