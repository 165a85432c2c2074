"""python manage.py load_knowledge_base [--file PATH] [--check] [--draft] [--no-approval]"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from treatments.models import RuleSet
from treatments.rules.document import KnowledgeBaseError
from treatments.services import (
    VersionConflict,
    VersionTaken,
    ruleset_draft_create,
    ruleset_draft_revise,
    ruleset_publish,
)
from treatments.services.knowledge import default_path, knowledge_base_read


class Command(BaseCommand):
    help = (
        "Validate the knowledge-base file (with its golden cases) and make it a draft rule set for "
        "review (docs/rule-governance.md); --no-approval publishes directly, only when DEBUG is on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--file", default=None, help=f"knowledge-base YAML file (default: {default_path()})"
        )
        parser.add_argument("--check", action="store_true", help="validate only; save nothing")
        parser.add_argument(
            "--draft", action="store_true", help="make (or revise) a draft for review: the default"
        )
        parser.add_argument(
            "--no-approval",
            action="store_true",
            help="publish directly without review (development and demo seeding; DEBUG only); "
            "every golden case must still pass",
        )
        parser.add_argument("--note", default=None, help="the draft's change note: what changed and why")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            knowledge_base = knowledge_base_read(options["file"])
        except KnowledgeBaseError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{len(exc.problems)} problem(s) found; nothing was loaded.", returncode=2
            ) from exc
        summary = (
            f"{len(knowledge_base.modalities)} modalities, {len(knowledge_base.rules)} rules, "
            f"{len(knowledge_base.content.get('tests', []))} golden cases"
        )
        if options["check"]:
            self.stdout.write(f"Knowledge base {knowledge_base.version} is valid ({summary}).")
            return
        if options["no_approval"]:
            self._publish(knowledge_base, summary)
        else:
            self._draft(knowledge_base, summary, options["note"])

    def _publish(self, knowledge_base: Any, summary: str) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "--no-approval publishes without review and is allowed only when DEBUG is on. Load "
                "the file as a draft (without --no-approval) and publish it through review "
                "(manage.py ruleset_publish VERSION).",
                returncode=2,
            )
        try:
            rule_set = ruleset_publish(knowledge_base=knowledge_base)
        except VersionConflict as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if rule_set is None:
            self.stdout.write(
                f"Rule set {knowledge_base.version} is already published with this content; nothing to do."
            )
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Published rule set {rule_set.version} without review ({summary}).")
            )

    def _draft(self, knowledge_base: Any, summary: str, note: str | None) -> None:
        existing = RuleSet.objects.filter(version=knowledge_base.version).first()
        try:
            if existing is not None and existing.checksum == knowledge_base.checksum:
                state = "draft" if existing.status == RuleSet.Status.DRAFT else existing.status
                self.stdout.write(
                    f"Rule set {existing.version} is already {state} with this content; nothing to do."
                )
                return
            if existing is not None and existing.status == RuleSet.Status.DRAFT:
                draft = ruleset_draft_revise(
                    draft=existing, knowledge_base=knowledge_base, actor=None, change_note=note
                )
                verb = "Revised draft"
            else:
                draft = ruleset_draft_create(
                    knowledge_base=knowledge_base, actor=None, change_note=note or ""
                )
                verb = "Made draft"
        except VersionTaken as exc:
            raise CommandError(str(exc), returncode=2) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} rule set {draft.version} ({summary}), checksum {draft.checksum[:12]}. "
                "It needs review, a golden run and an impact report before a clinical safety officer "
                "publishes it (docs/rule-governance.md)."
            )
        )
