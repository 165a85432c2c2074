"""Writes of the CDS Hooks service: register a client, keep each call's answer, keep the EHR's
feedback, and record a piece of feedback as a NETcare review (docs/cds-hooks.md).

Feedback carries no user identity, so it becomes a review only when a NETcare clinician records
it on the linked case; the mapping from the EHR's override reasons to NETcare's review decisions
is the table of docs/cds-hooks.md ("Feedback").
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from .. import roles, selectors
from ..inputs import ReviewInput
from ..models import (
    AuditEvent,
    CardFeedback,
    Case,
    CdsClient,
    CdsJti,
    HookCard,
    HookEvaluation,
    PractitionerLink,
    Review,
    RuleSet,
)
from ..models.cds import DEFAULT_ALGS
from ..rules.engine import EvaluationResult
from ..rules.serialize import result_to_dict, ruleset_to_dict
from .audit import Actor, audit_record
from .cases import case_evaluate_once, option_review
from .errors import WorkflowError

logger = logging.getLogger("netcare.cds")

NON_ADHERENCE = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"
# HL7 non-adherence reason code -> (Review decision, Review reason code).
OVERRIDE_TO_REVIEW: dict[str, tuple[str, str]] = {
    **dict.fromkeys(
        (
            "prefers-alternative",
            "patient-refuses",
            "does-not-align-preferences",
            "patient-does-not-want-change",
            "patient-fears-discomfort",
            "cultural-religious-reason",
        ),
        ("reject", "patient_preference"),
    ),
    **dict.fromkeys(
        (
            "patient-contraindication",
            "comorbidity-disability",
            "risk-benefit-ratio",
            "likely-negative-health-outcomes",
        ),
        ("reject", "comorbidity"),
    ),
    **dict.fromkeys(
        ("service-not-available", "too-costly-uncovered", "implementation-challenges"),
        ("reject", "not_available"),
    ),
    "need-more-info": ("defer", "awaiting_data"),
}


class FeedbackNotRecordable(WorkflowError):
    code = "feedback_not_recordable"
    title = "This feedback cannot become a review"


# --- clients ---------------------------------------------------------------------------------------


@transaction.atomic
def cds_client_register(
    *,
    actor: Actor,
    iss: str,
    name: str,
    jwks: dict[str, Any] | None = None,
    jku_allowlist: list[str] | None = None,
    allowed_algs: list[str] | None = None,
    tenants: list[str] | None = None,
    fhir_server_allowlist: list[str] | None = None,
) -> tuple[CdsClient, bool]:
    """Register an EHR by its iss, or replace the registration it has: (client, created)."""
    user = actor if isinstance(actor, User) else None
    client = CdsClient.objects.select_for_update().filter(iss=iss).first()
    created = client is None
    if client is None:
        client = CdsClient(iss=iss, created_by=user)
    client.name = name
    client.enabled = True
    client.jwks = jwks or {}
    client.jku_allowlist = jku_allowlist or []
    client.tenants = tenants or []
    client.fhir_server_allowlist = fhir_server_allowlist or []
    client.allowed_algs = allowed_algs or list(DEFAULT_ALGS)
    client.updated_by = user
    client.full_clean()  # ValidationError names the field; nothing is saved
    client.save()
    cds_client_audit(actor=actor, client=client, change="create" if created else "update")
    return client, created


def cds_client_audit(*, actor: Actor, client: CdsClient, change: str) -> None:
    """Who may call the CDS service changed (also recorded for changes made in the admin)."""
    audit_record(
        actor=actor,
        action=f"cds_client.{change}",
        obj=client,
        payload={
            "iss": client.iss,
            "enabled": client.enabled,
            "allowed_algs": client.allowed_algs,
            "keys": [key.get("kid") for key in (client.jwks or {}).get("keys", []) if isinstance(key, dict)],
            "jku_allowlist": client.jku_allowlist,
            "tenants": client.tenants,
            "fhir_server_allowlist": client.fhir_server_allowlist,
        },
    )


# --- calls -----------------------------------------------------------------------------------------


@transaction.atomic
def hook_evaluation_record(
    *,
    evaluation_id: Any,
    client: CdsClient,
    hook: str,
    hook_instance: str,
    context: dict[str, str],
    fhir_server: str,
    received_at: datetime,
    mapping_version: str,
    result: EvaluationResult,
    fact_sources: dict[str, Any],
    issues: list[Any],
    cards: list[dict[str, Any]],
    card_owners: dict[str, str],
    linked_case: Case | None,
    duration_ms: int,
) -> HookEvaluation:
    """Keep one answered call exactly as answered, with the cards' owners for feedback, and audit
    it (ids only: no patient data in the trail)."""
    rule_set = RuleSet.objects.only("pk", "version", "checksum").get(version=result.ruleset.version)
    evaluation = HookEvaluation.objects.create(
        id=evaluation_id,
        client=client,
        hook=hook,
        hook_instance=hook_instance,
        fhir_server=fhir_server,
        patient_fhir_id=context["patientId"],
        user_ref=context["userId"],
        encounter_ref=context.get("encounterId") or "",
        received_at=received_at,
        mapping_version=mapping_version,
        profile=result.profile.known_facts(),
        fact_sources=fact_sources,
        issues=issues,
        result={**result_to_dict(result), "ruleset": {**ruleset_to_dict(result.ruleset)}},
        rule_set=rule_set,
        ruleset_version=rule_set.version,
        ruleset_checksum=rule_set.checksum,
        cards=cards,
        linked_case=linked_case,
        duration_ms=duration_ms,
    )
    HookCard.objects.bulk_create(
        HookCard(uuid=card_uuid, hook_evaluation=evaluation, modality=modality)
        for card_uuid, modality in card_owners.items()
    )
    audit_record(
        actor=None,
        action="cds.hook",
        obj=evaluation,
        payload={
            "client": client.iss,
            "hook": hook,
            "hookInstance": hook_instance,
            "hook_evaluation": str(evaluation.pk),
            "cards": len(cards),
            "duration_ms": duration_ms,
            "linked_case": linked_case.pk if linked_case else None,
        },
    )
    return evaluation


# --- feedback ----------------------------------------------------------------------------------------


def card_feedback_record(*, client: CdsClient, items: list[Any]) -> list[CardFeedback]:
    """Store each piece of feedback once (the EHR may repeat it); feedback on a card this client
    was never given is logged as unknown_card and dropped, as the specification gives no error."""
    stored = []
    for item in items:
        row = _feedback_once(client, item)
        if row is not None:
            stored.append(row)
    return stored


@transaction.atomic
def _feedback_once(client: CdsClient, item: Any) -> CardFeedback | None:
    card = HookCard.objects.select_related("hook_evaluation").filter(uuid=item.card).first()
    if card is None or card.hook_evaluation.client_id != client.pk:
        logger.warning("cds feedback: unknown_card %s from %s", item.card, client.iss)
        return None
    reason = item.overrideReason
    coding = reason.reason if reason is not None else None
    fields = {
        "hook_evaluation": card.hook_evaluation,
        "client": client,
        "modality": card.modality,
        "accepted_suggestions": [suggestion.id for suggestion in item.acceptedSuggestions or []],
        "override_system": (coding.system or "") if coding else "",
        "override_code": coding.code if coding else "",
        "override_display": (coding.display or "") if coding else "",
        "user_comment": (reason.userComment or "") if reason else "",
    }
    key = {"card_uuid": item.card, "outcome": item.outcome, "outcome_timestamp": item.outcomeTimestamp}
    if CardFeedback.objects.filter(**key).exists():
        return None
    try:
        with transaction.atomic():
            feedback = CardFeedback.objects.create(**key, **fields)
    except IntegrityError:  # the same feedback, stored by a concurrent request
        return None
    audit_record(
        actor=None,
        action="cds.feedback",
        obj=feedback,
        payload={
            "client": client.iss,
            "hook_evaluation": str(card.hook_evaluation_id),
            "modality": card.modality,
            "outcome": item.outcome,
            "override_code": fields["override_code"],
        },
    )
    if settings.CDS_FEEDBACK_AUTO_REVIEW:
        _auto_review(feedback)
    return feedback


def _auto_review(feedback: CardFeedback) -> None:
    """With CDS_FEEDBACK_AUTO_REVIEW on, record the feedback as the review of the NETcare clinician
    the EHR user is linked to (PractitionerLink), when the call is linked to a case and the feedback
    says enough (review_for). Anything short of that leaves it pending on the case page, as with the
    setting off; a refusal by the workflow (closed case …) too."""
    evaluation = feedback.hook_evaluation
    if evaluation.linked_case_id is None or review_for(feedback) is None:
        return
    link = (
        PractitionerLink.objects.select_related("user")
        .filter(client_id=feedback.client_id, user_ref=evaluation.user_ref, user__is_active=True)
        .first()
    )
    if link is None or not roles.can(link.user, "review_options"):
        return
    try:
        with transaction.atomic():
            cds_feedback_review(actor=link.user, feedback=feedback, automatic=True)
    except (WorkflowError, selectors.NoPublishedRuleSet) as exc:
        logger.info("cds feedback %s left pending: %s", feedback.pk, exc)


def review_for(feedback: CardFeedback) -> tuple[str, str] | None:
    """The (decision, reason code) a piece of feedback becomes, or None if it says too little."""
    if not feedback.modality:
        return None  # the summary card recommends nothing
    if feedback.outcome == CardFeedback.Outcome.ACCEPTED:
        return ("accept", "clinically_appropriate")
    if feedback.override_system in ("", NON_ADHERENCE) and feedback.override_code in OVERRIDE_TO_REVIEW:
        return OVERRIDE_TO_REVIEW[feedback.override_code]
    if feedback.override_code or feedback.user_comment:
        return ("reject", "other")
    return None


def feedback_note(feedback: CardFeedback) -> str:
    """The review's note: where it came from (the card's uuid) and what the EHR user said."""
    note = (
        f"From EHR feedback on CDS card {feedback.card_uuid} "
        f"({feedback.outcome} {feedback.outcome_timestamp:%d %b %Y %H:%M})"
    )
    if feedback.override_code:
        note += f": {feedback.override_display or feedback.override_code}"
    if feedback.user_comment:
        note += f' - "{feedback.user_comment}"'
    return note[:2000]


@transaction.atomic
def cds_feedback_review(*, actor: User, feedback: CardFeedback, automatic: bool = False) -> Review:
    """Record the EHR's feedback on an option card as the clinician's review of that option, on the
    case's evaluation with the rules in force (made now if the case's latest is out of date).
    `automatic`: recorded by CDS_FEEDBACK_AUTO_REVIEW for the linked clinician, not by a click."""
    current = CardFeedback.objects.select_for_update().select_related("hook_evaluation").get(pk=feedback.pk)
    case = current.hook_evaluation.linked_case
    if current.recorded_review_id is not None:
        raise FeedbackNotRecordable("this feedback has already been recorded as a review")
    if case is None:
        raise FeedbackNotRecordable("the EHR call this feedback is about is not linked to a case")
    decision = review_for(current)
    if decision is None:
        raise FeedbackNotRecordable("this feedback names no option or no reason, so it is kept only")
    evaluation, _ = case_evaluate_once(actor=actor, case=case)
    existing = Review.objects.filter(evaluation=evaluation, modality=current.modality).first()
    data = ReviewInput(
        decision=decision[0],  # type: ignore[arg-type]
        reason_code=decision[1],  # type: ignore[arg-type]
        note=feedback_note(current),
        version=existing.version if existing else None,
    )
    review = option_review(actor=actor, evaluation=evaluation, modality=current.modality, data=data)
    current.recorded_review = review
    current.save(update_fields=["recorded_review"])
    audit_record(
        actor=actor,
        action="cds.feedback_review",
        obj=current,
        payload={
            "review": review.pk,
            "evaluation": evaluation.pk,
            "card": str(current.card_uuid),
            "automatic": automatic,
        },
    )
    return review


# --- EHR users who are NETcare clinicians ----------------------------------------------------------


@transaction.atomic
def practitioner_link(*, actor: Actor, client: CdsClient, user_ref: str, user: User) -> PractitionerLink:
    """Say that the EHR user `user_ref` of `client` is the NETcare user `user` (replacing any earlier
    link of that EHR user), audited."""
    link, created = PractitionerLink.objects.update_or_create(
        client=client,
        user_ref=user_ref,
        defaults={"user": user, "created_by": actor if isinstance(actor, User) else None},
    )
    practitioner_link_audit(actor=actor, link=link, change="create" if created else "update")
    return link


def practitioner_link_audit(*, actor: Actor, link: PractitionerLink, change: str) -> None:
    """Whose name EHR feedback may be recorded in changed (also for changes made in the admin)."""
    audit_record(
        actor=actor,
        action=f"cds.practitioner_link.{change}",
        obj=link,
        payload={"client": link.client.iss, "user_ref": link.user_ref, "user": link.user_id},
    )


# --- retention ---------------------------------------------------------------------------------------


PURGE_BATCH = 500


@dataclass(frozen=True)
class PurgeCounts:
    hook_evaluations: int = 0
    cards: int = 0
    feedback: int = 0
    jtis: int = 0


def cds_purge(*, actor: Actor, days: int, now: datetime, dry_run: bool = False) -> PurgeCounts:
    """Delete the EHR calls older than `days` that are not linked to a case (with their cards and
    feedback: the call is what the feedback is about), and the JWT ids a day past their expiry.
    Calls linked to a case are kept with the case (the querysets refuse to delete those). Running it
    again deletes nothing more. Each run that is not a dry run is one audit event with the counts."""
    cutoff = now - timedelta(days=days)
    expired = CdsJti.objects.filter(expires_at__lt=now - timedelta(days=1))
    old = HookEvaluation.objects.filter(linked_case__isnull=True, received_at__lt=cutoff)
    if dry_run:
        ids = old.values("pk")
        return PurgeCounts(
            hook_evaluations=old.count(),
            cards=HookCard.objects.filter(hook_evaluation__in=ids).count(),
            feedback=CardFeedback.objects.filter(hook_evaluation__in=ids).count(),
            jtis=expired.count(),
        )
    counts = PurgeCounts(jtis=expired.delete()[0])
    while batch := list(old.values_list("pk", flat=True)[:PURGE_BATCH]):
        counts = _purge_batch(batch, counts)
    AuditEvent.objects.create(  # about no one row: audit_record needs an object
        actor=actor if isinstance(actor, User) else None,
        actor_name=actor.get_username() if isinstance(actor, User) else "system",
        action="cds.retention_purge",
        object_type="hookevaluation",
        object_id="",
        object_repr=f"EHR calls before {cutoff:%Y-%m-%d %H:%M} not linked to a case",
        payload={"days": days, "cutoff": cutoff.isoformat(), **asdict(counts)},
    )
    return counts


@transaction.atomic
def _purge_batch(ids: list[Any], counts: PurgeCounts) -> PurgeCounts:
    # A recorded review needs a linked case, so no feedback of these calls is a review; checked
    # again here because a review's source must never vanish.
    feedback = CardFeedback.objects.filter(hook_evaluation__in=ids)
    if feedback.filter(recorded_review__isnull=False).exists():
        raise WorkflowError("feedback recorded as a review belongs to an unlinked call")
    removed_feedback = feedback.delete()[0]
    removed_cards = HookCard.objects.filter(hook_evaluation__in=ids).delete()[0]
    removed = HookEvaluation.objects.filter(pk__in=ids, linked_case__isnull=True).delete()[0]
    return PurgeCounts(
        hook_evaluations=counts.hook_evaluations + removed,
        cards=counts.cards + removed_cards,
        feedback=counts.feedback + removed_feedback,
        jtis=counts.jtis,
    )
