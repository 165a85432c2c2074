"""Admin pages for rule authors and administrators.

Published and retired rule sets are read-only here (and in the models): a change makes a new
version through `load_knowledge_base`. The audit trail can be read and filtered, never changed.

Least privilege in the audit trail: a reader who may not see cases (the administrator) sees who did
what and when, but not the clinical content of patient events - no payload values, no object name
(a case's is its hospital reference), no search or filter by either.
"""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from . import roles
from .models import AuditEvent, Modality, Rule, RuleSet


def _editable(obj: Any) -> bool:
    rule_set = obj if isinstance(obj, RuleSet) else getattr(obj, "rule_set", None)
    return rule_set is None or not rule_set.is_frozen


class ReadOnlyWhenPublished(admin.ModelAdmin):
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or _editable(obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or _editable(obj))


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
class RuleSetAdmin(ReadOnlyWhenPublished):
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
class ModalityAdmin(ReadOnlyWhenPublished):
    list_display = ("name", "key", "category", "display_order", "rule_set")
    list_filter = ("rule_set", "category")
    search_fields = ("key", "name", "description", "agents")
    inlines = [RuleInline]


@admin.register(Rule)
class RuleAdmin(ReadOnlyWhenPublished):
    list_display = ("rule_id", "modality", "kind", "title", "verification", "rule_set")
    list_filter = ("rule_set", "kind", "verification", "modality__key")
    search_fields = ("rule_id", "title", "reason", "source")
    list_select_related = ("modality", "rule_set")


# Events about the knowledge base hold no patient data; every other object type is treated as
# clinical (cases, evaluations, reviews, meetings, outcomes, and whatever is added later).
KNOWLEDGE_OBJECT_TYPES = frozenset({"ruleset", "modality", "rule"})
# Payload keys that say nothing about a patient: shown to every reader.
NON_CLINICAL_KEYS = frozenset({"format", "ruleset", "evaluation"})
HIDDEN = "(hidden: your role may not see cases)"


def sees_clinical_content(request: HttpRequest) -> bool:
    return roles.can(request.user, "view_cases")


def redacted(event: AuditEvent) -> AuditEvent:
    """A copy of a patient event without its clinical content (never saved: the trail is append-only)."""
    if event.object_type in KNOWLEDGE_OBJECT_TYPES:
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
