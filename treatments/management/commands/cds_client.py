"""python manage.py cds_client add|list|disable - the EHRs allowed to call the CDS Hooks service.

    manage.py cds_client add --iss https://ehr.example.org --jwks-file jwks.json [--alg ES384] [--name N]
                             [--jku URL] [--tenant T] [--fhir-server URL]
    manage.py cds_client list
    manage.py cds_client disable --iss https://ehr.example.org

`add` registers a client, or replaces the registration of the same iss (and enables it). Bad input
(an unreadable JWK Set, a private key, an unknown algorithm) is named, nothing is saved, exit code 2.
Each change is recorded in the audit trail.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from treatments.models import SUPPORTED_ALGS, CdsClient
from treatments.services.cds import cds_client_audit, cds_client_register


class Command(BaseCommand):
    help = "Register, list or disable the EHRs (CDS Hooks clients) allowed to call NETcare's CDS service."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="register a client (or replace its registration)")
        add.add_argument("--iss", required=True, help="the JWT iss the EHR sends, exactly")
        add.add_argument("--name", help="who this is (default: the iss)")
        add.add_argument("--jwks-file", type=Path, help="the EHR's JWK Set (public keys), JSON")
        add.add_argument("--jku", action="append", default=[], help="a JWK Set URL its JWTs may name")
        add.add_argument(
            "--alg",
            action="append",
            choices=SUPPORTED_ALGS,
            help="accepted (default ES384, RS384)",
        )
        add.add_argument("--tenant", action="append", default=[], help="an allowed tenant claim")
        add.add_argument("--fhir-server", action="append", default=[], help="a FHIR server URL prefix")
        actions.add_parser("list", help="the registered clients")
        disable = actions.add_parser("disable", help="refuse every call from a client from now on")
        disable.add_argument("--iss", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _add(self, options: dict[str, Any]) -> None:
        jwks: dict[str, Any] = {}
        if options["jwks_file"] is not None:
            try:
                jwks = json.loads(Path(options["jwks_file"]).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"--jwks-file {options['jwks_file']}: {exc}", returncode=2) from None
        try:
            client, created = cds_client_register(
                actor=None,
                iss=options["iss"],
                name=options["name"] or options["iss"],
                jwks=jwks,
                jku_allowlist=options["jku"],
                allowed_algs=options["alg"],
                tenants=options["tenant"],
                fhir_server_allowlist=options["fhir_server"],
            )
        except ValidationError as exc:
            problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            raise CommandError(f"not registered: {problems}", returncode=2) from None
        verb = "registered" if created else "updated"
        self.stdout.write(f"{verb} {client} (algorithms {', '.join(client.allowed_algs)})")

    def _list(self, options: dict[str, Any]) -> None:
        for client in CdsClient.objects.all():
            state = "enabled" if client.enabled else "disabled"
            self.stdout.write(f"{client.iss}\t{client.name}\t{state}\t{','.join(client.allowed_algs)}")

    def _disable(self, options: dict[str, Any]) -> None:
        client = CdsClient.objects.filter(iss=options["iss"]).first()
        if client is None:
            raise CommandError(f"no client with iss {options['iss']!r}", returncode=2)
        client.enabled = False
        client.save(update_fields=["enabled", "updated_at"])
        cds_client_audit(actor=None, client=client, change="disable")
        self.stdout.write(f"disabled {client}")
