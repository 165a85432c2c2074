"""python manage.py cds_client add|list|disable - the EHRs allowed to call the CDS Hooks service.

    manage.py cds_client add --iss https://ehr.example.org --jwks-file jwks.json [--alg ES384] [--name N]
                             [--jku URL] [--tenant T] [--fhir-server URL]
    manage.py cds_client list
    manage.py cds_client disable --iss https://ehr.example.org
    manage.py cds_client link --iss https://ehr.example.org --user-ref Practitioner/123 --username alice

`add` registers a client, or replaces the registration of the same iss (and enables it). Bad input
(an unreadable JWK Set, a private key, an unknown algorithm) is named, nothing is saved, exit code 2.
Each change is recorded in the audit trail. `link` says which NETcare user an EHR user is (only
used by CDS_FEEDBACK_AUTO_REVIEW).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from treatments.models import SUPPORTED_ALGS, CdsClient
from treatments.services.cds import cds_client_audit, cds_client_register, practitioner_link


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
        link = actions.add_parser("link", help="say which NETcare user an EHR user is")
        link.add_argument("--iss", required=True)
        link.add_argument("--user-ref", required=True, help="the EHR's context.userId, e.g. Practitioner/123")
        link.add_argument("--username", required=True, help="the NETcare user")

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

    def _link(self, options: dict[str, Any]) -> None:
        client = CdsClient.objects.filter(iss=options["iss"]).first()
        if client is None:
            raise CommandError(f"no client with iss {options['iss']!r}", returncode=2)
        if not options["user_ref"].startswith(("Practitioner/", "PractitionerRole/")):
            raise CommandError("--user-ref must be Practitioner/<id> or PractitionerRole/<id>", returncode=2)
        user = get_user_model().objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['username']!r}", returncode=2)
        practitioner_link(actor=None, client=client, user_ref=options["user_ref"], user=user)
        self.stdout.write(f"linked {options['user_ref']} of {client.iss} to {user.get_username()}")
