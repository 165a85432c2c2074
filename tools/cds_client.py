#!/usr/bin/env python3
"""A CDS Hooks client for trying NETcare's CDS service over real HTTP, as an EHR would call it.

It signs every call with an ES384 JWT (PyJWT + cryptography), calls discovery, sends `patient-view`
with the prefetch built from each example bundle (fixtures/fhir/*.json), and posts feedback on the
cards it gets. No Django: it talks HTTP only. See README, "CDS Hooks".

    python tools/cds_client.py keys --dir var/cds                 # a key pair and its JWK Set
    python manage.py cds_client add --iss https://ehr.example.org/dev --jwks-file var/cds/jwks.json
    python tools/cds_client.py run --iss https://ehr.example.org/dev --key var/cds/client.pem
    python tools/cds_client.py curl --iss https://ehr.example.org/dev --key var/cds/client.pem

Exit code 0 when every call answered as expected, 1 when one did not, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASE = "http://127.0.0.1:8000/cds-hooks"
DEFAULT_BUNDLES = ROOT / "fixtures" / "fhir"
SERVICE = "netcare-net-options"
# Observation codes the service's "labs" prefetch asks for (the rest of the observations go to "tumour").
LAB_CODES = {
    "98979-8", "62238-1", "33914-3", "69405-9", "777-3", "26515-7",
    "751-8", "26499-4", "1975-2", "14631-6", "42719-5", "54363-7",
}  # fmt: skip
KEY_BY_TYPE = {
    "Condition": "conditions",
    "MedicationAdministration": "medsGiven",
    "MedicationRequest": "medsOrdered",
    "MedicationStatement": "medsStated",
    "Procedure": "procedures",
    "QuestionnaireResponse": "assessments",
}
SEARCH_KEYS = (
    "conditions",
    "tumour",
    "labs",
    "medsGiven",
    "medsOrdered",
    "medsStated",
    "procedures",
    "assessments",
)


# --- keys and JWTs --------------------------------------------------------------------------------


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


def public_jwks(key: Any, kid: str, alg: str = "ES384") -> dict[str, Any]:
    """The JWK Set (public key only) to register with NETcare."""
    jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(key.public_key()))
    return {"keys": [{**jwk, "kid": kid, "alg": alg, "use": "sig"}]}


def sign(
    key: Any,
    *,
    iss: str,
    aud: str | list[str],
    kid: str,
    alg: str = "ES384",
    lifetime: int = 300,
    jku: str | None = None,
    extra_claims: dict[str, Any] | None = None,
    extra_headers: dict[str, Any] | None = None,
) -> str:
    """A JWT as CDS Hooks 2.0 asks for: iss, aud (the URL called), exp, iat, jti; kid in the header."""
    now = int(time.time())
    claims = {"iss": iss, "aud": aud, "exp": now + lifetime, "iat": now, "jti": str(uuid.uuid4())}
    headers: dict[str, Any] = {"kid": kid, "typ": "JWT"}
    if jku:
        headers["jku"] = jku
    return jwt.encode(
        {**claims, **(extra_claims or {})}, key, algorithm=alg, headers={**headers, **(extra_headers or {})}
    )


def load_key(path: Path) -> Any:
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def write_keys(directory: Path, kid: str) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    key = new_key()
    pem = directory / "client.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    pem.chmod(0o600)
    jwks = directory / "jwks.json"
    jwks.write_text(json.dumps(public_jwks(key, kid), indent=2) + "\n")
    return pem, jwks


# --- prefetch from an example bundle ----------------------------------------------------------------


def searchset(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(entries),
        "entry": [{**entry, "search": {"mode": "match"}} for entry in entries],
    }


def prefetch_from_bundle(bundle: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(patient id, prefetch) as an EHR would send it for the service's templates: the Patient
    read, and one searchset Bundle per search key (empty when the EHR has no such data)."""
    patient: dict[str, Any] | None = None
    searches: dict[str, list[dict[str, Any]]] = {key: [] for key in SEARCH_KEYS}
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        kind = resource["resourceType"]
        if kind == "Patient":
            patient = resource
        elif kind == "Observation":
            codes = {coding.get("code") for coding in resource.get("code", {}).get("coding", [])}
            searches["labs" if codes & LAB_CODES else "tumour"].append(entry)
        elif kind in KEY_BY_TYPE:
            searches[KEY_BY_TYPE[kind]].append(entry)
    if patient is None:
        raise ValueError(f"bundle {bundle.get('id')} has no Patient")
    return patient["id"], {"patient": patient, **{key: searchset(found) for key, found in searches.items()}}


