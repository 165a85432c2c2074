"""Admin pages for rule authors and administrators.

The knowledge base changes only through the rule-governance workflow (docs/rule-governance.md): a
draft is made from the validated file or an upload, revised, reviewed and published by the services
of services/governance.py, which keep its checksum, reviews and audit trail right (security review
F11). Here rule sets, options and rules are browsed only: nothing is added, changed or deleted, so no
write can reach a published set (a 500 before) or the database's constraints (a raw error before),
and a draft is withdrawn on its own page, which frees its version label.

The audit trail can be read and filtered, never changed. API tokens can be listed and revoked; their
secrets are not stored, so nobody can read them. Changes to users and groups are recorded in the audit
trail under the administrator who made them (F5).

Least privilege in the audit trail: a reader who may not see cases (the administrator) sees who did
what and when, but not the clinical content of patient events - no payload values, no object name
(a case's is its hospital reference), no search or filter by either.
"""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from . import roles
from .models import ApiToken, AuditEvent, CdsClient, Modality, PractitionerLink, Rule, RuleSet
from .services import audit, tokens
from .services.access import acting_as
from .services.cds import cds_client_audit, practitioner_link_audit


class KnowledgeReadOnly(admin.ModelAdmin):
    """Rule content, browsed only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the knowledge base grows through load_knowledge_base only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # drafts change through the governance services only

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a draft is withdrawn (services.ruleset_withdraw), never deleted here


class ModalityInline(admin.TabularInline):
    model = Modality
    fields = ("display_order", "key", "name", "category")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RuleSet)
class RuleSetAdmin(KnowledgeReadOnly):
    list_display = ("version", "status", "published_at", "published_by", "checksum_short")
    list_filter = ("status",)
    search_fields = ("version", "title", "notes")
    readonly_fields = ("status", "published_at", "published_by", "checksum", "created_at", "content")
    inlines = [ModalityInline]

    @admin.display(description="checksum")
    def checksum_short(self, obj: RuleSet) -> str:
        return obj.checksum[:12]


class RuleInline(admin.TabularInline):
    model = Rule
    fields = ("position", "rule_id", "kind", "title", "verification")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Modality)
class ModalityAdmin(KnowledgeReadOnly):
    list_display = ("name", "key", "category", "display_order", "rule_set")
    list_filter = ("rule_set", "category")
    search_fields = ("key", "name", "description", "agents")
    inlines = [RuleInline]


@admin.register(Rule)
class RuleAdmin(KnowledgeReadOnly):
    list_display = ("rule_id", "modality", "kind", "title", "verification", "rule_set")
    list_filter = ("rule_set", "kind", "verification", "modality__key")
    search_fields = ("rule_id", "title", "reason", "source")
    list_select_related = ("modality", "rule_set")


# Events about the knowledge base hold no patient data; every other object type is treated as
# clinical (cases, evaluations, reviews, meetings, outcomes, and whatever is added later).
KNOWLEDGE_OBJECT_TYPES = frozenset({"ruleset", "modality", "rule"})
# Events about who may do what (logins, tokens, roles) hold no patient data either.
ACCESS_OBJECT_TYPES = frozenset({"user", "group", "permission", "apitoken"})
# Payload keys that say nothing about a patient: shown to every reader.
NON_CLINICAL_KEYS = frozenset({"format", "ruleset", "evaluation", "view"})
HIDDEN = "(hidden: your role may not see cases)"


def sees_clinical_content(request: HttpRequest) -> bool:
    return roles.can(request.user, "view_cases")


def redacted(event: AuditEvent) -> AuditEvent:
    """A copy of a patient event without its clinical content (never saved: the trail is append-only)."""
    if event.object_type in KNOWLEDGE_OBJECT_TYPES | ACCESS_OBJECT_TYPES:
        return event
    shown = copy.copy(event)
    shown.object_repr = f"{event.object_type} {event.object_id}"
    payload = event.payload if isinstance(event.payload, dict) else {}
    shown.payload = {key: (value if key in NON_CLINICAL_KEYS else HIDDEN) for key, value in payload.items()}
    return shown


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_name", "action", "object_type", "object_repr")
    list_filter = ("action", "object_type", "at")
    search_fields = ("actor_name", "object_repr", "object_id", "action")
    date_hierarchy = "at"

    def get_list_display(self, request: HttpRequest) -> Any:
        if sees_clinical_content(request):
            return self.list_display
        return ("at", "actor_name", "action", "object_type", "object_shown")

    @admin.display(description="object")
    def object_shown(self, event: AuditEvent) -> str:
        return redacted(event).object_repr

    def get_search_fields(self, request: HttpRequest) -> Any:
        if sees_clinical_content(request):
            return self.search_fields
        return ("actor_name", "action")

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        # Without case access, filter only by what the sidebar offers: no `?payload__...=` or
        # `?object_repr__...=` query that would tell whether a patient's value exists.
        if not sees_clinical_content(request):
            return lookup.split("__")[0] in {"action", "object_type", "at"}
        return super().lookup_allowed(lookup, value, request)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        event = super().get_object(request, object_id, from_field)
        if event is None or sees_clinical_content(request):
            return event
        return redacted(event)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- API tokens (F5) --------------------------------------------------------------------------------


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens by user and client: listed and revoked, never added, edited or read (no secret is stored)."""

    list_display = ("prefix", "user", "client", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("user__username", "client", "prefix")
    list_select_related = ("user",)
    actions = ["revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in ApiToken._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the action below is the only change

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a revoked token stays listed, with when it was revoked

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = sum(
            tokens.token_revoke(token=token, actor=request.user, reason=tokens.REVOKED_BY_ADMIN)  # type: ignore[arg-type]
            for token in queryset.select_related("user")
        )
        self.message_user(request, f"{revoked} token(s) revoked.", messages.SUCCESS)


# --- CDS Hooks clients: who may call the CDS service (docs/cds-hooks.md) ---------------------------


@admin.register(CdsClient)
class CdsClientAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "iss", "enabled", "allowed_algs", "updated_at")
    list_filter = ("enabled",)
    search_fields = ("name", "iss")
    readonly_fields = ("created_by", "created_at", "updated_by", "updated_at")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        cds_client_audit(actor=request.user, client=obj, change="update" if change else "create")  # type: ignore[arg-type]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # its calls refer to it: disable it instead


@admin.register(PractitionerLink)
class PractitionerLinkAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Which NETcare user an EHR user is (only CDS_FEEDBACK_AUTO_REVIEW uses it); every change and
    removal audited."""

    list_display = ("user_ref", "client", "user", "created_at")
    list_filter = ("client",)
    search_fields = ("user_ref", "user__username")
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        practitioner_link_audit(actor=request.user, link=obj, change="update" if change else "create")  # type: ignore[arg-type]

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        practitioner_link_audit(actor=request.user, link=obj, change="delete")  # type: ignore[arg-type]
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[PractitionerLink]) -> None:
        for link in queryset:
            self.delete_model(request, link)


# --- users and groups: changes audited under the administrator who made them (F5) -----------------

ADMIN_FLAGS = ("is_active", "is_staff", "is_superuser")


class AuditedUserAdmin(UserAdmin):  # type: ignore[type-arg]
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with acting_as(request.user):  # group and permission changes are signals (services/access.py)
            return super().changeform_view(request, *args, **kwargs)

    def user_change_password(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with acting_as(request.user):  # the new password revokes the user's tokens, by this admin
            return super().user_change_password(request, *args, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        flags = [f"{flag}={getattr(obj, flag)}" for flag in ADMIN_FLAGS if flag in form.changed_data]
        if flags:
            audit.access_changed(actor=request.user, obj=obj, change="flags", names=flags)  # type: ignore[arg-type]


class AuditedGroupAdmin(GroupAdmin):
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with acting_as(request.user):
            return super().changeform_view(request, *args, **kwargs)


admin.site.unregister(User)
admin.site.register(User, AuditedUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, AuditedGroupAdmin)
