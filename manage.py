#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netcare.settings")
    if sys.argv[1:2] != ["runserver"]:
        # Web requests have a statement timeout (settings.py); a command such as migrate or
        # load_knowledge_base may rightly run longer, so it has its own limit, none by default.
        command_limit = os.environ.get("DATABASE_COMMAND_STATEMENT_TIMEOUT_MS", "0")
        os.environ["DATABASE_STATEMENT_TIMEOUT_MS"] = command_limit
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
