"""Read-only serializers of the catalogue (modalities with their rules) and of rule sets."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from treatments import selectors
from treatments.models import Modality, Rule, RuleSet
from treatments.rules.conditions import describe


class RuleSerializer(serializers.ModelSerializer[Rule]):
    condition_text = serializers.SerializerMethodField(help_text="The condition in plain English.")

    class Meta:
        model = Rule
        fields = [
            "rule_id",
            "kind",
            "title",
            "condition",
            "condition_text",
            "reason",
            "source",
            "evidence",
            "verification",
            "verification_note",
            "if_unknown",
        ]

    @extend_schema_field(serializers.CharField())
    def get_condition_text(self, rule: Rule) -> str:
        return describe(rule.condition_tree, selectors.modality_names())


class ModalitySerializer(serializers.ModelSerializer[Modality]):
    category_label = serializers.CharField(source="get_category_display")
    intents = serializers.ListField(child=serializers.CharField())
    rules = RuleSerializer(many=True)

    class Meta:
        model = Modality
        fields = [
            "key",
            "name",
            "category",
            "category_label",
            "intents",
            "description",
            "agents",
            "hospital_page",
            "notes",
            "display_order",
            "rules",
        ]


class RuleSetSerializer(serializers.ModelSerializer[RuleSet]):
    modality_count = serializers.SerializerMethodField()
    rule_count = serializers.SerializerMethodField()

    class Meta:
        model = RuleSet
        fields = [
            "version",
            "title",
            "status",
            "published_at",
            "checksum",
            "notes",
            "modality_count",
            "rule_count",
        ]

    @extend_schema_field(serializers.IntegerField())
    def get_modality_count(self, rule_set: RuleSet) -> Any:
        return rule_set.modalities.count()

    @extend_schema_field(serializers.IntegerField())
    def get_rule_count(self, rule_set: RuleSet) -> Any:
        return rule_set.rules.count()
