"""python manage.py load_knowledge_base [--file PATH] [--check]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from treatments.rules.document import KnowledgeBaseError
from treatments.services import VersionConflict, ruleset_publish
from treatments.services.knowledge import default_path, knowledge_base_read


class Command(BaseCommand):
    help = "Validate the knowledge-base file and publish it as a new rule-set version (nothing if unchanged)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--file", default=None, help=f"knowledge-base YAML file (default: {default_path()})"
        )
        parser.add_argument("--check", action="store_true", help="validate only; publish nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            knowledge_base = knowledge_base_read(options["file"])
        except KnowledgeBaseError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{len(exc.problems)} problem(s) found; nothing was loaded.", returncode=2
            ) from exc
        summary = f"{len(knowledge_base.modalities)} modalities, {len(knowledge_base.rules)} rules"
        if options["check"]:
            self.stdout.write(f"Knowledge base {knowledge_base.version} is valid ({summary}).")
            return
        try:
            rule_set = ruleset_publish(knowledge_base=knowledge_base)
        except VersionConflict as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if rule_set is None:
            self.stdout.write(
                f"Rule set {knowledge_base.version} is already published with this content; nothing to do."
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Published rule set {rule_set.version} ({summary})."))
