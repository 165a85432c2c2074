"""Writes to a case: create, change, archive, evaluate, and the review of each option.

Each runs in one transaction and records one audit event; refusals are typed (errors.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from pydantic import ValidationError

from .. import selectors, tasks
from ..inputs import CaseChange, CaseCreate, ReviewInput, WaiverInput
from ..models import (
    Case,
    DataWaiver,
    Evaluation,
    Review,
    RuleSet,
)
from ..rules.profile import PatientProfile, error_list, facts_fingerprint
from ..rules.serialize import result_to_dict, ruleset_to_dict
from .audit import audit_record, display_name
from .errors import (
    CaseArchived,
    EditConflict,
    EvaluationSuperseded,
    FactsContradict,
    InvalidChange,
    OptionNotInEvaluation,
    ReferenceTaken,
)


@transaction.atomic
def case_create(*, actor: User, data: CaseCreate) -> Case:
    """Create a case; the hospital reference must be new."""
    if Case.objects.filter(hospital_reference=data.hospital_reference).exists():
        raise ReferenceTaken(data.hospital_reference)
    case = Case(
        hospital_reference=data.hospital_reference,
        nhs_number=data.nhs_number or "",
        referring_clinician=data.referring_clinician,
        question=data.question,
        clinical_summary=data.clinical_summary,
        profile=data.profile.known_facts(),
        status=data.status,
        created_by=actor,
        updated_by=actor,
    )
    case.fact_sources = manual_sources({}, case.profile, {}, actor)
    _save_unless_reference_taken(case)
    audit_record(actor=actor, action="case.create", obj=case, payload={"fields": _case_payload(case)})
    return case


@transaction.atomic
def case_update(*, actor: User, case: Case, data: CaseChange) -> Case:
    """Change a case if nobody saved it since version `data.version`; else EditConflict."""
    current = case_locked_for_edit(case, data.version)
    changes = data.changes()
    reference = changes.get("hospital_reference")
    if reference and Case.objects.filter(hospital_reference=reference).exclude(pk=current.pk).exists():
        raise ReferenceTaken(reference)
    before = _case_payload(current)
    for name, value in changes.items():
        if name == "profile":
            value = value.known_facts()
            current.fact_sources = manual_sources(current.profile, value, current.fact_sources, actor)
        elif name == "nhs_number" and value is None:
            value = ""
        setattr(current, name, value)
    current.version += 1
    current.updated_by = actor
    _save_unless_reference_taken(current)
    after = _case_payload(current)
    changed = {
        name: {"from": before[name], "to": after[name]} for name in after if before[name] != after[name]
    }
    audit_record(actor=actor, action="case.update", obj=current, payload={"changed": changed})
    tasks.sheets_ahead(current)
    return current


def case_locked_for_edit(case: Case, version: int) -> Case:
    """The case, locked for this transaction, if it is still at the version the user saw."""
    current = Case.objects.select_for_update().get(pk=case.pk)
    refuse_archived(current)
    if current.version != version:
        raise EditConflict(
            f"{current} was changed by {display_name(current.updated_by)} since you opened it "
            f"(version {version}, now {current.version}); review their change and save again",
            current,
        )
    return current


def manual_sources(
    before: dict[str, Any], after: dict[str, Any], sources: dict[str, Any], actor: User
) -> dict[str, Any]:
    """The case's fact sources after a manual edit: a fact whose value changed was entered by the
    actor now; a fact removed loses its source; the others keep theirs."""
    kept = {fact: source for fact, source in (sources or {}).items() if fact in after}
    stamp = {"level": "manual", "by": display_name(actor), "at": timezone.now().isoformat()}
    for fact, value in after.items():
        if before.get(fact) != value:
            kept[fact] = dict(stamp)
    return kept


def _save_unless_reference_taken(case: Case) -> None:
    """Save the case; ReferenceTaken when another request saved the same reference in between.

    The check before catches the usual case; two requests racing both pass it, and the loser's
    insert breaks the unique constraint (it was a 500, security review F7). The database error
    is not chained: its message holds the failing row, patient data that must not reach the logs.
    """
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError:
        taken = Case.objects.filter(hospital_reference=case.hospital_reference).exclude(pk=case.pk)
        if not taken.exists():
            raise
        raise ReferenceTaken(case.hospital_reference) from None


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


def _current_profile(case: Case) -> PatientProfile:
    """The case's facts checked as the contract stands now (a case stored earlier may fail)."""
    try:
        return PatientProfile.model_validate(case.profile)
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in error_list(exc)]
        raise FactsContradict(case, problems) from exc


