"""What leaves NETcare for other systems and for the coordinator: the pre-MDT chase list, and a
meeting's outcomes as CSV and as a FHIR R4 Bundle (for the trust's MDT system).

Built from the selectors' rows; nothing here decides anything clinical. The page and the API call
the same functions, so a CSV or a Bundle is the same whichever edge sent it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any, NamedTuple

from .models import Meeting, Outcome
from .rules import explain
from .rules.engine import ModalitySpec
from .rules.profile import fact_label
from .rules.vocabulary import DATA_SOURCE_LABELS, DATA_SOURCE_OWNERS, DATA_SOURCES, NEXT_STEP_LABELS
from .selectors import WorklistRow

# Our own code systems (FHIR CodeSystem URIs): the modality keys and next steps of the contract.
MODALITY_SYSTEM = "https://netcare.nhs.example/fhir/CodeSystem/modality"
NEXT_STEP_SYSTEM = "https://netcare.nhs.example/fhir/CodeSystem/mdt-next-step"
HOSPITAL_REFERENCE_SYSTEM = "https://netcare.nhs.example/fhir/Id/hospital-reference"
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"


class ChaseItem(NamedTuple):
    """One case's part of one job: the facts to get and the options they decide."""

    row: WorklistRow
    facts: tuple[explain.FactToObtain, ...]
    modalities: tuple[ModalitySpec, ...]


class ChaseJob(NamedTuple):
    """One test or opinion to chase across the meeting's cases."""

    source: str
    label: str
    owner: str
    items: tuple[ChaseItem, ...]


def chase_list(rows: Iterable[WorklistRow]) -> list[ChaseJob]:
    """The coordinator's pre-MDT chase list: for each test or opinion, the cases waiting for it
    (in the meeting's order). Facts marked not needed are not chased. Jobs with most cases first."""
    found: dict[str, list[ChaseItem]] = {}
    for row in rows:
        for job in row.tests:
            found.setdefault(job.source, []).append(ChaseItem(row, job.facts, job.modalities))
    rank: dict[str, int] = {source: index for index, source in enumerate(DATA_SOURCES)}
    jobs = [
        ChaseJob(source, DATA_SOURCE_LABELS[source], DATA_SOURCE_OWNERS[source], tuple(items))  # type: ignore[index]
        for source, items in found.items()
    ]
    return sorted(jobs, key=lambda job: (-len(job.items), rank[job.source]))


def _csv(header: list[str], rows: Iterable[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()


def _cell(value: Any) -> Any:
    # A cell a spreadsheet would run as a formula is written as text (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def chase_csv(jobs: list[ChaseJob]) -> str:
    """The chase list, one line per case and test."""
    return _csv(
        ["test", "owner", "position", "hospital_reference", "facts", "options_decided"],
        (
            [
                job.label,
                job.owner,
                item.row.entry.position,
                item.row.case.hospital_reference,
                "; ".join(fact_label(fact.fact) for fact in item.facts),
                "; ".join(modality.name for modality in item.modalities),
            ]
            for job in jobs
            for item in job.items
        ),
    )


def outcomes_csv(outcomes: list[Outcome], names: dict[str, str]) -> str:
    """A meeting's outcomes, one line per case, in the list's order."""
    return _csv(
        [
            "meeting_date",
            "position",
            "hospital_reference",
            "nhs_number",
            "options_chosen",
            "option_keys",
            "statuses",
            "next_steps",
            "concordant",
            "plan",
            "recorded_by",
            "recorded_at",
        ],
        (
            [
                outcome.entry.meeting.date.isoformat(),
                outcome.entry.position,
                outcome.entry.case.hospital_reference,
                outcome.entry.case.nhs_number,
                "; ".join(names.get(key, key) for key in outcome.chosen_modalities),
                " ".join(outcome.chosen_modalities),
                " ".join(f"{key}={outcome.statuses.get(key, '')}" for key in outcome.chosen_modalities),
                "; ".join(NEXT_STEP_LABELS.get(step, step) for step in outcome.next_steps),  # type: ignore[call-overload]
                "" if outcome.concordant is None else ("yes" if outcome.concordant else "no"),
                outcome.plan,
                outcome.recorded_by.get_full_name() or outcome.recorded_by.username,
                outcome.recorded_at.isoformat(),
            ]
            for outcome in outcomes
        ),
    )


def outcomes_bundle(meeting: Meeting, outcomes: list[Outcome], names: dict[str, str]) -> dict[str, Any]:
    """A meeting's outcomes as a FHIR R4 Bundle (type collection) of CarePlan resources, one per case:
    the patient by NHS number and hospital reference, the options chosen and the coded next steps as
    activities, the plan as the description."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": meeting.created_at.isoformat(),
        "entry": [
            {"fullUrl": f"urn:netcare:outcome:{outcome.pk}", "resource": _care_plan(meeting, outcome, names)}
            for outcome in outcomes
        ],
    }


def _care_plan(meeting: Meeting, outcome: Outcome, names: dict[str, str]) -> dict[str, Any]:
    case = outcome.entry.case
    identifiers = [{"system": HOSPITAL_REFERENCE_SYSTEM, "value": case.hospital_reference}]
    if case.nhs_number:
        identifiers.insert(0, {"system": NHS_NUMBER_SYSTEM, "value": case.nhs_number})
    activities = [
        _activity(
            MODALITY_SYSTEM,
            key,
            names.get(key, key),
            f"status in the evaluation: {outcome.statuses.get(key)}",
        )
        for key in outcome.chosen_modalities
    ] + [
        _activity(NEXT_STEP_SYSTEM, step, NEXT_STEP_LABELS.get(step, step), "")  # type: ignore[call-overload]
        for step in outcome.next_steps
    ]
    plan: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": f"netcare-outcome-{outcome.pk}",
        "status": "active",
        "intent": "plan",
        "category": [{"text": "Neuroendocrine tumour MDT outcome"}],
        "title": f"MDT outcome, {meeting.title}, {meeting.date.isoformat()}",
        "description": outcome.plan,
        "subject": {"identifier": identifiers[0], "display": f"Case {case.hospital_reference}"},
        "created": outcome.recorded_at.isoformat(),
        "author": {"display": outcome.recorded_by.get_full_name() or outcome.recorded_by.username},
        "identifier": [{"system": "urn:netcare:outcome", "value": str(outcome.pk)}],
        "activity": activities,
    }
    if outcome.concordant is not None:
        plan["note"] = [
            {
                "text": "Concordant with the rules: every option chosen was a candidate or trial only."
                if outcome.concordant
                else "Not concordant: an option chosen was neither a candidate nor trial only."
            }
        ]
    return plan


def _activity(system: str, code: str, display: str, note: str) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "kind": "ServiceRequest",
        "code": {"coding": [{"system": system, "code": code, "display": display}], "text": display},
        "status": "not-started",
    }
    if note:
        detail["description"] = note
    return {"detail": detail}
