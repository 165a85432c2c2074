"""Writes that matter clinically. Each runs in one transaction and records who did it and when."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from .. import selectors
from ..inputs import CaseChange, CaseCreate, MeetingInput, OutcomeInput, ReviewInput
from ..models import (
    AuditEvent,
    Case,
    Evaluation,
    Meeting,
    MeetingCase,
    Modality,
    Outcome,
    Review,
    Rule,
    RuleSet,
)
from ..rules.conditions import condition_to_data
from ..rules.document import KnowledgeBase
from ..rules.profile import PatientProfile, facts_fingerprint
from ..rules.serialize import result_to_dict, ruleset_to_dict

Actor = User | AnonymousUser | None  # None: the system (e.g. the loader command)


class VersionConflict(Exception):
    """A version label is already used by different content."""


def audit_record(
    *, actor: Actor, action: str, obj: models.Model, payload: dict[str, Any] | None = None
) -> AuditEvent:
    """Append one event to the audit trail."""
    user = actor if isinstance(actor, User) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=user.get_username() if user is not None else "system",
        action=action,
        object_type=obj._meta.model_name or type(obj).__name__,
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        payload=payload or {},
    )


@transaction.atomic
def ruleset_publish(*, knowledge_base: KnowledgeBase, actor: Actor = None) -> RuleSet | None:
    """Publish a validated knowledge base as a new rule-set version and retire the previous one.

    Returns None when the published rule set already has this content (nothing to do). Raises
    VersionConflict when the version label is taken by different content.
    """
    current = RuleSet.objects.select_for_update().published().first()
    if current is not None and current.checksum == knowledge_base.checksum:
        return None
    if RuleSet.objects.filter(version=knowledge_base.version).exists():
        raise VersionConflict(
            f"version {knowledge_base.version} already exists with different content: "
            "bump `version` in the knowledge-base file"
        )
    rule_set = RuleSet.objects.create(
        version=knowledge_base.version,
        title=knowledge_base.title,
        notes=knowledge_base.notes,
        checksum=knowledge_base.checksum,
        content=knowledge_base.content,
    )
    _store_content(rule_set, knowledge_base)
    if current is not None:
        current.status = RuleSet.Status.RETIRED
        current.save()
    rule_set.status = RuleSet.Status.PUBLISHED
    rule_set.published_at = timezone.now()
    rule_set.published_by = actor if isinstance(actor, User) else None
    rule_set.save()
    audit_record(
        actor=actor,
        action="ruleset.publish",
        obj=rule_set,
        payload={
            "version": rule_set.version,
            "checksum": rule_set.checksum,
            "rules": len(knowledge_base.rules),
            "retired": current.version if current else None,
        },
    )
    transaction.on_commit(selectors.forget_published_ruleset)
    return rule_set


def _store_content(rule_set: RuleSet, knowledge_base: KnowledgeBase) -> None:
    modalities = Modality.objects.bulk_create(
        Modality(
            rule_set=rule_set,
            key=doc.key,
            name=doc.name,
            category=doc.category,
            intents=list(doc.intents),
            description=doc.description,
            agents=doc.agents,
            hospital_page=doc.hospital_page,
            notes=doc.notes,
            display_order=doc.display_order,
        )
        for doc in knowledge_base.modalities
    )
    by_key = {modality.key: modality for modality in modalities}
    positions: dict[str, int] = {}
    rules = []
    for spec in knowledge_base.rules:
        positions[spec.modality] = positions.get(spec.modality, 0) + 1
        rules.append(
            Rule(
                rule_set=rule_set,
                modality=by_key[spec.modality],
                rule_id=spec.rule_id,
                kind=spec.kind,
                title=spec.title,
                condition=condition_to_data(spec.condition),
                reason=spec.reason,
                source=spec.source,
                evidence=spec.evidence,
                verification=spec.verification,
                verification_note=spec.verification_note,
                if_unknown=spec.if_unknown,
                position=positions[spec.modality],
            )
        )
    Rule.objects.bulk_create(rules)


# --- the MDT workflow -----------------------------------------------------------------------------


class EditConflict(Exception):
    """Someone else saved a newer version first. `current` is what they saved (None if removed)."""

    def __init__(self, message: str, current: models.Model | None):
        super().__init__(message)
        self.current = current


class WorkflowError(Exception):
    """A write that the workflow does not allow (e.g. reviewing an option the evaluation lacks).

    `loc` names the input field at fault, when there is one.
    """

    def __init__(self, message: str, loc: list[str | int] | None = None):
        super().__init__(message)
        self.loc = loc


def _refuse_archived(case: Case) -> None:
    if case.archived_at is not None:
        raise WorkflowError(f"{case} is archived and can no longer be changed")


def profile_facts(profile: PatientProfile) -> dict[str, Any]:
    """The known facts of a profile, as stored on a case (absent = unknown)."""
    return profile.known_facts()


@transaction.atomic
def case_create(*, actor: User, data: CaseCreate) -> Case:
    """Create a case; the hospital reference must be new."""
    if Case.objects.filter(hospital_reference=data.hospital_reference).exists():
        raise WorkflowError(f"a case with hospital reference {data.hospital_reference} already exists")
    case = Case.objects.create(
        hospital_reference=data.hospital_reference,
        nhs_number=data.nhs_number or "",
        referring_clinician=data.referring_clinician,
        question=data.question,
        clinical_summary=data.clinical_summary,
        profile=profile_facts(data.profile),
        status=data.status,
        created_by=actor,
        updated_by=actor,
    )
    audit_record(actor=actor, action="case.create", obj=case, payload={"fields": _case_payload(case)})
    return case


@transaction.atomic
def case_update(*, actor: User, case: Case, data: CaseChange) -> Case:
    """Change a case if nobody saved it since version `data.version`; else EditConflict."""
    current = Case.objects.select_for_update().get(pk=case.pk)
    _refuse_archived(current)
    if current.version != data.version:
        raise EditConflict(
            f"{current} was changed by {_who(current.updated_by)} since you opened it "
            f"(version {data.version}, now {current.version}); review their change and save again",
            current,
        )
    changes = data.changes()
    reference = changes.get("hospital_reference")
    if reference and Case.objects.filter(hospital_reference=reference).exclude(pk=current.pk).exists():
        raise WorkflowError(f"a case with hospital reference {reference} already exists")
    before = _case_payload(current)
    for name, value in changes.items():
        if name == "profile":
            value = profile_facts(value)
        elif name == "nhs_number" and value is None:
            value = ""
        setattr(current, name, value)
    current.version += 1
    current.updated_by = actor
    current.save()
    after = _case_payload(current)
    changed = {
        name: {"from": before[name], "to": after[name]} for name in after if before[name] != after[name]
    }
    audit_record(actor=actor, action="case.update", obj=current, payload={"changed": changed})
    return current


def _who(user: Any) -> str:
    return str(user.get_full_name() or user.get_username())


def _case_payload(case: Case) -> dict[str, Any]:
    # Identifiers are recorded as "set/changed" only, to keep the audit trail low in personal data.
    return {
        "hospital_reference": case.hospital_reference,
        "nhs_number": "set" if case.nhs_number else "",
        "referring_clinician": case.referring_clinician,
        "question": case.question,
        "clinical_summary": case.clinical_summary,
        "profile": case.profile,
        "status": case.status,
    }


@transaction.atomic
def case_archive(*, actor: User, case: Case) -> Case:
    """Archive a case: it leaves the lists but keeps its evaluations, reviews and outcomes."""
    current = Case.objects.select_for_update().get(pk=case.pk)
    if current.archived_at is None:
        current.archived_at = timezone.now()
        current.version += 1
        current.updated_by = actor
        current.save()
        audit_record(actor=actor, action="case.archive", obj=current)
    return current


@transaction.atomic
def case_evaluate(*, actor: User, case: Case) -> Evaluation:
    """Run the published rules on the case's profile and keep the answer as an immutable snapshot."""
    _refuse_archived(case)
    profile = PatientProfile.model_validate(case.profile)
    compiled = selectors.published_ruleset()
    result = compiled.evaluate(profile)
    rule_set = RuleSet.objects.get(version=compiled.info.version)
    facts = profile_facts(profile)
    evaluation = Evaluation.objects.create(
        case=case,
        rule_set=rule_set,
        ruleset_version=rule_set.version,
        ruleset_checksum=rule_set.checksum,
        profile=facts,
        profile_hash=facts_fingerprint(facts),
        result={
            **result_to_dict(result),
            "ruleset": {**ruleset_to_dict(result.ruleset), "checksum": rule_set.checksum},
        },
        created_by=actor,
    )
    statuses = {verdict.modality.key: verdict.status for verdict in result.verdicts}
    audit_record(
        actor=actor,
        action="evaluation.create",
        obj=evaluation,
        payload={"case": case.hospital_reference, "ruleset": rule_set.version, "statuses": statuses},
    )
    return evaluation


