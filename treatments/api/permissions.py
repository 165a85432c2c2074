"""DRF permission classes built on treatments.roles capabilities (the same rules as the pages)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from treatments.roles import CAPABILITIES, can


def capability(name: str) -> type[BasePermission]:
    """A permission class granting access to users whose role has the capability."""
    if name not in CAPABILITIES:
        raise ValueError(f"unknown capability {name!r}")

    class HasCapability(BasePermission):
        message = f"Your role does not allow this ({name.replace('_', ' ')})."

        def has_permission(self, request: Request, view: Any) -> bool:
            return bool(request.user and request.user.is_authenticated and can(request.user, name))

    HasCapability.__name__ = f"Can{name.title().replace('_', '')}"
    return HasCapability


def capability_by_method(read: str, write: str) -> type[BasePermission]:
    """`read` for GET, HEAD and OPTIONS; `write` for every other method."""
    can_read, can_write = capability(read)(), capability(write)()

    class ByMethod(BasePermission):
        def has_permission(self, request: Request, view: Any) -> bool:
            chosen = can_read if request.method in ("GET", "HEAD", "OPTIONS") else can_write
            self.message = getattr(chosen, "message", "")
            return chosen.has_permission(request, view)

    return ByMethod


def acting_user(request: Request) -> User:
    """The signed-in user (the permission classes have already refused anyone else)."""
    assert isinstance(request.user, User)
    return request.user
