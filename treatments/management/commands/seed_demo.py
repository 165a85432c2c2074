"""python manage.py seed_demo - demo users for trying NETcare on a development machine."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from treatments import roles

DEMO_PASSWORD = "netcare-demo"
DEMO_USERS = (
    # username, first name, last name, role, staff
    ("clinician", "Clara", "Hughes", roles.CLINICIAN, False),
    ("coordinator", "Colin", "Reyes", roles.COORDINATOR, False),
    ("author", "Aisha", "Patel", roles.RULE_AUTHOR, True),
    ("admin", "Adam", "Novak", roles.ADMIN, True),
)


class Command(BaseCommand):
    help = "Create the demo users (development only: refuses to run when DEBUG is off)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo creates users with a known password; it runs only with DEBUG=true.")
        User = get_user_model()
        for username, first, last, role, staff in DEMO_USERS:
            user, _ = User.objects.update_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "is_staff": staff,
                    "is_superuser": role == roles.ADMIN,
                    "email": f"{username}@netcare.invalid",
                },
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
            user.groups.set([Group.objects.get(name=role)])
        self.stdout.write(
            f"Demo users (log in at http://127.0.0.1:8000/login/ with password {DEMO_PASSWORD!r}):"
        )
        for username, first, last, role, _ in DEMO_USERS:
            self.stdout.write(f"  {username:<12} {first} {last}, {roles.ROLE_LABELS[role]}")