@transaction.atomic
def option_review(*, actor: User, evaluation: Evaluation, modality: str, data: ReviewInput) -> Review:
    """Accept, reject or defer one option of an evaluation.

    `data.version` is the version of the review the clinician saw (None: they saw none). If someone
    saved the review in between, nothing is overwritten: EditConflict carries their review.
    """
    _refuse_archived(evaluation.case)
    latest = selectors.latest_evaluation(evaluation.case)
    if latest is not None and latest.pk != evaluation.pk:
        raise WorkflowError("a newer evaluation of this case exists: review the options of the latest one")
    if modality not in {option["modality"] for option in evaluation.result["options"]}:
        raise WorkflowError(f"the evaluation has no option {modality!r}", ["modality"])
    existing = Review.objects.select_for_update().filter(evaluation=evaluation, modality=modality).first()
    fields = {"decision": data.decision, "reason_code": data.reason_code, "note": data.note}
    if existing is None:
        if data.version is not None:
            raise EditConflict("this review no longer exists; reload the case", None)
        try:
            with transaction.atomic():
                review = Review.objects.create(
                    evaluation=evaluation, modality=modality, reviewed_by=actor, **fields
                )
        except IntegrityError:
            current = Review.objects.get(evaluation=evaluation, modality=modality)
            raise EditConflict(_review_conflict(current), current) from None
        before: dict[str, Any] = {}
    else:
        if data.version != existing.version:
            raise EditConflict(_review_conflict(existing), existing)
        before = {name: getattr(existing, name) for name in fields}
        for name, value in fields.items():
            setattr(existing, name, value)
        existing.version += 1
        existing.reviewed_by = actor
        existing.save()
        review = existing
    audit_record(
        actor=actor,
        action="review.save",
        obj=review,
        payload={"modality": modality, "evaluation": evaluation.pk, "before": before, "after": fields},
    )
    return review


