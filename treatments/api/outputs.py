"""The API's answers, built from models and selector results in the shapes schemas.py documents.

Schemathesis checks in the test suite that every answer conforms to the published schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from django.contrib.auth.models import AbstractBaseUser

from treatments import selectors
from treatments.models import Case, DataWaiver, Evaluation, Meeting, Outcome, Review
from treatments.selectors import RuleSetRef


def _name(user: AbstractBaseUser) -> str:
    return user.get_username()


def case_out(case: Case, *, published: RuleSetRef | None | Literal["look up"] = "look up") -> dict[str, Any]:
    """A case with its latest evaluation (prefetched by the list selectors; `published` likewise
    comes once per list, from selectors.published_ruleset_ref())."""
    evaluation = selectors.latest_evaluation(case)
    return {
        "id": case.pk,
        "hospital_reference": case.hospital_reference,
        "nhs_number": case.nhs_number,
        "referring_clinician": case.referring_clinician,
        "question": case.question,
        "clinical_summary": case.clinical_summary,
        "profile": case.profile,
        "fact_sources": case.fact_sources,
        "status": case.status,
        "archived": case.is_archived,
        "version": case.version,
        "created_by": _name(case.created_by),
        "created_at": case.created_at,
        "updated_by": _name(case.updated_by),
        "updated_at": case.updated_at,
        "latest_evaluation": None
        if evaluation is None
        else {
            "id": evaluation.pk,
            "created_at": evaluation.created_at,
            "ruleset_version": evaluation.ruleset_version,
            "out_of_date": selectors.evaluation_staleness(evaluation, case, published=published),
        },
    }


def review_out(review: Review) -> dict[str, Any]:
    return {
        "modality": review.modality,
        "decision": review.decision,
        "reason_code": review.reason_code,
        "note": review.note,
        "version": review.version,
        "reviewed_by": _name(review.reviewed_by),
        "reviewed_at": review.reviewed_at,
    }


def evaluation_out(evaluation: Evaluation, case: Case) -> dict[str, Any]:
    answer = evaluation.answer()
    return {
        "id": evaluation.pk,
        "case": case.pk,
        "created_at": evaluation.created_at,
        "created_by": _name(evaluation.created_by),
        "ruleset": answer["ruleset"],
        "profile": evaluation.profile,
        "fact_sources": evaluation.fact_sources or {},
        "out_of_date": selectors.evaluation_staleness(evaluation, case),
        "warnings": answer["warnings"],
        "options": answer["options"],
        "reviews": [review_out(review) for review in selectors.reviews_by_modality(evaluation).values()],
    }


def outcome_out(outcome: Outcome) -> dict[str, Any]:
    return {
        "case": outcome.entry.case_id,
        "evaluation": outcome.evaluation_id,
        "chosen_modalities": outcome.chosen_modalities,
        "next_steps": outcome.next_steps,
        "plan": outcome.plan,
        "statuses": outcome.statuses,
        "concordant": outcome.concordant,
        "version": outcome.version,
        "recorded_by": _name(outcome.recorded_by),
        "recorded_at": outcome.recorded_at,
    }


def meeting_out(meeting: Meeting) -> dict[str, Any]:
    concordance = selectors.meeting_concordance(meeting)
    entries = meeting.entries.select_related("case").order_by("position", "id")
    return {
        "id": meeting.pk,
        "title": meeting.title,
        "date": meeting.date,
        "version": meeting.version,
        "created_by": _name(meeting.created_by),
        "created_at": meeting.created_at,
        "cases": [
            {"position": e.position, "case": e.case_id, "hospital_reference": e.case.hospital_reference}
            for e in entries
        ],
        "concordance": {**concordance._asdict(), "percent": concordance.percent},
    }


def to_obtain_out(items: list[Any]) -> list[dict[str, Any]]:
    return [{"fact": item.fact, "modalities": [m.key for m in item.modalities]} for item in items]


def not_needed_out(waivers: Iterable[DataWaiver]) -> list[dict[str, Any]]:
    return [
        {
            "fact": waiver.fact,
            "reason": waiver.reason,
            "waived_by": _name(waiver.waived_by),
            "waived_at": waiver.waived_at,
        }
        for waiver in waivers
    ]
