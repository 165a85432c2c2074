"""CDS Hooks (docs/cds-hooks.md): the EHRs allowed to call NETcare, the JWT ids they have used, each
call's answer as it was given, and the feedback on its cards.

A hook evaluation is immutable, like a case evaluation: it records what the EHR was told. Feedback is
append-only; only the review it was later recorded as may be filled in.
"""

from __future__ import annotations

import uuid
from typing import Any

import jwt
import orjson
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q

from .audit import ReadOnlyError
from .knowledge import RuleSet
from .mdt import Case, Review

# JWS algorithms a client may be allowed (CDS Hooks 2.0 §JWT Signing Algorithm: asymmetric only;
# ES256 only for the public sandbox). "none" and every HMAC algorithm are refused by construction.
SUPPORTED_ALGS: tuple[str, ...] = ("ES384", "RS384", "ES256", "RS256")
DEFAULT_ALGS: tuple[str, ...] = ("ES384", "RS384")


def default_algs() -> list[str]:
    return list(DEFAULT_ALGS)


def validate_jwks(value: Any) -> None:
    """A JWK Set of public keys, each with a kid, that PyJWT can read."""
    if value in ({}, None):
        return
    keys = value.get("keys") if isinstance(value, dict) else None
    if not isinstance(keys, list) or not keys:
        raise ValidationError('Enter a JWK Set: {"keys": [...]} with at least one key.')
    for index, key in enumerate(keys):
        if not isinstance(key, dict) or not key.get("kid"):
            raise ValidationError(f"Key {index + 1} has no kid.")
        if "d" in key:
            raise ValidationError(f"Key {key['kid']} is a private key: register the public key only.")
        try:
            jwt.PyJWK(key)
        except jwt.PyJWTError as exc:
            raise ValidationError(f"Key {key['kid']} cannot be read: {exc}") from None


def validate_algs(value: Any) -> None:
    if not isinstance(value, list) or not value or any(alg not in SUPPORTED_ALGS for alg in value):
        raise ValidationError(f"Choose one or more of {', '.join(SUPPORTED_ALGS)}.")


def validate_urls(value: Any) -> None:
    if not isinstance(value, list) or any(
        not isinstance(url, str) or not url.startswith(("https://", "http://")) for url in value
    ):
        raise ValidationError("Enter a list of URLs (https in production).")


class FastJSONEncoder(DjangoJSONEncoder):
    """Encodes with orjson: a hook evaluation's answer and cards are large, and the standard library's
    encoder took about a quarter of a call's time. Anything orjson cannot encode goes to Django's."""

    def encode(self, o: Any) -> str:
        return orjson.dumps(o, default=self.default).decode()


class CdsClientQuerySet(models.QuerySet["CdsClient"]):
    def enabled(self) -> CdsClientQuerySet:
        return self.filter(enabled=True)


class CdsClient(models.Model):
    """An EHR allowed to call the CDS service: how to check its JWTs and which FHIR servers it may
    point NETcare at."""

    iss = models.CharField(
        max_length=255, unique=True, help_text="The JWT's iss, exactly as the EHR sends it."
    )
    name = models.CharField(max_length=150, help_text="Who this is, e.g. 'Trust EPR (production)'.")
    enabled = models.BooleanField(default=True, help_text="Off: every call from this client is refused.")
    jwks = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_jwks],
        help_text='The JWK Set ({"keys": [...]}) used when the JWT names no jku; public keys only.',
    )
    jku_allowlist = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_urls],
        help_text="Exact JWK Set URLs (https) the JWT may name in jku; any other jku is refused unfetched.",
    )
    allowed_algs = models.JSONField(
        default=default_algs,
        validators=[validate_algs],
        help_text=f"Signing algorithms accepted, of {', '.join(SUPPORTED_ALGS)}.",
    )
    tenants = models.JSONField(
        default=list, blank=True, help_text="If set, the JWT's tenant claim must be one of these."
    )
    fhir_server_allowlist = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_urls],
        help_text="FHIR server URL prefixes (https) NETcare may query with the EHR's access token.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = CdsClientQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "CDS Hooks client"

    def __str__(self) -> str:
        return f"{self.name} ({self.iss})"

    def clean(self) -> None:
        if not self.jwks and not self.jku_allowlist:
            raise ValidationError("Give the client's JWK Set, or the jku URLs its JWTs may name.")


class CdsJti(models.Model):
    """A JWT id already used by a client: a second call with it is a replay (a table, not the
    cache, because every process and server must see it at once)."""

    iss = models.CharField(max_length=255)
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True, help_text="May be purged a day after this.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["iss", "jti"], name="cds_jti_once")]

    def __str__(self) -> str:
        return f"{self.iss} {self.jti}"


