"""What follows a change of who may do what: tokens revoked or forgotten, and the change audited.

Signals, so that every path is covered (the admin, `manage.py changepassword`, the shell):
- a password change or deactivation revokes every API token of the user;
- any other save of a user, or a change of their groups or permissions, drops their cached tokens
  (the cache holds their roles);
- a change of groups or permissions (of a user or of a group) is an `access.grant` /
  `access.withdraw` event, by the admin user who made it when it was made in the admin (`acting_as`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_save

from . import audit, tokens

_acting_user: ContextVar[Any] = ContextVar("netcare_acting_user", default=None)


@contextmanager
def acting_as(user: Any) -> Iterator[None]:
    """Name the user behind the changes made inside the block (signals cannot see the request)."""
    reset = _acting_user.set(user)
    try:
        yield
    finally:
        _acting_user.reset(reset)


def _user_saved(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # every login saves last_login: nothing about access changed
    actor = _acting_user.get()
    # set_password() keeps the new password in _password until save() has finished.
    if getattr(instance, "_password", None) is not None:
        tokens.user_tokens_revoke(user=instance, actor=actor, reason=tokens.PASSWORD_CHANGED)
    if not instance.is_active:
        tokens.user_tokens_revoke(user=instance, actor=actor, reason=tokens.USER_DEACTIVATED)
    tokens.user_tokens_forget([instance.pk])


_CHANGES = {"post_add": "grant", "post_remove": "withdraw", "pre_clear": "withdraw"}


def _members_changed(
    sender: Any, instance: Any, action: str, model: Any, pk_set: set[Any] | None, **kwargs: Any
) -> None:
    if action not in _CHANGES:
        return
    if action == "pre_clear":
        names = [str(item) for item in getattr(instance, _manager_name(sender, model)).all()]
    else:
        names = [str(item) for item in model.objects.filter(pk__in=pk_set or ())]
    if names:
        audit.access_changed(actor=_acting_user.get(), obj=instance, change=_CHANGES[action], names=names)
    tokens.user_tokens_forget(_users_concerned(instance, model, pk_set))


def _manager_name(sender: Any, model: Any) -> str:
    """The instance's many-to-many manager for this through table, seen from its side."""
    user_model = get_user_model()
    if sender is user_model.groups.through:
        return "groups" if model is Group else "user_set"
    if sender is user_model.user_permissions.through:
        return "user_permissions" if model is Permission else "user_set"
    return "permissions" if model is Permission else "group_set"


def _users_concerned(instance: Any, model: Any, pk_set: set[Any] | None) -> list[Any]:
    user_model = get_user_model()
    if isinstance(instance, user_model):
        return [instance.pk]
    if model is user_model and pk_set:
        return list(pk_set)
    if isinstance(instance, Group):
        return list(instance.user_set.values_list("pk", flat=True))
    return []  # a permission given to a group or user from the permission's side: roles unchanged


def connect_signals() -> None:
    """Connected once, in TreatmentsConfig.ready."""
    user_model = get_user_model()
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="netcare-user-saved")
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(
            _members_changed, sender=through, dispatch_uid=f"netcare-access-{through.__name__}"
        )