def case_evaluate(*, actor: User, case: Case) -> Evaluation:
    """Run the published rules on the case's profile and keep the answer as an immutable snapshot
    (or the latest snapshot, when it was made from the same facts with the same rule set)."""
    return case_evaluate_once(actor=actor, case=case)[0]


@transaction.atomic
def case_evaluate_once(*, actor: User, case: Case) -> tuple[Evaluation, bool]:
    """(evaluation, created): a new snapshot, or the latest one when the case's facts and the rule
    set in force are those it was made with. Re-evaluating an unchanged case stores nothing, so a
    client in a loop cannot grow the case's history without bound (security review F9)."""
    refuse_archived(case)
    # One evaluation at a time per case, so that two identical requests cannot both store a copy.
    locked = Case.objects.select_for_update().get(pk=case.pk)
    profile = _current_profile(locked)
    compiled = selectors.published_ruleset()
    rule_set = RuleSet.objects.get(version=compiled.info.version)
    facts = profile.known_facts()
    fingerprint = facts_fingerprint(facts)
    sources = {fact: source for fact, source in (locked.fact_sources or {}).items() if fact in facts}
    latest = selectors.case_evaluations(locked).first()
    if (
        latest is not None
        and latest.profile_hash == fingerprint
        and latest.rule_set_id == rule_set.pk
        and (latest.fact_sources or {}) == sources
    ):
        return latest, False
    result = compiled.evaluate(profile)
    evaluation = Evaluation.objects.create(
        case=case,
        rule_set=rule_set,
        ruleset_version=rule_set.version,
        ruleset_checksum=rule_set.checksum,
        profile=facts,
        profile_hash=fingerprint,
        # Where each fact came from, frozen with the facts (docs/adr/0003): the evaluation page and
        # summary show the source and date the MDT decided on, whatever the case says later.
        fact_sources=sources,
        mapping_version=next(
            (str(s["mapping_version"]) for s in sources.values() if s.get("mapping_version")), None
        ),
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
    tasks.sheets_ahead(case)
    return evaluation, True


def refuse_archived(case: Case) -> None:
    """An archived case is read-only: nothing may change it."""
    if case.is_archived:
        raise CaseArchived(case)


def review_allowed(*, evaluation: Evaluation, modality: str) -> None:
    """Raise why this option of this evaluation may not be reviewed now (pages ask before a form)."""
    if modality not in evaluation.option_keys():
        raise OptionNotInEvaluation(repr(modality), ["modality"])
    refuse_archived(evaluation.case)
    latest = selectors.latest_evaluation(evaluation.case)
    if latest is not None and latest.pk != evaluation.pk:
        raise EvaluationSuperseded()


@transaction.atomic
def option_review(*, actor: User, evaluation: Evaluation, modality: str, data: ReviewInput) -> Review:
    """Accept, reject or defer one option of an evaluation.

    `data.version` is the version of the review the clinician saw (None: they saw none). If someone
    saved the review in between, nothing is overwritten: EditConflict carries their review.
    """
    review_allowed(evaluation=evaluation, modality=modality)
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
    tasks.sheets_ahead(evaluation.case)
    return review


def _review_conflict(current: Review) -> str:
    theirs = f"{current.get_decision_display().lower()}, {current.get_reason_code_display().lower()}"
    return (
        f"{display_name(current.reviewed_by)} saved a review of this option first ({theirs}); "
        "your change was not saved. Review theirs and save again."
    )


@transaction.atomic
def waiver_record(*, actor: User, case: Case, data: WaiverInput) -> DataWaiver:
    """Mark an unknown fact "not needed" for this case, with the reason (or change the reason).

    Readiness ignores a waived fact; the evaluation is untouched (the fact stays unknown)."""
    refuse_archived(case)
    Case.objects.select_for_update().get(pk=case.pk)
    waiver, created = DataWaiver.objects.update_or_create(
        case=case, fact=data.fact, defaults={"reason": data.reason, "waived_by": actor}
    )
    audit_record(
        actor=actor,
        action="data.waive",
        obj=case,
        payload={"fact": data.fact, "reason": data.reason, "new": created},
    )
    tasks.sheets_ahead(case)
    return waiver


@transaction.atomic
def waiver_remove(*, actor: User, case: Case, fact: str) -> None:
    """The fact is needed after all: readiness counts it again."""
    refuse_archived(case)
    Case.objects.select_for_update().get(pk=case.pk)
    waiver = DataWaiver.objects.filter(case=case, fact=fact).first()
    if waiver is None:
        raise InvalidChange(f"{fact} is not marked as not needed for {case}", ["fact"])
    reason = waiver.reason
    waiver.delete()
    audit_record(actor=actor, action="data.unwaive", obj=case, payload={"fact": fact, "reason": reason})
    tasks.sheets_ahead(case)
