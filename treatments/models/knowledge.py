"""The versioned knowledge base: RuleSet, Modality and Rule, and the guards that keep a published
version read-only.

A published rule set is never edited: a change makes a new version, and evaluations point to the
version they were made with.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from pydantic import ValidationError as PydanticValidationError

from ..rules.conditions import Condition, condition_errors, condition_to_data, parse_condition
from ..rules.vocabulary import (
    CATEGORIES,
    CATEGORY_LABELS,
    MODALITY_KEYS,
    RULE_KIND_LABELS,
    RULE_KINDS,
    VERIFICATION_LABELS,
    VERIFICATIONS,
)
from .audit import ReadOnlyError


class _FrozenGuard:
    """Bulk update() and delete() refuse rows of a published or retired rule set, like save() does."""

    frozen_lookup = ""

    def update(self, **kwargs: Any) -> int:
        self._refuse_frozen("change")
        return super().update(**kwargs)  # type: ignore[misc, no-any-return]

    def delete(self) -> tuple[int, dict[str, int]]:
        self._refuse_frozen("delete")
        return super().delete()  # type: ignore[misc, no-any-return]

    def _refuse_frozen(self, verb: str) -> None:
        frozen = self.filter(**{f"{self.frozen_lookup}__in": ["published", "retired"]})  # type: ignore[attr-defined]
        if frozen.exists():
            raise ReadOnlyError(f"cannot {verb} rows of a published rule set; publish a new version instead")


class RuleSetQuerySet(_FrozenGuard, models.QuerySet["RuleSet"]):
    frozen_lookup = "status"

    def published(self) -> RuleSetQuerySet:
        return self.filter(status=RuleSet.Status.PUBLISHED)


_FROZEN_FIELDS = (
    "version",
    "title",
    "notes",
    "checksum",
    "content",
    "published_at",
    "published_by_id",
    "created_by_id",
    "based_on_id",
    "change_note",
    "required_bump",
    "restores_id",
)


class RuleSet(models.Model):
    """One version of the knowledge base: its modalities, rules and golden cases (`content["tests"]`).

    Lifecycle (HL7 CRMI's draft -> active -> retired, never backwards): a draft is revised freely
    (each revision changes its checksum and so voids the reviews, golden runs and impact reports
    made for the old one), then published through the gates of services/governance.py; publishing
    the next version retires it. A published or retired set never changes again (ReadOnlyError, and
    database triggers).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    version = models.CharField(max_length=40, unique=True, help_text="The knowledge base's version label.")
    title = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notes = models.TextField(blank=True)
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the normalised content.")
    content = models.JSONField(default=dict, help_text="The normalised knowledge-base document.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    based_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The version in force when this draft was made.",
    )
    change_note = models.TextField(
        blank=True,
        default="",
        help_text="What changed clinically and why; `removed_golden:` lists dropped cases.",
    )
    authors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text="Who uploaded or edited a revision: none may approve or publish it.",
    )
    restores = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="A rollback: the earlier version whose content this draft restores.",
    )
    required_bump = models.CharField(
        max_length=5,
        blank=True,
        default="",
        help_text="major, minor or patch: the least version step its changes need.",
    )

    objects = RuleSetQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="published"), name="ruleset_at_most_one_published"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "published", "retired"]), name="ruleset_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False), name="ruleset_published_has_date"
            ),
            models.CheckConstraint(
                condition=Q(required_bump__in=["", "major", "minor", "patch"]), name="ruleset_bump_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Rule set {self.version} ({self.get_status_display().lower()})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            self._refuse_content_change()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.is_frozen:
            raise ReadOnlyError(f"{self} has been published and cannot be deleted")
        return super().delete(*args, **kwargs)

    @property
    def is_frozen(self) -> bool:
        return self.status != self.Status.DRAFT

    def _refuse_content_change(self) -> None:
        stored = RuleSet.objects.filter(pk=self.pk).first()
        if stored is None or not stored.is_frozen:
            return
        changed = [name for name in _FROZEN_FIELDS if getattr(stored, name) != getattr(self, name)]
        retiring = stored.status == self.Status.PUBLISHED and self.status == self.Status.RETIRED
        if changed or (stored.status != self.status and not retiring):
            # CRMI CR 3.1: published never goes back to draft, retired never back to published.
            raise ReadOnlyError(f"{stored} is read-only; publish a new version instead")

    @property
    def tests(self) -> list[dict[str, Any]]:
        """The golden cases that travel with this version (its content's `tests`)."""
        return list((self.content or {}).get("tests", []))


class ModalityQuerySet(_FrozenGuard, models.QuerySet["Modality"]):
    frozen_lookup = "rule_set__status"


class Modality(models.Model):
    """A treatment option as described by one rule set."""

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="modalities")
    key = models.CharField(max_length=40, choices=[(key, key) for key in MODALITY_KEYS])
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=30, choices=list(CATEGORY_LABELS.items()))
    intents = models.JSONField(
        default=list, help_text="Intents: curative, cytoreductive, symptom_control, ..."
    )
    description = models.TextField(help_text="For clinicians: what the option is and when it is used.")
    agents = models.TextField(help_text="Usual agents, regimens and schedule.")
    hospital_page = models.TextField(blank=True, help_text="What the NET unit's patient page says.")
    patient_summary = models.TextField(
        blank=True, help_text="For patients, in plain English: what the option is and involves."
    )
    patient_page_url = models.URLField(
        max_length=500, blank=True, help_text="The NET unit's patient-information page about the option."
    )
    notes = models.TextField(blank=True)
    display_order = models.PositiveSmallIntegerField(help_text="Base rank within a status (1 = first).")

    objects = ModalityQuerySet.as_manager()

    class Meta:
        ordering = ["rule_set", "display_order"]
        verbose_name_plural = "modalities"
        constraints = [
            models.UniqueConstraint(fields=["rule_set", "key"], name="modality_key_unique_in_ruleset"),
            models.CheckConstraint(condition=Q(key__in=MODALITY_KEYS), name="modality_key_valid"),
            models.CheckConstraint(condition=Q(category__in=CATEGORIES), name="modality_category_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        _refuse_if_frozen(self.rule_set, self)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        _refuse_if_frozen(self.rule_set, self)
        return super().delete(*args, **kwargs)


class RuleQuerySet(_FrozenGuard, models.QuerySet["Rule"]):
    frozen_lookup = "rule_set__status"

    def published(self) -> RuleQuerySet:
        return self.filter(rule_set__status=RuleSet.Status.PUBLISHED)


class Rule(models.Model):
    """One eligibility rule of a modality: a condition over profile facts with its reason and source."""

    class Kind(models.TextChoices):
        INDICATION = "indication", RULE_KIND_LABELS["indication"]
        REQUIREMENT = "requirement", RULE_KIND_LABELS["requirement"]
        CONTRAINDICATION = "contraindication", RULE_KIND_LABELS["contraindication"]
        TRIAL_ONLY = "trial_only", RULE_KIND_LABELS["trial_only"]
        CAUTION = "caution", RULE_KIND_LABELS["caution"]

    class Verification(models.TextChoices):
        VERIFIED = "verified", VERIFICATION_LABELS["verified"]
        RECALL = "recall", VERIFICATION_LABELS["recall"]
        TO_BE_CONFIRMED = "to_be_confirmed", VERIFICATION_LABELS["to_be_confirmed"]
        JUDGEMENT = "judgement", VERIFICATION_LABELS["judgement"]

    class IfUnknown(models.TextChoices):
        HOLD = "hold", "Hold at needs data"
        NOTE = "note", "Checked when known (note only)"

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="rules")
    modality = models.ForeignKey(Modality, on_delete=models.CASCADE, related_name="rules")
    rule_id = models.CharField(max_length=80, help_text="e.g. prrt.sstr_positive; common.* rules are shared.")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=120)
    condition = models.JSONField(help_text="Condition tree, as in fixtures/README.md; validated on save.")
    reason = models.TextField(help_text="Plain-English reason for clinicians.")
    source = models.TextField()
    evidence = models.CharField(max_length=200)
    verification = models.CharField(max_length=20, choices=Verification.choices)
    verification_note = models.TextField(blank=True)
    if_unknown = models.CharField(max_length=4, choices=IfUnknown.choices, default=IfUnknown.HOLD)
    position = models.PositiveSmallIntegerField(default=0, help_text="Order within the modality.")

    objects = RuleQuerySet.as_manager()

    class Meta:
        ordering = ["rule_set", "modality__display_order", "position"]
        constraints = [
            # Shared rules (common.pregnancy, ...) keep one id in every modality they apply to, so an
            # id is unique per modality within a rule set.
            models.UniqueConstraint(
                fields=["rule_set", "modality", "rule_id"], name="rule_id_unique_per_modality_in_ruleset"
            ),
            models.CheckConstraint(condition=Q(kind__in=RULE_KINDS), name="rule_kind_valid"),
            models.CheckConstraint(
                condition=Q(verification__in=VERIFICATIONS),
                name="rule_verification_valid",
            ),
            models.CheckConstraint(
                condition=Q(if_unknown="hold") | Q(kind__in=["requirement", "contraindication", "caution"]),
                name="rule_if_unknown_note_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} ({self.get_kind_display().lower()}, {self.modality.key})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        _refuse_if_frozen(self.rule_set, self)
        self.clean()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        _refuse_if_frozen(self.rule_set, self)
        return super().delete(*args, **kwargs)

    @property
    def condition_tree(self) -> Condition:
        """The condition, read back through its pydantic model."""
        return parse_condition(self.condition)

    def clean(self) -> None:
        try:
            self.condition = condition_to_data(parse_condition(self.condition))
        except PydanticValidationError as exc:
            messages = [f"{path}: {message}" for path, message in condition_errors(exc)]
            raise ValidationError({"condition": messages}) from exc
        if self.modality_id and self.rule_set_id and self.modality.rule_set_id != self.rule_set_id:
            raise ValidationError({"modality": "The modality belongs to another rule set."})


def _refuse_if_frozen(rule_set: RuleSet, obj: models.Model) -> None:
    if RuleSet.objects.filter(pk=rule_set.pk).exclude(status=RuleSet.Status.DRAFT).exists():
        raise ReadOnlyError(f"{rule_set} is read-only: cannot change {obj}")
