"""Read-only serializers of the catalogue (modalities with their rules) and of rule sets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from treatments import selectors
from treatments.models import Modality, Rule, RuleSet
from treatments.rules.conditions import describe
from treatments.rules.vocabulary import CATEGORIES, IF_UNKNOWN, MODALITY_KEYS, RULE_KINDS, VERIFICATIONS


def _open(what: str, known: Iterable[str]) -> serializers.CharField:
    """A response field whose values may grow: a string, the known values in its description."""
    return serializers.CharField(help_text=f"{what}. Open: more values may come; known: {', '.join(known)}.")


class RuleSerializer(serializers.ModelSerializer[Rule]):
    kind = _open("The rule's kind", RULE_KINDS)
    verification = _open("The rule's verification", VERIFICATIONS)
    if_unknown = _open("What an unknown fact does", IF_UNKNOWN)
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
    key = _open("The modality key", MODALITY_KEYS)
    category = _open("The category", CATEGORIES)
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
