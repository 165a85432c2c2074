"""What the MDT case sheet shows: one document for the pages, the API and the task queue.

The case sheet's HTML is the key of its cached PDF (sheets.py), so pages, API clients and the
background task that makes sheets ahead must build it from the same context: it lives here, outside
both edges, rather than in views/. No queries of its own beyond the selectors it calls, and no
clinical logic: statuses, reasons and staleness come from the engine, the services and the selectors.
"""

from __future__ import annotations

from typing import Any

from . import selectors
from .models import Case, Meeting, Outcome
from .rules import explain
from .rules.profile import PatientProfile
from .selectors import governance


def facts_context(profile: PatientProfile, sources: dict[str, Any] | None = None) -> dict[str, Any]:
    """The facts by group, with where each came from (`fact_sources`: the case's, or the
    evaluation's as frozen with it) for the source and date shown next to each fact."""
    facts = explain.facts_by_group(profile)
    return {
        "facts": facts,
        "fact_sources": sources or {},
        "known_count": len(profile.known_facts()),
        "fact_count": sum(len(rows) for _, _, rows in facts),
        # The case sheet lists the known facts by group and names the unknown ones in one line.
        "known_facts": [
            (key, label, known)
            for key, label, rows in facts
            if (known := [r for r in rows if r[1] is not None])
        ],
        "unknown_facts": [name for _, _, rows in facts for name, value in rows if value is None],
    }


def summary_context(
    case: Case, *, outcome: Outcome | None, meeting: Meeting | None = None, appendix: bool = False
) -> dict[str, Any]:
    """What a case sheet shows: the case, its latest evaluation (key facts, the options to consider
    now, data to obtain, reviews), whether it is out of date, and the MDT outcome (or blank lines);
    with `appendix`, every option with the rules that decided it."""
    evaluation = selectors.latest_evaluation(case)
    names = selectors.modality_names()
    context: dict[str, Any] = {
        "case": case,
        "evaluation": evaluation,
        "outcome": outcome,
        "meeting": meeting,
        "modality_names": names,
        "appendix": appendix,
    }
    if evaluation is None:
        context.update(facts_context(case.facts, case.fact_sources))
        return context
    result = selectors.evaluation_result(evaluation)
    reviews = selectors.reviews_by_modality(evaluation)
    statuses = result.statuses()
    outcome_rows = []
    if outcome is not None:
        outcome_rows = [
            (key, names.get(key, key), outcome.statuses.get(key, statuses.get(key, "")))
            for key in outcome.chosen_modalities
        ]
    context.update(
        {
            "result": result,
            "groups": [group for group in explain.group_by_status(result)],
            "checklist": explain.data_to_obtain(result),
            "stale": selectors.evaluation_staleness(evaluation, case)
            + governance.impact_on_case(case.pk, evaluation, names),
            "changed_facts": explain.changed_facts(result.profile, case.facts),
            "reviews": [
                (verdict, reviews[verdict.modality.key])
                for verdict in result.verdicts
                if verdict.modality.key in reviews
            ],
            "outcome_rows": outcome_rows,
            # The sheet names a source only for facts from the record (FHIR): a line under every
            # typed fact would double the facts' height and push the sheet past two pages.
            **facts_context(result.profile, imported_sources(evaluation.fact_sources)),
        }
    )
    return context


def imported_sources(sources: dict[str, Any] | None) -> dict[str, Any]:
    """The fact sources that came from the record, not typed in NETcare."""
    return {fact: source for fact, source in (sources or {}).items() if source.get("level") != "manual"}
