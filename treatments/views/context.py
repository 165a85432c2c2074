"""Page models: pure functions from what the selectors return to what a template shows.

No queries of their own beyond the selectors they call, and no clinical logic: statuses, reasons,
staleness and concordance come from the engine, the services and the selectors.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from django.conf import settings

from .. import selectors
from ..forms import (
    OutcomeForm,
    PatientForm,
    PatientSheetForm,
    ReviewForm,
    WhatIfForm,
    encode_profile,
    profile_initial,
    profile_query,
)
from ..models import Case, DataWaiver, Evaluation, Modality, Outcome, Review
from ..rules import explain
from ..rules.engine import EvaluationResult, Verdict
from ..rules.profile import PatientProfile
from ..rules.vocabulary import NEXT_STEP_LABELS
from ..sheet_context import facts_context as facts_context  # the case pages show facts as the sheet does
from .common import (
    field_for,
)


class SavedDifference(NamedTuple):
    """A case field whose saved value differs from what the user typed (edit conflicts)."""

    label: str
    typed: str
    saved: str


def shown(name: str, value: str) -> str:
    if name == "status":
        return str(Case.Status(value).label)
    return value or "(empty)"


class ReviewPanel(NamedTuple):
    """What the case page shows under an option: its review, and the form when the user may review."""

    review: Review | None
    form: ReviewForm | None
    conflict: str = ""
    theirs: Review | None = None  # the review someone else saved first (after a conflict)

    @property
    def open(self) -> bool:
        return bool(self.conflict or (self.form is not None and self.form.is_bound))


def review_form(key: str, review: Review | None) -> ReviewForm:
    initial: dict[str, Any] = {}
    if review is not None:
        initial = {
            "decision": review.decision,
            "reason_code": review.reason_code,
            "note": review.note,
            "version": review.version,
        }
    return ReviewForm(prefix=key, initial=initial)


def option_rows(
    result: EvaluationResult, panels: dict[str, ReviewPanel]
) -> list[tuple[str, list[tuple[Verdict, ReviewPanel | None]]]]:
    return [
        (group.status, [(verdict, panels.get(verdict.modality.key)) for verdict in group.verdicts])
        for group in explain.group_by_status(result)
    ]


def checklist(result: EvaluationResult, facts_form: PatientForm | None) -> list[dict[str, Any]]:
    return [
        {
            "fact": item.fact,
            "modalities": item.modalities,
            "anchor": facts_form.anchor(field_for(item.fact)) if facts_form is not None else "",
        }
        for item in explain.data_to_obtain(result)
    ]


class DataJobs(NamedTuple):
    """The data to obtain of a case as jobs (by test or opinion), and the facts marked not needed."""

    jobs: list[explain.TestToObtain]
    waived: list[tuple[explain.FactToObtain, DataWaiver]]
    anchors: dict[str, str]  # fact -> the id of its field on the case's edit page


def data_jobs(
    result: EvaluationResult, waivers: dict[str, DataWaiver], facts_form: PatientForm | None
) -> DataJobs:
    items = explain.data_to_obtain(result)
    anchors = {item.fact: facts_form.anchor(field_for(item.fact)) for item in items} if facts_form else {}
    return DataJobs(
        explain.data_to_obtain_by_test([item for item in items if item.fact not in waivers]),
        [(item, waivers[item.fact]) for item in items if item.fact in waivers],
        anchors,
    )


HISTORY_PAGE_SIZE = 20


class History(NamedTuple):
    """One page of a case's evaluations, newest first, each with the one made before it."""

    rows: list[tuple[Evaluation, Evaluation | None]]
    total: int
    page: int
    has_older: bool


def history_page(value: str | None) -> int:
    """`?history=N` of the case page; anything else is the first page (a link, not a form)."""
    return int(value) if value and value.isascii() and value.isdigit() and 0 < int(value) <= 100_000 else 1


