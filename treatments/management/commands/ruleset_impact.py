"""python manage.py ruleset_impact VERSION [--scope active|all|meeting:ID]"""

from __future__ import annotations

import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from treatments.management.commands.ruleset_diff import version_or_exit
from treatments.services import ruleset_impact


class Command(BaseCommand):
    help = "What publishing a draft would change for the stored cases (pseudonyms only), kept as a report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version", help="the draft, e.g. 1.3.0")
        parser.add_argument("--scope", default="active", help="active (default), all, or meeting:<id>")

    def handle(self, *args: Any, **options: Any) -> None:
        scope = options["scope"]
        if not re.fullmatch(r"active|all|meeting:[0-9]{1,18}", scope):
            raise CommandError("--scope must be active, all or meeting:<id>", returncode=2)
        report = ruleset_impact(draft=version_or_exit(options["version"]), actor=None, scope=scope)
        body = report.changes
        self.stdout.write(
            f"Impact report {report.pk} of {body['draft']} against {body['baseline']} ({scope}): "
            f"{body['cases_evaluated']} cases evaluated, {body['cases_changed']} change, "
            f"{len(body['invalid'])} invalid; hash {report.report_hash[:12]}"
        )
        for item in body["transitions"]:
            self.stdout.write(f"  {item['modality']}: {item['from']} -> {item['to']}  x{item['count']}")
        for case in body["cases"]:
            meeting = f" (meeting {case['upcoming_meeting']})" if case["upcoming_meeting"] else ""
            moves = ", ".join(f"{c['modality']} {c['from']} -> {c['to']}" for c in case["changes"])
            self.stdout.write(f"  {case['case']}{meeting}: {moves}")