def hook_request(
    patient_id: str, prefetch: dict[str, Any], user: str = "Practitioner/dr-hughes"
) -> dict[str, Any]:
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": user, "patientId": patient_id},
        "prefetch": prefetch,
    }


# --- HTTP ------------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: Any
    millis: float


@dataclass
class Client:
    base: str
    iss: str
    key: Any
    kid: str

    def call(self, method: str, path: str, body: Any = None) -> Answer:
        url = self.base + path
        token = sign(self.key, iss=self.iss, aud=url, kid=self.kid)
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        millis = (time.perf_counter() - started) * 1000
        return Answer(status, json.loads(raw) if raw.strip() else None, millis)

    def curl(self, path: str) -> str:
        url = self.base + path
        token = sign(self.key, iss=self.iss, aud=url, kid=self.kid)
        return f"curl -s -H 'Authorization: Bearer {token}' {url}"


def run(client: Client, bundles: list[Path], out: Any = sys.stdout) -> bool:
    """Discovery, one patient-view per bundle, feedback on the first option card: True if all answered."""
    ok = True
    discovery = client.call("GET", "/cds-services")
    ids = [service.get("id") for service in (discovery.body or {}).get("services", [])]
    print(f"discovery: {discovery.status} {ids} ({discovery.millis:.0f} ms)", file=out)
    ok &= discovery.status == 200 and SERVICE in ids
    for path in bundles:
        patient_id, prefetch = prefetch_from_bundle(json.loads(path.read_text()))
        answer = client.call("POST", f"/cds-services/{SERVICE}", hook_request(patient_id, prefetch))
        cards = (answer.body or {}).get("cards", []) if answer.status == 200 else []
        print(f"{path.name}: {answer.status}, {len(cards)} card(s) ({answer.millis:.0f} ms)", file=out)
        for card in cards:
            print(f"  - {card['summary']}", file=out)
        ok &= answer.status == 200
        options = [card for card in cards if card.get("suggestions")]
        if options:
            ok &= send_feedback(client, options[0], out)
    return ok


def send_feedback(client: Client, card: dict[str, Any], out: Any) -> bool:
    when = datetime.now(UTC).isoformat()
    items = [
        {
            "card": card["uuid"],
            "outcome": "accepted",
            "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
            "outcomeTimestamp": when,
        },
        {
            "card": card["uuid"],
            "outcome": "overridden",
            "overrideReason": {
                "reason": card["overrideReasons"][1],
                "userComment": "Patient wants to discuss at MDT",
            },
            "outcomeTimestamp": when,
        },
    ]
    answer = client.call("POST", f"/cds-services/{SERVICE}/feedback", {"feedback": items})
    print(f"  feedback on '{card['summary'][:40]}...': {answer.status}", file=out)
    return answer.status == 200


# --- command line ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    keys = commands.add_parser(
        "keys", help="write an ES384 key pair (client.pem) and its JWK Set (jwks.json)"
    )
    keys.add_argument("--dir", type=Path, default=ROOT / "var" / "cds")
    keys.add_argument("--kid", default="netcare-dev-1")
    for name, text in (
        ("run", "discovery, patient-view per bundle, feedback"),
        ("curl", "print a curl command"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument(
            "--base", default=DEFAULT_BASE, help=f"CDS_HOOKS_BASE_URL (default {DEFAULT_BASE})"
        )
        command.add_argument("--iss", required=True)
        command.add_argument("--key", type=Path, required=True, help="the private key (PEM)")
        command.add_argument("--kid", default="netcare-dev-1")
    commands.choices["run"].add_argument(
        "bundles", nargs="*", type=Path, help="default: fixtures/fhir/*.json"
    )
    commands.choices["curl"].add_argument("--path", default="/cds-services")
    args = parser.parse_args(argv)
    if args.command == "keys":
        pem, jwks = write_keys(args.dir, args.kid)
        print(f"private key: {pem}\nJWK Set to register: {jwks} (kid {args.kid})")
        return 0
    if not args.key.is_file():
        parser.error(f"--key {args.key}: no such file (make one with: keys --dir DIR)")
    client = Client(args.base.rstrip("/"), args.iss, load_key(args.key), args.kid)
    if args.command == "curl":
        print(client.curl(args.path))
        return 0
    bundles = args.bundles or sorted(DEFAULT_BUNDLES.glob("*.json"))
    if not bundles:
        parser.error(f"no bundles given and none in {DEFAULT_BUNDLES}")
    return 0 if run(client, bundles) else 1


if __name__ == "__main__":
    sys.exit(main())
