"""python manage.py fhir_map BUNDLE.json [--as-of YYYY-MM-DD] [--json] [--evaluate]

Maps a FHIR R4 Bundle (a file, or `-` for standard input) to the patient's facts and prints each
with its source and date, then the proposals a clinician must confirm and the issues found.
`--json` prints exactly what POST /api/v2/fhir/profile/ answers for the same input and day;
`--evaluate` adds the eligibility table for the mapped facts. Bad input (not JSON, not valid FHIR,
two patients, a deceased patient, too large) is one message on standard error naming the element,
with exit code 2. Nothing is stored.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

import orjson
from django.core.management.base import BaseCommand, CommandError, CommandParser

from treatments import selectors
from treatments.fhir.mapping import FhirInputError, MappingResult
from treatments.fhir.provenance import describe
from treatments.rules.profile import PatientProfile, fact_label

from .evaluate import render_table


class Command(BaseCommand):
    help = "Map a FHIR R4 Bundle to patient facts with their sources (stores nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("bundle", help="a FHIR R4 Bundle as JSON, or - for standard input")
        parser.add_argument(
            "--as-of", type=_day, default=None, help="read the data as of this day (default today)"
        )
        parser.add_argument(
            "--json", action="store_true", help="the API's answer (POST /api/v2/fhir/profile/)"
        )
        parser.add_argument("--evaluate", action="store_true", help="also evaluate the mapped facts")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = self._read(options["bundle"])
        try:
            result = selectors.fhir_map(selectors.fhir_load(raw), as_of=options["as_of"])
        except FhirInputError as error:
            raise CommandError(
                f"{options['bundle']}: {error.message} at {error.location}", returncode=2
            ) from None
        if options["json"]:
            self.stdout.write(orjson.dumps(result.as_json()).decode())
        else:
            self.stdout.write(render(result))
        if options["evaluate"]:
            try:
                ruleset = selectors.published_ruleset()
            except selectors.NoPublishedRuleSet as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                render_table(ruleset.evaluate(PatientProfile.model_validate(result.profile)), 1)
            )

    def _read(self, name: str) -> bytes:
        try:
            if name == "-":
                return sys.stdin.buffer.read()
            with open(name, "rb") as handle:
                return handle.read()
        except OSError as exc:
            raise CommandError(f"cannot read {name}: {exc}", returncode=2) from exc


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        # argparse answers with the usage line and exit code 2.
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def render(result: MappingResult) -> str:
    """The facts with their sources, the proposals and the issues, for people."""
    patient = result.patient.get("ref") or "(no Patient resource)"
    out = [f"Patient {patient}, data as of {result.as_of} ({result.mapping_version})"]
    out.append(f"Facts ({len(result.profile)}):")
    for fact, value in result.profile.items():
        out.append(f"  {fact_label(fact)} ({fact}): {_value(value)}  [{describe(result.provenance[fact])}]")
    if result.proposals:
        out.append(f"Proposals, for a clinician to confirm ({len(result.proposals)}):")
        for fact, proposal in result.proposals.items():
            out.append(f"  {fact_label(fact)} ({fact}): {_value(proposal['value'])}  [{describe(proposal)}]")
    if result.issues:
        out.append(f"Issues ({len(result.issues)}):")
        for issue in result.issues:
            about = f" {issue.fact}" if issue.fact else ""
            out.append(f"  {issue.severity} {issue.code}{about}: {issue.message}")
    return "\n".join(out) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value) if value else "none"
    return str(value)
