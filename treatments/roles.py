"""The four roles of NETcare (Django groups created by migration 0002) and what each may do.

Least privilege: a capability lists exactly the roles that need it. Views and API views ask
`can(user, capability)`; nothing else decides access.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

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

# What each capability is for, and who has it.
CAPABILITIES: dict[str, frozenset[str]] = {
    # Read the catalogue of options and their rules.
    "view_catalogue": frozenset(ROLES),
    # Check a (not stored) patient profile against the rules: clinicians and coordinators for
    # patients, rule authors to try out rules. Administrators run the system, not patients.
    "check_eligibility": frozenset({CLINICIAN, COORDINATOR, RULE_AUTHOR}),
    # MDT workflow: coordinators prepare cases and meetings; clinicians can do the same, and also
    # review options and record outcomes.
    "view_cases": frozenset({CLINICIAN, COORDINATOR}),
    "manage_cases": frozenset({CLINICIAN, COORDINATOR}),
    "manage_meetings": frozenset({CLINICIAN, COORDINATOR}),
    "export_summary": frozenset({CLINICIAN, COORDINATOR}),
    "review_options": frozenset({CLINICIAN}),
    "record_outcome": frozenset({CLINICIAN}),
    # Marking an unknown fact "not needed" for a case is a clinical judgement: clinicians only.
    # Coordinators see the waivers and chase what is left.
    "waive_data": frozenset({CLINICIAN}),
    # Attendance at a meeting: whoever runs the meeting (the coordinator, or a clinician).
    "record_attendance": frozenset({CLINICIAN, COORDINATOR}),
}


def user_roles(user: User | AnonymousUser) -> set[str]:
    if not user.is_authenticated:
        return set()
    cached: set[str] | None = getattr(user, "_netcare_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) & set(ROLES)
        if user.is_superuser:
            cached.add(ADMIN)
        user._netcare_roles = cached  # type: ignore[union-attr,attr-defined]  # one query per request
    return set(cached)


def can(user: User | AnonymousUser, capability: str) -> bool:
    """Whether the user's roles include one that has the capability."""
    return bool(user_roles(user) & CAPABILITIES[capability])


def role_label(user: User | AnonymousUser) -> str:
    """The user's roles in words, for the page header."""
    return ", ".join(ROLE_LABELS[role] for role in ROLES if role in user_roles(user)) or "No role"


View = Callable[..., HttpResponse]


def capability_required(capability: str) -> Callable[[View], View]:
    """View decorator: login first (redirect), then the capability (403)."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}")

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not can(request.user, capability):
                raise PermissionDenied(f"Your role does not allow this ({capability.replace('_', ' ')}).")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
