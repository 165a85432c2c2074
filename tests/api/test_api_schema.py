"""The OpenAPI document, its offline docs page, and a property-based run of the API against it."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, settings

from netcare.wsgi import application
from treatments.services.tokens import token_issue

from .conftest import ApiClient


def test_the_v2_schema_validates_without_warnings(db: None, tmp_path: Any) -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))


def test_the_schema_describes_statuses_and_facts_as_enums(anonymous: ApiClient) -> None:
    schema = anonymous.get_json("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]

    assert set(components["StatusEnum"]["enum"]) == {
        "candidate",
        "trial_only",
        "needs_data",
        "not_suitable",
        "not_indicated",
    }
    ki67 = components["PatientProfile"]["properties"]["ki67_percent"]
    number = next(part for part in ki67["anyOf"] if part.get("type") == "number")
    assert (number["minimum"], number["maximum"]) == (0, 100)
    assert "ErrorResponse" in components


def test_the_docs_page_works_offline_with_local_assets(client: Client, db: None) -> None:
    page = client.get("/api/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    assert all(url.startswith("/") for url in assets), assets
    for url in assets:
        assert client.get(url).status_code == 200, url


# v1 as published (the saved document /api/schema/ serves) and v2 as generated, each against the
# same server holding knowledge base 1.2.
schema_v1 = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
schema_v2 = schemathesis.openapi.from_wsgi("/api/v2/schema/?format=json", application)
# The fuzzing clinician's token, issued for each test (the schemathesis auth class is module-level).
FUZZ_TOKEN: dict[str, str] = {}


@schemathesis.auth(refresh_interval=None)
class ClinicianToken:
    """Every generated request carries a valid token (schemathesis still probes missing and bad
    credentials itself), so schema-invalid input reaches the validation it is meant to test."""

    def get(self, case: Any, context: Any) -> str:
        return "issued-per-test"  # fetched once, maybe at collection: the secret is read in set()

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Token {FUZZ_TOKEN.get('secret', data)}"}


@pytest.fixture
def fuzz_user(published: Any, clinician: User) -> User:
    FUZZ_TOKEN["secret"] = token_issue(user=clinician, client="schemathesis")[1]
    return clinician


@pytest.mark.django_db(transaction=True)
@schema_v1.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_v1_conforms_to_its_published_document_and_never_fails(case: Any, fuzz_user: User) -> None:
    case.call_and_validate()


@pytest.mark.django_db(transaction=True)
@schema_v2.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_v2_conforms_to_its_schema_and_never_fails(case: Any, fuzz_user: User) -> None:
    case.call_and_validate()
