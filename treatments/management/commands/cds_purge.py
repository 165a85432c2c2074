"""python manage.py cds_purge [--days N] [--dry-run] - the CDS Hooks retention purge.

Deletes the EHR calls (hook evaluations, with their cards and feedback) older than N days
(default CDS_RETENTION_DAYS, 90) that are not linked to a NETcare case, and the replay store's JWT
ids a day past their expiry. Calls linked to a case are kept with the case. Running it again deletes
nothing more; each run is one audit event (cds.retention_purge) with the counts. Run it daily (cron,
systemd timer). Bad arguments: exit code 2.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from treatments.services.cds import cds_purge


class Command(BaseCommand):
    help = "Delete EHR calls not linked to a case after the retention period, and expired JWT ids."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=int, default=None, help="keep this many days (default CDS_RETENTION_DAYS)"
        )
        parser.add_argument("--dry-run", action="store_true", help="count what would go; delete nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        days = settings.CDS_RETENTION_DAYS if options["days"] is None else options["days"]
        if days < 1:
            raise CommandError("--days must be 1 or more", returncode=2)
        counts = cds_purge(actor=None, days=days, now=timezone.now(), dry_run=options["dry_run"])
        verb = "would delete" if options["dry_run"] else "deleted"
        self.stdout.write(
            f"{verb} {counts.hook_evaluations} EHR call(s) older than {days} days not linked to a case "
            f"({counts.cards} card(s), {counts.feedback} feedback), {counts.jtis} expired JWT id(s)"
        )