class HookEvaluationQuerySet(models.QuerySet["HookEvaluation"]):
    def update(self, **kwargs: Any) -> int:
        raise ReadOnlyError("hook evaluations are immutable")

    def delete(self) -> tuple[int, dict[str, int]]:
        # Only the retention purge deletes (services.cds.hook_evaluations_purge): what an EHR was told
        # about a patient with a NETcare case is kept with the case.
        if self.filter(linked_case__isnull=False).exists():
            raise ReadOnlyError("a hook evaluation linked to a case is kept with the case")
        return super().delete()


class HookEvaluation(models.Model):
    """One CDS Hooks call answered: who asked about whom, the facts NETcare made of the EHR's data
    (with their sources), the engine's answer with the rule set used, and the cards returned."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(CdsClient, on_delete=models.PROTECT, related_name="hook_evaluations")
    hook = models.CharField(max_length=40)
    hook_instance = models.CharField(max_length=255)
    fhir_server = models.CharField(max_length=500, blank=True)
    patient_fhir_id = models.CharField(max_length=255)
    user_ref = models.CharField(max_length=255)
    encounter_ref = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(db_index=True)
    mapping_version = models.CharField(max_length=40, blank=True)
    profile = models.JSONField(
        encoder=FastJSONEncoder, help_text="The facts evaluated (direct and derived only)."
    )
    fact_sources = models.JSONField(
        encoder=FastJSONEncoder, default=dict, blank=True, help_text="Provenance of each fact."
    )
    issues = models.JSONField(
        encoder=FastJSONEncoder,
        default=list,
        blank=True,
        help_text="What the mapping could not use, and why.",
    )
    result = models.JSONField(encoder=FastJSONEncoder, help_text="The engine's answer in contract form.")
    rule_set = models.ForeignKey(RuleSet, on_delete=models.PROTECT, related_name="hook_evaluations")
    ruleset_version = models.CharField(max_length=40)
    ruleset_checksum = models.CharField(max_length=64)
    cards = models.JSONField(encoder=FastJSONEncoder, help_text="The cards exactly as returned.")
    linked_case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="hook_evaluations"
    )
    duration_ms = models.PositiveIntegerField(help_text="From the request's arrival to the answer built.")

    objects = HookEvaluationQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.hook} {self.id} ({self.ruleset_version})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ReadOnlyError("hook evaluations are immutable")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.linked_case_id is not None:
            raise ReadOnlyError("a hook evaluation linked to a case is kept with the case")
        return super().delete(*args, **kwargs)


class HookCard(models.Model):
    """Which hook evaluation and option a card uuid belongs to (feedback names only the card)."""

    uuid = models.UUIDField(primary_key=True)
    hook_evaluation = models.ForeignKey(HookEvaluation, on_delete=models.CASCADE, related_name="card_rows")
    modality = models.CharField(max_length=40, blank=True, help_text="Empty: the summary card.")

    def __str__(self) -> str:
        return f"card {self.uuid} ({self.modality or 'summary'})"


class CardFeedback(models.Model):
    """What the EHR user did with a card: accepted its suggestion or overrode it, and why."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        OVERRIDDEN = "overridden", "Overridden"

    hook_evaluation = models.ForeignKey(HookEvaluation, on_delete=models.PROTECT, related_name="feedback")
    client = models.ForeignKey(CdsClient, on_delete=models.PROTECT, related_name="+")
    card_uuid = models.UUIDField()
    modality = models.CharField(max_length=40, blank=True, help_text="Empty: the summary card.")
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    accepted_suggestions = models.JSONField(default=list, blank=True)
    override_system = models.CharField(max_length=255, blank=True)
    override_code = models.CharField(max_length=100, blank=True)
    override_display = models.CharField(max_length=255, blank=True)
    user_comment = models.TextField(max_length=2000, blank=True)
    outcome_timestamp = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    recorded_review = models.ForeignKey(
        Review, null=True, blank=True, on_delete=models.PROTECT, related_name="cds_feedback"
    )

    class Meta:
        ordering = ["-outcome_timestamp", "-id"]
        constraints = [
            # The EHR may send the same feedback again: it is stored once.
            models.UniqueConstraint(
                fields=["card_uuid", "outcome", "outcome_timestamp"], name="card_feedback_once"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=["accepted", "overridden"]), name="card_feedback_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} card {self.card_uuid}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Append-only: once stored, only the review it was recorded as may be filled in.
        if not self._state.adding and kwargs.get("update_fields") != ["recorded_review"]:
            raise ReadOnlyError("card feedback is append-only")
        super().save(*args, **kwargs)


class PractitionerLink(models.Model):
    """An EHR user (the call's context.userId, e.g. Practitioner/123) who is this NETcare user. Only
    with such a link, made by an administrator, may CDS_FEEDBACK_AUTO_REVIEW record that user's
    feedback as their review: the feedback itself names nobody."""

    client = models.ForeignKey(CdsClient, on_delete=models.PROTECT, related_name="practitioner_links")
    user_ref = models.CharField(max_length=255, help_text="As the EHR sends it, e.g. Practitioner/123.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "user_ref"], name="practitioner_link_once")]

    def __str__(self) -> str:
        return f"{self.user_ref} = {self.user_id}"
