"""`manage.py cds_client`: register, update, list and disable the EHRs allowed to call the CDS
service; bad input is named with exit code 2 and nothing is saved; every change is audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tools.cds_client import new_key, public_jwks
from treatments.models import AuditEvent, CdsClient

pytestmark = pytest.mark.django_db

ISS = "https://ehr.example.org/cds"


def _jwks_file(tmp_path: Path, jwks: object) -> str:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks))
    return str(path)


def test_add_registers_a_client_with_the_default_algorithms_and_audits_it(tmp_path: Path) -> None:
    call_command(
        "cds_client", "add", "--iss", ISS, "--jwks-file", _jwks_file(tmp_path, public_jwks(new_key(), "k1"))
    )

    client = CdsClient.objects.get(iss=ISS)
    assert client.enabled
    assert client.allowed_algs == ["ES384", "RS384"]
    assert client.jwks["keys"][0]["kid"] == "k1"
    event = AuditEvent.objects.get(action="cds_client.create")
    assert event.payload["keys"] == ["k1"]


def test_add_again_replaces_the_registration(tmp_path: Path) -> None:
    jwks = _jwks_file(tmp_path, public_jwks(new_key(), "k1"))
    call_command("cds_client", "add", "--iss", ISS, "--jwks-file", jwks)
    call_command("cds_client", "disable", "--iss", ISS)
    call_command(
        "cds_client", "add", "--iss", ISS, "--jwks-file", jwks, "--alg", "ES256", "--name", "Sandbox"
    )

    client = CdsClient.objects.get(iss=ISS)
    assert (client.name, client.enabled, client.allowed_algs) == ("Sandbox", True, ["ES256"])
    assert AuditEvent.objects.filter(action__startswith="cds_client.").count() == 3


@pytest.mark.parametrize(
    ("jwks", "message"),
    [
        ({"keys": []}, "at least one key"),
        ({"keys": [{"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}]}, "has no kid"),
        ({"keys": [{**public_jwks(new_key(), "k")["keys"][0], "d": "secret"}]}, "private key"),
        ({"keys": [{"kid": "k", "kty": "nonsense"}]}, "cannot be read"),
    ],
)
def test_a_bad_jwk_set_is_named_exit_2_and_nothing_saved(tmp_path: Path, jwks: object, message: str) -> None:
    with pytest.raises(CommandError, match=message) as raised:
        call_command("cds_client", "add", "--iss", ISS, "--jwks-file", _jwks_file(tmp_path, jwks))

    assert raised.value.returncode == 2
    assert not CdsClient.objects.exists()


def test_a_client_needs_keys_or_a_jku(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="JWK Set") as raised:
        call_command("cds_client", "add", "--iss", ISS)

    assert raised.value.returncode == 2


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="jwks-file") as raised:
        call_command("cds_client", "add", "--iss", ISS, "--jwks-file", str(tmp_path / "missing.json"))

    assert raised.value.returncode == 2


def test_disabling_an_unknown_client_is_an_error() -> None:
    with pytest.raises(CommandError, match="no client") as raised:
        call_command("cds_client", "disable", "--iss", ISS)

    assert raised.value.returncode == 2
