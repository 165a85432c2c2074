"""DRF permission classes built on treatments.roles capabilities (the same rules as the pages)."""

from __future__ import annotations

from typing import Any

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
