"""Admin pages for rule authors and administrators.

Published and retired rule sets are read-only here (and in the models): a change makes a new
version through `load_knowledge_base`. The audit trail can be read and filtered, never changed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

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


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_name", "action", "object_type", "object_repr")
    list_filter = ("action", "object_type", "at")
    search_fields = ("actor_name", "object_repr", "object_id", "action")
    date_hierarchy = "at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
