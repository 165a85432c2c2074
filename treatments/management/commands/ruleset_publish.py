"""python manage.py ruleset_publish VERSION --as USERNAME [--acknowledge-impact]"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from treatments import selectors
from treatments.management.commands.ruleset_diff import version_or_exit
from treatments.selectors import governance
from treatments.services import GatesFailed, NotAllowed, ruleset_impact_acknowledge, ruleset_publish_draft


class Command(BaseCommand):
    help = "Publish a draft through the same six gates as the app, as a clinical safety officer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version", help="the draft, e.g. 1.3.0")
        parser.add_argument("--as", dest="username", required=True, help="the publishing user (a CSO)")
        parser.add_argument(
            "--acknowledge-impact",
            action="store_true",
            help="acknowledge the draft's latest impact report as that user first (read it before)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        draft = version_or_exit(options["version"])
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user {options['username']!r}", returncode=2)
        try:
            report = governance.latest_impact_report(draft)
            if options["acknowledge_impact"] and report is not None:
                ruleset_impact_acknowledge(report=report, actor=user)
            published = ruleset_publish_draft(draft=draft, actor=user)
        except NotAllowed as exc:
            raise CommandError(exc.sentence, returncode=2) from exc
        except GatesFailed as exc:
            for gate in exc.gates:
                self.stderr.write(f"{'ok  ' if gate.ok else 'FAIL'} {gate.gate}: {gate.why}")
            raise CommandError(f"{draft.version} was not published.", returncode=2) from exc
        selectors.forget_published_ruleset()
        self.stdout.write(self.style.SUCCESS(f"Published rule set {published.version}."))
