"""The MDT workflow: cases, their immutable evaluations, reviews per option, meetings and outcomes.

Nothing clinical is ever deleted by a cascade: every foreign key into an evaluation, review,
outcome or the audit trail is PROTECT, a case with evaluations is archived rather than deleted,
and evaluations are immutable snapshots.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from ..rules.engine import EvaluationResult
from ..rules.profile import PatientProfile
from ..rules.serialize import result_from_dict
from ..rules.vocabulary import (
    CASE_STATUS_LABELS,
    CASE_STATUSES,
    DATA_SOURCE_FACTS,
    DECISIONS,
    MDT_ROLE_LABELS,
    MDT_ROLES,
    MODALITY_KEYS,
    NEXT_STEP_LABELS,
    REASON_CODE_LABELS,
    REASON_CODES,
)
from .audit import ReadOnlyError
from .knowledge import RuleSet


def validate_nhs_number(value: str) -> None:
    """Ten digits whose last is the modulus-11 check digit of the first nine."""
    if not nhs_number_is_valid(value):
        raise ValidationError("Enter a valid 10-digit NHS number (its check digit does not match).")


def nhs_number_is_valid(value: str) -> bool:
    if len(value) != 10 or not value.isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(value[9])


class CaseQuerySet(models.QuerySet["Case"]):
    def active(self) -> CaseQuerySet:
        return self.filter(archived_at__isnull=True)


class Case(models.Model):
    """A patient referred to the MDT: the minimum identifiable data, the question and the facts."""

    class Status(models.TextChoices):
        DRAFT = "draft", CASE_STATUS_LABELS["draft"]
        READY = "ready", CASE_STATUS_LABELS["ready"]
        DISCUSSED = "discussed", CASE_STATUS_LABELS["discussed"]
        CLOSED = "closed", CASE_STATUS_LABELS["closed"]

    hospital_reference = models.CharField(
        max_length=30, unique=True, help_text="The hospital's reference for the patient (e.g. MRN)."
    )
    nhs_number = models.CharField(
        max_length=10, blank=True, validators=[validate_nhs_number], help_text="Optional; 10 digits."
    )
    referring_clinician = models.CharField(max_length=150)
    question = models.TextField(max_length=2000, help_text="The question for the MDT.")
    clinical_summary = models.TextField(max_length=4000, blank=True)
    profile = models.JSONField(default=dict, help_text="The known facts (PatientProfile); absent = unknown.")
    fact_sources = models.JSONField(
        default=dict,
        blank=True,
        help_text="Where each known fact came from: {fact: FHIR provenance | {level: manual, by, at}}.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    archived_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Raised on every change (edit conflicts).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=CASE_STATUSES), name="case_status_valid"),
            models.CheckConstraint(
                condition=Q(nhs_number="") | Q(nhs_number__regex=r"^[0-9]{10}$"),
                name="case_nhs_number_digits",
            ),
        ]

    def __str__(self) -> str:
        return f"Case {self.hospital_reference}"

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        if self.pk is not None and self.evaluations.exists():
            raise ReadOnlyError(f"{self} has evaluations: archive it instead of deleting it")
        return super().delete(*args, **kwargs)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def facts(self) -> PatientProfile:
        """The case's facts as a profile (absent = unknown), read as stored: a case saved before
        contract 1.2 stays readable even where its facts now contradict each other."""
        return PatientProfile.from_stored(self.profile)


class EvaluationQuerySet(models.QuerySet["Evaluation"]):
    def update(self, **kwargs: Any) -> int:
        raise ReadOnlyError("evaluations are immutable")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ReadOnlyError("evaluations are immutable")


class Evaluation(models.Model):
    """An immutable snapshot: the profile as it was, every verdict, and the rule set used."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="evaluations")
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="evaluations")
    ruleset_version = models.CharField(max_length=40)
    ruleset_checksum = models.CharField(max_length=64)
    profile = models.JSONField(help_text="The facts as evaluated.")
    profile_hash = models.CharField(max_length=64, help_text="SHA-256 of the canonical profile.")
    result = models.JSONField(help_text="The answer in contract form: {ruleset, options}.")
    # Nullable without a default so that SQLite adds the columns in place: a table rebuild would
    # drop the immutability triggers (migration 0008). Null = made before sources were kept.
    fact_sources = models.JSONField(
        null=True, blank=True, help_text="Where each evaluated fact came from, as on the case then."
    )
    mapping_version = models.CharField(  # noqa: DJ001  (null, not "": added in place, see above)
        max_length=40, null=True, blank=True, help_text="The FHIR mapping of the imported facts, if any."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EvaluationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Evaluation {self.pk} of {self.case} (rule set {self.ruleset_version})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ReadOnlyError("evaluations are immutable")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ReadOnlyError("evaluations are immutable")

    @property
    def facts(self) -> PatientProfile:
        """The profile as it was evaluated, read as stored (see Case.facts)."""
        return PatientProfile.from_stored(self.profile)

    def option_statuses(self) -> dict[str, str]:
        """{modality key: status} for every option, in the order the evaluation listed them."""
        return {option["modality"]: option["status"] for option in self.result["options"]}

    def option_keys(self) -> list[str]:
        return list(self.option_statuses())

    def options(self) -> list[tuple[str, str, str]]:
        """(modality key, name, status) for every option, in the evaluation's order."""
        return [(option["modality"], option["name"], option["status"]) for option in self.result["options"]]

    def answer(self) -> dict[str, Any]:
        """The stored answer in contract form, exactly as made: rule set, options and warnings
        (an answer stored before contract 1.2 has none)."""
        return {
            "ruleset": self.result["ruleset"],
            "options": self.result["options"],
            "warnings": self.result.get("warnings", []),
        }

    def stored_result(self) -> EvaluationResult:
        """The stored answer as the engine's result type, exactly as it was made (any schema version).

        Kept on the instance: an evaluation never changes, and a meeting pack reads each one twice
        (the worklist, then the case sheet)."""
        found: EvaluationResult | None = self.__dict__.get("_stored_result")
        if found is None:
            found = self.__dict__["_stored_result"] = result_from_dict(self.result, self.profile)
        return found


class Review(models.Model):
    """A clinician's view of one option of an evaluation: accept, reject or defer, and why."""

    class Decision(models.TextChoices):
        ACCEPT = "accept", "Accept"
        REJECT = "reject", "Reject"
        DEFER = "defer", "Defer"

    # Every reason of the vocabulary; which fit which decision is ReviewInput's check.
    ReasonCode = models.TextChoices(  # type: ignore[misc,call-overload]
        "ReasonCode", [(code.upper(), (code, label)) for code, label in REASON_CODE_LABELS.items()]
    )

    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="reviews")
    modality = models.CharField(max_length=40, choices=[(key, key) for key in MODALITY_KEYS])
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason_code = models.CharField(max_length=30, choices=ReasonCode.choices)
    note = models.TextField(max_length=2000, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Raised on every change (edit conflicts).")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["evaluation", "modality"]
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "modality"], name="review_one_per_option"),
            models.CheckConstraint(
                condition=Q(reason_code__in=REASON_CODES), name="review_reason_code_valid"
            ),
            models.CheckConstraint(condition=Q(decision__in=DECISIONS), name="review_decision_valid"),
            models.CheckConstraint(condition=Q(modality__in=MODALITY_KEYS), name="review_modality_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} {self.modality} ({self.evaluation.case})"


class Meeting(models.Model):
    """An MDT meeting with an ordered list of cases."""

    title = models.CharField(max_length=200)
    date = models.DateField()
    cases = models.ManyToManyField(Case, through="MeetingCase", related_name="meetings")
    version = models.PositiveIntegerField(default=1, help_text="Raised on every change (edit conflicts).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.date:%d %b %Y})"


class MeetingCase(models.Model):
    """A case on a meeting's list, at a position."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="entries")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="meeting_entries")
    position = models.PositiveIntegerField()
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["meeting", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "case"], name="meeting_case_once")]

    def __str__(self) -> str:
        return f"{self.case} at {self.meeting}"


class Outcome(models.Model):
    """The MDT's decision for a case at a meeting, with its concordance with the evaluation shown."""

    entry = models.OneToOneField(MeetingCase, on_delete=models.PROTECT, related_name="outcome")
    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="outcomes")
    chosen_modalities = models.JSONField(default=list, help_text="Modality keys chosen (may be empty).")
    next_steps = models.JSONField(
        default=list,
        help_text="Coded next steps: " + ", ".join(NEXT_STEP_LABELS) + " (see the vocabulary).",
    )
    plan = models.TextField(max_length=4000)
    statuses = models.JSONField(
        default=dict, help_text="Each chosen option's status in the evaluation shown."
    )
    concordant = models.BooleanField(
        null=True,
        help_text="Every chosen option was a candidate or trial only (null when no option was chosen).",
    )
    version = models.PositiveIntegerField(default=1)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["entry"]

    def __str__(self) -> str:
        return f"Outcome for {self.entry}"


_ALL_FACTS = [fact for facts in DATA_SOURCE_FACTS.values() for fact in facts]


class DataWaiver(models.Model):
    """An unknown fact the MDT does not need for this case ("not needed"), and why.

    Readiness ignores a waived fact; the case page and the summary still show it as unknown (the
    engine is never told anything it does not know)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="waivers")
    fact = models.CharField(max_length=40, help_text="The fact (contract section 1) not needed.")
    reason = models.CharField(max_length=300, help_text="Why the MDT does not need it.")
    waived_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    waived_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["case", "fact"]
        constraints = [
            models.UniqueConstraint(fields=["case", "fact"], name="waiver_once_per_fact"),
            models.CheckConstraint(condition=Q(fact__in=_ALL_FACTS), name="waiver_fact_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.fact} not needed for {self.case}"


class Attendee(models.Model):
    """Someone at a meeting, with their role in the MDT; quoracy is counted from the core roles."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendees")
    name = models.CharField(max_length=150)
    role = models.CharField(max_length=30, choices=list(MDT_ROLE_LABELS.items()))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["meeting", "role", "name"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "name", "role"], name="attendee_once"),
            models.CheckConstraint(condition=Q(role__in=MDT_ROLES), name="attendee_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()}) at {self.meeting}"