def history(case: Case, page: int = 1) -> History:
    """The case page lists a page of evaluations, not all of them (security review F9)."""
    start = (page - 1) * HISTORY_PAGE_SIZE
    # Only what the list shows; one more than the page, to compare the page's oldest with it.
    found = selectors.case_evaluations(case).defer("result", "profile")
    evaluations = list(found[start : start + HISTORY_PAGE_SIZE + 1])
    shown = evaluations[:HISTORY_PAGE_SIZE]
    rows = list(zip(shown, [*evaluations[1:], None], strict=False))
    count = len(evaluations) if page == 1 and len(evaluations) <= HISTORY_PAGE_SIZE else found.count()
    return History(rows, count, page, len(evaluations) > HISTORY_PAGE_SIZE)


class WorkRow(NamedTuple):
    """A case on the worklist, with the orders its up/down buttons post and its outcome form."""

    row: selectors.WorklistRow
    up: list[int] | None
    down: list[int] | None
    form: OutcomeForm | None
    conflict: str
    chosen: list[tuple[str, str, str]]  # the recorded outcome's options: key, name, status

    @property
    def next_steps(self) -> list[str]:
        """The recorded outcome's coded next steps, in words."""
        outcome = self.row.outcome
        return [NEXT_STEP_LABELS.get(step, step) for step in outcome.next_steps] if outcome else []


def outcome_options(evaluation: Evaluation | None) -> list[tuple[str, str, str]]:
    if evaluation is None:
        return []
    return evaluation.options()


def blank_outcome_form(
    case: Case, evaluation: Evaluation | None, outcome: Outcome | None, accepted: tuple[str, ...] = ()
) -> OutcomeForm:
    """The outcome form as recorded, or, before any outcome, with the options accepted in the
    reviews already ticked (the clinicians' reviews are the draft of the decision)."""
    initial: dict[str, Any] = {"evaluation": evaluation.pk if evaluation else None}
    if outcome is not None:
        initial |= {
            "chosen_modalities": outcome.chosen_modalities,
            "next_steps": outcome.next_steps,
            "plan": outcome.plan,
            "version": outcome.version,
        }
    elif accepted:
        initial |= {"chosen_modalities": list(accepted), "next_steps": ["treatment"]}
    return OutcomeForm(prefix=f"case{case.pk}", initial=initial, options=outcome_options(evaluation))


def result_context(
    result: EvaluationResult,
    names: dict[str, str],
    *,
    form: WhatIfForm | None = None,
    changes: dict[str, Any] | None = None,
    base: PatientProfile | None = None,
) -> dict[str, Any]:
    """A check's result page. `base` is the original check a what-if started from: the what-if form
    carries it on, so each what-if is compared with the original, which "Reset" shows again."""
    profile = result.profile
    original = base if base is not None else profile
    if form is None:
        form = WhatIfForm(
            initial={**profile_initial(profile), "base": encode_profile(original)}, modality_names=names
        )
    checklist = [
        {"fact": item.fact, "modalities": item.modalities, "anchor": form.anchor(field_for(item.fact))}
        for item in explain.data_to_obtain(result)
    ]
    facts = explain.facts_by_group(profile)
    return {
        "result": result,
        "groups": explain.group_by_status(result),
        "checklist": checklist,
        "facts": facts,
        "known_count": len(profile.known_facts()),
        "fact_count": sum(len(rows) for _, _, rows in facts),
        "modality_names": names,
        "form": form,
        "changes": changes,
        "encoded_profile": encode_profile(profile),
        # The links of this result and of the original check: the facts only, never an identifier.
        "query": profile_query(profile),
        "original_query": profile_query(original) if base is not None else "",
    }


