"""python manage.py ruleset_diff A B [--json]: what changed from version A to version B."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from treatments.models import RuleSet
from treatments.rules.diff import diff_lines
from treatments.selectors import governance


def version_or_exit(version: str) -> RuleSet:
    rule_set = governance.ruleset_get(version)
    if rule_set is None:
        known = ", ".join(RuleSet.objects.order_by("created_at").values_list("version", flat=True)) or "none"
        raise CommandError(f"no rule set {version!r} (known versions: {known})", returncode=2)
    return rule_set


class Command(BaseCommand):
    help = "Show what changed between two rule-set versions (drafts too): semantic changes first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("a", help="the earlier version, e.g. 1.2.0")
        parser.add_argument("b", help="the later version or draft, e.g. 1.3.0")
        parser.add_argument(
            "--json", action="store_true", help="the diff as JSON, exactly as the API gives it"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        data = governance.versions_diff(
            version_or_exit(options["a"]), version_or_exit(options["b"])
        ).as_data()
        if options["json"]:
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
        else:
            self.stdout.write("\n".join(diff_lines(data)))
