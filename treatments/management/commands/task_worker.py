"""The background task worker, kept running through a lost database.

django-tasks' `db_worker` stops (exit 1) when the database refuses a connection; a blip of a few
seconds then leaves meeting packs queued until someone restarts it (benchmarks/soak.py showed it).
This command runs `db_worker` and starts it again after a database error, waiting a little between
attempts, so one flapping database does not need a process supervisor to recover.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, connections

logger = logging.getLogger("treatments.tasks")


class Command(BaseCommand):
    help = "Run the background task worker (db_worker); start it again after a lost database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue-name", default="default", help="the queue to run (default: default)")
        parser.add_argument(
            "--retry-seconds", type=float, default=2.0, help="wait between attempts after a database error"
        )
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls for tasks")

    def handle(
        self, *args: Any, queue_name: str, retry_seconds: float, interval: float, **options: Any
    ) -> None:
        while True:
            try:
                call_command(
                    "db_worker", "--no-reload", "--queue-name", queue_name, "--interval", str(interval)
                )
                return  # db_worker returns when it is told to stop (SIGTERM, SIGINT)
            except DatabaseError as error:
                # The type only: a database error's message can quote a row.
                logger.warning(
                    "task worker: database unavailable (%s); trying again in %s s",
                    type(error).__name__,
                    retry_seconds,
                )
                connections.close_all()
                time.sleep(retry_seconds)
