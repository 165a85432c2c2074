"""API fixtures: clients authenticated by token for each role, the contract's example profile."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from tests.personas import BRONCHIAL_NHS  # noqa: F401  (re-exported for the API tests)
from treatments.services.tokens import token_issue


class ApiClient(Client):
    """Django's test client speaking JSON with a token, through the whole middleware and DRF stack."""

    def __init__(self, token: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.token = token

    def _auth(self, extra: dict[str, Any]) -> dict[str, Any]:
        if self.token:
            extra.setdefault("HTTP_AUTHORIZATION", f"Token {self.token}")
        return extra

    def get_json(self, path: str, **extra: Any) -> Any:
        return self.get(path, **self._auth(extra))

    def post_json(self, path: str, body: Any, **extra: Any) -> Any:
        return self.post(path, body, content_type="application/json", **self._auth(extra))

    def send(self, method: str, path: str, body: Any = None, **extra: Any) -> Any:
        """Any method with an optional JSON body (PUT, PATCH, DELETE, ...)."""
        data = json.dumps(body) if body is not None else ""
        return self.generic(method, path, data, content_type="application/json", **self._auth(extra))

    def post_raw(self, path: str, raw: bytes, content_type: str = "application/json", **extra: Any) -> Any:
        return self.generic("POST", path, raw, content_type=content_type, **self._auth(extra))


@pytest.fixture(autouse=True)
def _clear_throttle_history() -> None:
    cache.clear()


def client_for(user: User) -> ApiClient:
    return ApiClient(token_issue(user=user, client="tests")[1])


@pytest.fixture
def api(clinician: User, published: Any) -> ApiClient:
    """A clinician's token client, with the real knowledge base published."""
    return client_for(clinician)


@pytest.fixture
def anonymous(published: Any) -> ApiClient:
    return ApiClient()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: generates and drives a real client; runs once in make test")
