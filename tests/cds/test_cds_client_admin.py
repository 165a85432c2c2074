"""The client registry in the admin: an administrator registers an EHR (its JWK Set checked there,
by the field), the change is audited, and a client is disabled rather than deleted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tools.cds_client import new_key, public_jwks
from treatments.models import AuditEvent, CdsClient

pytestmark = pytest.mark.django_db

ADD = "/admin/treatments/cdsclient/add/"


def _form(jwks: Any) -> dict[str, str]:
    return {
        "iss": "https://ehr.example.org/cds",
        "name": "Trust EPR",
        "enabled": "on",
        "jwks": json.dumps(jwks),
        "jku_allowlist": "[]",
        "allowed_algs": '["ES384"]',
        "tenants": "[]",
        "fhir_server_allowlist": '["https://ehr.example.org/fhir"]',
    }


def test_an_administrator_registers_a_client_and_it_is_audited(published: Any, admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)

    response = client.post(ADD, _form(public_jwks(new_key(), "k1")))

    assert response.status_code == 302
    registered = CdsClient.objects.get()
    assert registered.created_by == admin_user
    event = AuditEvent.objects.get(action="cds_client.create")
    assert event.actor == admin_user
    assert event.payload["keys"] == ["k1"]
    assert client.get(f"/admin/treatments/cdsclient/{registered.pk}/delete/").status_code == 403


def test_a_private_key_is_refused_by_its_field(published: Any, admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    jwks = public_jwks(new_key(), "k1")
    jwks["keys"][0]["d"] = "secret"

    response = client.post(ADD, _form(jwks))

    assert response.status_code == 200
    assert "private key" in response.content.decode()
    assert not CdsClient.objects.exists()
