"""The four roles of NETcare, as Django groups (created by migration 0002)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

CLINICIAN = "clinician"
COORDINATOR = "coordinator"
RULE_AUTHOR = "rule_author"
ADMIN = "admin"
ROLES: tuple[str, ...] = (CLINICIAN, COORDINATOR, RULE_AUTHOR, ADMIN)
ROLE_LABELS = {
    CLINICIAN: "Clinician",
    COORDINATOR: "MDT coordinator",
    RULE_AUTHOR: "Rule author",
    ADMIN: "Administrator",
}


def user_roles(user: AbstractBaseUser | AnonymousUser) -> set[str]:
    if not user.is_authenticated:
        return set()
    names = set(user.groups.values_list("name", flat=True))  # type: ignore[union-attr]
    if getattr(user, "is_superuser", False):
        names.add(ADMIN)
    return names & set(ROLES)


def has_role(user: AbstractBaseUser | AnonymousUser, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def role_label(user: AbstractBaseUser | AnonymousUser) -> str:
    """The user's roles in words, for the page header."""
    return ", ".join(ROLE_LABELS[role] for role in ROLES if role in user_roles(user)) or "No role"
