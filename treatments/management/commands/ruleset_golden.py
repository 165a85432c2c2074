"""python manage.py ruleset_golden VERSION: run a version's golden cases against its own rules."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from treatments.management.commands.ruleset_diff import version_or_exit
from treatments.services import ruleset_golden_run


class Command(BaseCommand):
    help = "Run a rule set's golden cases (kept as a golden run); exit 1 if any case fails."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version", help="the version or draft, e.g. 1.3.0")

    def handle(self, *args: Any, **options: Any) -> None:
        run = ruleset_golden_run(rule_set=version_or_exit(options["version"]), actor=None)
        for case in run.failed_cases:
            problems = case["invalid"] or "; ".join(
                f"{m['modality']} expected {m['expected']}, got {m['actual']}" for m in case["mismatches"]
            )
            self.stderr.write(f"FAIL {case['id']}: {problems}")
        summary = f"{len(run.results) - len(run.failed_cases)} of {len(run.results)} golden cases pass"
        if not run.passed:
            raise CommandError(f"Golden run {run.pk}: {summary}.", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"Golden run {run.pk}: {summary}."))