def work_rows(
    rows: list[selectors.WorklistRow],
    *,
    names: dict[str, str],
    may_record: bool,
    case_pk: int | None = None,
    posted: OutcomeForm | None = None,
    conflict: str = "",
) -> list[WorkRow]:
    """The worklist as the meeting page shows it: each case with the whole orders its up and down
    buttons post, and its outcome form (the one posted for `case_pk` after a failed save)."""
    order = [row.case.pk for row in rows]
    work = []
    for index, row in enumerate(rows):
        up = down = None
        if index > 0:
            up = order[: index - 1] + [order[index], order[index - 1]] + order[index + 1 :]
        if index < len(rows) - 1:
            down = order[:index] + [order[index + 1], order[index]] + order[index + 2 :]
        form = None
        if row.case.pk == case_pk and posted is not None:
            form = posted
        elif may_record and row.evaluation is not None and not row.case.is_archived:
            form = blank_outcome_form(row.case, row.evaluation, row.outcome, row.accepted)
        chosen = []
        if row.outcome is not None:
            chosen = [
                (key, names.get(key, key), row.outcome.statuses.get(key, ""))
                for key in row.outcome.chosen_modalities
            ]
        work.append(WorkRow(row, up, down, form, conflict if row.case.pk == case_pk else "", chosen))
    return work


# The options a patient sheet explains when none are named: those the MDT chose, else those the
# headline box lists as the options to consider now.
DISCUSSED_STATUSES = ("candidate", "trial_only")
CHOSEN = "chosen"


def patient_sheet_context(case: Case, query: Any) -> tuple[dict[str, Any], bool]:
    """What the patient options sheet shows, and whether the options asked for (`?option=`) are valid.

    Without `option` in the query: the options chosen in the case's latest outcome, else the
    candidate and trial-only options of its latest evaluation."""
    outcome = selectors.case_outcomes(case).first()
    modalities = selectors.patient_texts()
    choices = [(modality.key, modality.name) for modality in modalities]
    if "option" in query or CHOSEN in query:  # the chooser sends CHOSEN, so ticking nothing is an error
        form = PatientSheetForm(query, modalities=choices)
        valid = form.is_valid()
        keys = form.cleaned_data["option"] if valid else []
    else:
        keys = list(outcome.chosen_modalities) if outcome is not None else []
        if not keys and (evaluation := selectors.latest_evaluation(case)) is not None:
            keys = [key for key, _, status in evaluation.options() if status in DISCUSSED_STATUSES]
        form = PatientSheetForm(initial={"option": keys}, modalities=choices)
        valid = True
    options = [modality for modality in modalities if modality.key in keys]
    for option in options:
        option.patient_link = patient_page(option)  # type: ignore[attr-defined]
    context = {
        "case": case,
        "form": form,
        "outcome": outcome,
        "options": options,
        "ruleset_version": modalities[0].rule_set.version if modalities else "",
    }
    return context, valid


def patient_page(modality: Modality) -> str:
    """The unit's patient-information page about an option: the knowledge base's own address for
    it, else NETCARE_PATIENT_INFO_URL with the option's key, else "" (the sheet shows no link)."""
    if modality.patient_page_url:
        return modality.patient_page_url
    template = settings.NETCARE_PATIENT_INFO_URL
    return template.format(modality=modality.key) if template else ""


def present_options(row: selectors.WorklistRow, *, may_review: bool) -> dict[str, Any]:
    """Meeting mode: the options an MDT acts on (candidate, trial only, needs data), each with its
    review and, for clinicians, the review form; the others are only counted."""
    if row.evaluation is None:
        return {"options": [], "others": 0, "result": None}
    result = selectors.evaluation_result(row.evaluation)
    reviews = selectors.reviews_by_modality(row.evaluation)
    editable = may_review and not row.case.is_archived and not row.stale
    shown = [v for v in result.verdicts if v.status in ("candidate", "trial_only", "needs_data")]
    options = [
        (
            verdict,
            ReviewPanel(
                reviews.get(verdict.modality.key),
                review_form(verdict.modality.key, reviews.get(verdict.modality.key)) if editable else None,
            ),
        )
        for verdict in shown
    ]
    return {"options": options, "others": len(result.verdicts) - len(shown), "result": result}