def _review_conflict(current: Review) -> str:
    theirs = f"{current.get_decision_display().lower()}, {current.get_reason_code_display().lower()}"
    return (
        f"{_who(current.reviewed_by)} saved a review of this option first ({theirs}); "
        "your change was not saved. Review theirs and save again."
    )


@transaction.atomic
def meeting_create(*, actor: User, data: MeetingInput) -> Meeting:
    meeting = Meeting.objects.create(title=data.title, date=data.date, created_by=actor)
    audit_record(
        actor=actor,
        action="meeting.create",
        obj=meeting,
        payload={"title": data.title, "date": str(data.date)},
    )
    return meeting


@transaction.atomic
def meeting_update(*, actor: User, meeting: Meeting, data: MeetingInput) -> Meeting:
    before = {"title": meeting.title, "date": str(meeting.date)}
    meeting.title, meeting.date = data.title, data.date
    meeting.save()
    after = {"title": meeting.title, "date": str(meeting.date)}
    audit_record(
        actor=actor, action="meeting.update", obj=meeting, payload={"before": before, "after": after}
    )
    return meeting


@transaction.atomic
def meeting_add_case(*, actor: User, meeting: Meeting, case: Case) -> MeetingCase:
    """Put a case at the end of a meeting's list (once)."""
    Meeting.objects.select_for_update().get(pk=meeting.pk)
    _refuse_archived(case)
    if meeting.entries.filter(case=case).exists():
        raise WorkflowError(f"{case} is already on this meeting's list")
    last = meeting.entries.aggregate(last=models.Max("position"))["last"] or 0
    entry = MeetingCase.objects.create(meeting=meeting, case=case, position=last + 1, added_by=actor)
    audit_record(
        actor=actor, action="meeting.add_case", obj=meeting, payload={"case": case.hospital_reference}
    )
    return entry


