"""Every error under /api/ is JSON in the API's one error shape - unmatched paths, wrong methods,
crashes - whether DEBUG is on (make run, where schemathesis met Django's HTML 404 page) or off."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from .conftest import ApiClient

UNMATCHED = [
    "/api",
    "/api/",
    "/api/nope",
    "/api/nope/deeper/",
    "/api/v1/cases/abc/",
    "/api/v2/cases/abc/",
    "/api/v1/cases/1/evaluations/x/",
    "/api/v2/cases/1/evaluations/x/",
    "/api/v2/meetings/x/worklist/",
    "/api/v3/cases/",
    "/api/schema/nope",
    "/api/docs/nope",
]

WRONG_METHOD = [
    ("DELETE", "/api/v2/cases/"),
    ("PUT", "/api/v2/eligibility/"),
    ("GET", "/api/v1/eligibility/batch/"),
    ("PATCH", "/api/v2/meetings/"),
    ("POST", "/api/schema/"),
    ("POST", "/api/v2/schema/"),
    ("DELETE", "/api/docs/"),
    ("PUT", "/api/v2/docs/"),
]


def assert_error_shape(response: Any, status: int) -> None:
    assert response.status_code == status, (response.status_code, response.content[:200])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) >= {"detail", "errors"} and isinstance(body["detail"], str), body
    assert isinstance(body["errors"], list)
    if response.has_header("Content-Length"):
        assert int(response["Content-Length"]) == len(response.content)


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize("path", UNMATCHED)
def test_an_unmatched_api_path_is_a_json_404(api: ApiClient, path: str, debug: bool) -> None:
    with override_settings(DEBUG=debug):
        assert_error_shape(api.get_json(path), 404)
        assert_error_shape(api.send("POST", path, {}), 404)


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_an_unmatched_api_path_answers_404_before_asking_for_credentials(
    anonymous: ApiClient, debug: bool
) -> None:
    with override_settings(DEBUG=debug):
        assert_error_shape(anonymous.get_json("/api/v2/cases/abc/"), 404)


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize(("method", "path"), WRONG_METHOD)
def test_a_wrong_method_is_a_json_405(api: ApiClient, method: str, path: str, debug: bool) -> None:
    with override_settings(DEBUG=debug):
        response = api.send(method, path, {})
    assert_error_shape(response, 405)
    assert method not in response["Allow"]


def test_pages_keep_their_html_404(api: ApiClient) -> None:
    with override_settings(DEBUG=False):
        response = api.get("/cases/abc/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