@transaction.atomic
def meeting_remove_case(*, actor: User, meeting: Meeting, case: Case) -> None:
    """Take a case off the list; not once its outcome is recorded (that would lose the decision)."""
    entry = meeting.entries.select_for_update().filter(case=case).first()
    if entry is None:
        raise WorkflowError(f"{case} is not on this meeting's list")
    if Outcome.objects.filter(entry=entry).exists():
        raise WorkflowError(f"the outcome for {case} is recorded; it stays on the list")
    entry.delete()
    _renumber(meeting)
    audit_record(
        actor=actor, action="meeting.remove_case", obj=meeting, payload={"case": case.hospital_reference}
    )


@transaction.atomic
def meeting_reorder(*, actor: User, meeting: Meeting, case_ids: list[int]) -> None:
    """Put the meeting's cases in this order; the list must name each of its cases exactly once."""
    entries = {entry.case_id: entry for entry in meeting.entries.select_for_update()}
    if sorted(case_ids) != sorted(entries) or len(set(case_ids)) != len(case_ids):
        raise WorkflowError("the new order must list every case of the meeting exactly once", ["cases"])
    for position, case_id in enumerate(case_ids, start=1):
        entries[case_id].position = position
    MeetingCase.objects.bulk_update(entries.values(), ["position"])
    references = dict(Case.objects.filter(pk__in=case_ids).values_list("pk", "hospital_reference"))
    audit_record(
        actor=actor,
        action="meeting.reorder",
        obj=meeting,
        payload={"order": [references[i] for i in case_ids]},
    )


def _renumber(meeting: Meeting) -> None:
    entries = list(meeting.entries.order_by("position", "id"))
    for position, entry in enumerate(entries, start=1):
        entry.position = position
    MeetingCase.objects.bulk_update(entries, ["position"])


@transaction.atomic
def outcome_record(*, actor: User, meeting: Meeting, case: Case, data: OutcomeInput) -> Outcome:
    """Record (or correct) the MDT's decision for a case, against the case's latest evaluation.

    For each chosen option the status it had in that evaluation is kept, and the decision is
    concordant when every chosen option was a candidate.
    """
    entry = meeting.entries.select_for_update().filter(case=case).first()
    if entry is None:
        raise WorkflowError(f"{case} is not on this meeting's list")
    _refuse_archived(case)
    evaluation = selectors.latest_evaluation(case)
    if evaluation is None:
        raise WorkflowError(f"{case} has no evaluation yet: evaluate it before recording the outcome")
    statuses = {option["modality"]: option["status"] for option in evaluation.result["options"]}
    unknown = [key for key in data.chosen_modalities if key not in statuses]
    if unknown:
        raise WorkflowError(f"the evaluation has no option {', '.join(unknown)}", ["chosen_modalities"])
    chosen = {key: statuses[key] for key in data.chosen_modalities}
    concordant = all(status == "candidate" for status in chosen.values()) if chosen else None
    fields = {
        "evaluation": evaluation,
        "chosen_modalities": list(data.chosen_modalities),
        "plan": data.plan,
        "statuses": chosen,
        "concordant": concordant,
        "recorded_by": actor,
    }
    existing = Outcome.objects.select_for_update().filter(entry=entry).first()
    if existing is None:
        if data.version is not None:
            raise EditConflict("this outcome no longer exists; reload the meeting", None)
        outcome = Outcome.objects.create(entry=entry, **fields)
    else:
        if data.version != existing.version:
            raise EditConflict(
                f"{_who(existing.recorded_by)} recorded this outcome first; your change was not saved. "
                "Review theirs and save again.",
                existing,
            )
        for name, value in fields.items():
            setattr(existing, name, value)
        existing.version += 1
        existing.save()
        outcome = existing
    audit_record(
        actor=actor,
        action="outcome.record",
        obj=outcome,
        payload={
            "case": case.hospital_reference,
            "meeting": meeting.pk,
            "evaluation": evaluation.pk,
            "chosen": chosen,
            "concordant": concordant,
            "plan": data.plan,
        },
    )
    return outcome


def summary_exported(*, actor: User, obj: Case | Meeting, fmt: str) -> None:
    """Record that a case summary or a meeting pack left the system (HTML or PDF)."""
    audit_record(actor=actor, action="summary.export", obj=obj, payload={"format": fmt})
