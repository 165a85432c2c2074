"""Reads for rule governance: a draft's review state, its latest evidence, the diff of two versions,
and the impact of a draft on the stored cases (docs/rule-governance.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db.models import Min

from ..models import Case, GoldenRun, ImpactReport, MeetingCase, Outcome, Review, RuleSet, RuleSetReview
from ..rules.content import checksum_of, compile_content
from ..rules.diff import RuleSetDiff, ruleset_diff
from ..rules.engine import CompiledRuleSet, EvaluationResult
from ..rules.golden import evaluate_case
from ..rules.profile import PatientProfile
from ..rules.results import Verdict

REVIEW_STATES = ("editing", "in_review", "changes_requested", "approved")


def ruleset_get(version: str) -> RuleSet | None:
    return RuleSet.objects.filter(version=version).select_related("created_by", "based_on").first()


def ruleset_list() -> list[RuleSet]:
    return list(RuleSet.objects.select_related("created_by", "published_by").order_by("-created_at", "-id"))


def min_approvals(rule_set: RuleSet) -> int:
    """NETCARE_RULESET_MIN_APPROVALS, and at least two for a major bump."""
    base = int(settings.NETCARE_RULESET_MIN_APPROVALS)
    return max(base, 2) if rule_set.required_bump == "major" and rule_set.restores_id is None else base


def current_reviews(rule_set: RuleSet) -> list[RuleSetReview]:
    return list(rule_set.reviews.filter(checksum=rule_set.checksum).select_related("reviewer"))


def valid_approvals(rule_set: RuleSet, reviews: list[RuleSetReview] | None = None) -> list[RuleSetReview]:
    """Approvals of the current checksum by non-authors that no later request for changes undid."""
    reviews = current_reviews(rule_set) if reviews is None else reviews
    authors = set(rule_set.authors.values_list("pk", flat=True))
    last_request = max((r.pk for r in reviews if r.kind == RuleSetReview.Kind.REQUEST_CHANGES), default=0)
    return [
        review
        for review in reviews
        if review.kind == RuleSetReview.Kind.APPROVE
        and review.reviewer_id not in authors
        and review.pk > last_request
    ]


def review_state(rule_set: RuleSet) -> str:
    """Derived, never stored: editing, in_review, changes_requested or approved (current checksum)."""
    if rule_set.status != RuleSet.Status.DRAFT:
        return rule_set.status
    reviews = current_reviews(rule_set)
    if not reviews:
        return "editing"
    decisive = [r for r in reviews if r.kind != RuleSetReview.Kind.COMMENT]
    if decisive and decisive[-1].kind == RuleSetReview.Kind.REQUEST_CHANGES:
        return "changes_requested"
    if len(valid_approvals(rule_set, reviews)) >= min_approvals(rule_set):
        return "approved"
    return "in_review"


def latest_golden_run(rule_set: RuleSet) -> GoldenRun | None:
    return rule_set.golden_runs.filter(checksum=rule_set.checksum).order_by("-run_at", "-id").first()


def latest_impact_report(rule_set: RuleSet) -> ImpactReport | None:
    return (
        rule_set.impact_reports.filter(draft_checksum=rule_set.checksum)
        .select_related("baseline", "acknowledged_by")
        .order_by("-generated_at", "-id")
        .first()
    )


def versions_diff(a: RuleSet, b: RuleSet) -> RuleSetDiff:
    """The one diff the API, the page and the command line show."""
    return ruleset_diff(a.content, b.content)


# --- impact ---------------------------------------------------------------------------------------


def pseudonym(case_id: int) -> str:
    """A stable pseudonym of a case for readers who may not see cases (HMAC with the server secret)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"case:{case_id}".encode(), hashlib.sha256).hexdigest()
    return f"C-{digest[:6]}"


def _scoped(scope: str) -> Any:
    cases = Case.objects.all()
    if scope == "active":
        cases = cases.filter(archived_at__isnull=True)
    elif scope.startswith("meeting:"):
        cases = cases.filter(meeting_entries__meeting_id=int(scope.split(":", 1)[1]))
    return cases


def scope_cases(scope: str) -> Iterable[tuple[int, dict[str, Any]]]:
    """(id, profile) of the cases in scope, by id: `active`, `all`, or `meeting:<id>`."""
    return _scoped(scope).order_by("id").values_list("id", "profile").iterator(chunk_size=2000)


def scope_count(scope: str) -> int:
    return int(_scoped(scope).count())


@dataclass(frozen=True)
class _Compared:
    case_id: int
    changes: list[dict[str, Any]]


def compare_results(before: EvaluationResult, after: EvaluationResult) -> list[dict[str, Any]]:
    """Per modality whose status, missing facts or cautions differ: what changed and why."""
    changes = []
    old = {v.modality.key: v for v in before.verdicts}
    matched = 0
    for verdict in after.verdicts:
        was = old.get(verdict.modality.key)
        if was is not None:
            matched += 1
            if _unchanged(was, verdict):  # nearly every option of nearly every case: no dicts built
                continue
        changes.append(_change(was, verdict))
    if matched < len(old):
        kept = {v.modality.key for v in after.verdicts}
        changes += [
            {"modality": key, "from": old[key].status, "to": None, "deciding_rules": [], "facts": {}}
            for key in old
            if key not in kept
        ]
    return changes


def _unchanged(was: Verdict, now: Verdict) -> bool:
    """The same status, missing facts (as a set) and cautions (by rule id) under both rule sets."""
    if was.status != now.status:
        return False
    if was.missing_facts != now.missing_facts and set(was.missing_facts) != set(now.missing_facts):
        return False
    if not was.cautions and not now.cautions:
        return True
    return {c.rule.rule_id for c in was.cautions} == {c.rule.rule_id for c in now.cautions}


def _change(was: Verdict | None, verdict: Verdict) -> dict[str, Any]:
    status_from = was.status if was else None
    missing_from = set(was.missing_facts) if was else set()
    cautions_from = {c.rule.rule_id for c in was.cautions} if was else set()
    cautions_to = {c.rule.rule_id for c in verdict.cautions}
    deciding = [reason.rule.rule_id for reason in verdict.deciding_reasons]
    facts = {
        name: verdict.facts.get(name) for reason in verdict.deciding_reasons for name in reason.rule.facts
    }
    change: dict[str, Any] = {
        "modality": verdict.modality.key,
        "from": status_from,
        "to": verdict.status,
        "deciding_rules": deciding,
        "facts": {name: value for name, value in sorted(facts.items()) if value is not None},
    }
    if missing_from != set(verdict.missing_facts):
        change["missing_facts"] = {"from": sorted(missing_from), "to": sorted(verdict.missing_facts)}
    if cautions_from != cautions_to:
        change["cautions"] = {
            "added": sorted(cautions_to - cautions_from),
            "removed": sorted(cautions_from - cautions_to),
        }
    return change


_COMPILED: dict[str, CompiledRuleSet] = {}


def compiled_content(content: dict[str, Any]) -> CompiledRuleSet:
    """The content compiled, kept by its checksum for the next report on the same versions (an
    author remakes the report of a draft against the same version in force). Stored content never
    changes under a checksum, so a kept one is never stale; a few are kept, the newest."""
    checksum = checksum_of(content)
    compiled = _COMPILED.get(checksum)
    if compiled is None:
        compiled = compile_content(content)
        if len(_COMPILED) >= 4:
            del _COMPILED[next(iter(_COMPILED))]
        _COMPILED[checksum] = compiled
    return compiled


def impact_of(draft_content: dict[str, Any], baseline_content: dict[str, Any], scope: str) -> dict[str, Any]:
    """The impact report's body: evaluate every case in scope with both rule sets and compare.

    Deterministic (cases by id, sorted keys): the same draft, baseline and case data give the same
    report and so the same hash.
    """
    draft, baseline = compiled_content(draft_content), compiled_content(baseline_content)
    evaluated, invalid, compared = 0, [], []
    for case_id, profile_data in scope_cases(scope):
        evaluated += 1
        try:
            profile = PatientProfile.model_validate(profile_data)
        except ValueError as exc:  # a profile the contract no longer accepts: listed, never skipped
            invalid.append({"case": pseudonym(case_id), "case_id": case_id, "error": str(exc)[:300]})
            continue
        changes = compare_results(baseline.evaluate(profile), draft.evaluate(profile))
        if changes:
            compared.append(_Compared(case_id, changes))
    cases = _flag_cases(compared)
    transitions = Counter(
        (change["modality"], change["from"], change["to"])
        for case in compared
        for change in case.changes
        if change["from"] != change["to"]
    )
    return {
        "baseline": baseline_content.get("version"),
        "draft": draft_content.get("version"),
        "scope": scope,
        "cases_evaluated": evaluated,
        "cases_changed": len(cases),
        "status_changes": sum(1 for case in cases if any(c["from"] != c["to"] for c in case["changes"])),
        "invalid": invalid,
        "transitions": [
            {"modality": modality, "from": was, "to": now, "count": count}
            for (modality, was, now), count in sorted(
                transitions.items(), key=lambda item: (item[0][0], str(item[0][1]), str(item[0][2]))
            )
        ],
        "cases": cases,
        "golden": _golden_drift(draft, baseline, draft_content, baseline_content),
    }


def _flag_cases(compared: list[_Compared]) -> list[dict[str, Any]]:
    """The changed cases with the flags that matter clinically, in a fixed number of queries."""
    ids = [case.case_id for case in compared]
    upcoming = dict(
        MeetingCase.objects.filter(case_id__in=ids, meeting__date__gte=date.today())
        .values("case_id")
        .annotate(first=Min("meeting__date"))
        .values_list("case_id", "first")
    )
    latest: dict[int, int] = {}
    for case_id, evaluation_id in (
        Case.objects.filter(pk__in=ids).order_by().values_list("pk", "evaluations__pk")
    ):
        if evaluation_id is not None and evaluation_id > latest.get(case_id, 0):
            latest[case_id] = evaluation_id
    reviewed: dict[int, set[str]] = {}
    for case_id, modality in Review.objects.filter(evaluation_id__in=latest.values()).values_list(
        "evaluation__case_id", "modality"
    ):
        reviewed.setdefault(case_id, set()).add(modality)
    chosen: dict[int, set[str]] = {}
    for case_id, modalities in Outcome.objects.filter(entry__case_id__in=ids).values_list(
        "entry__case_id", "chosen_modalities"
    ):
        chosen.setdefault(case_id, set()).update(modalities or [])
    cases = []
    for case in compared:
        status_changed = {c["modality"] for c in case.changes if c["from"] != c["to"]}
        meeting = upcoming.get(case.case_id)
        cases.append(
            {
                "case": pseudonym(case.case_id),
                "case_id": case.case_id,
                "upcoming_meeting": meeting.isoformat() if meeting else None,
                "changes": case.changes,
                "last_reviewed_option_affected": bool(reviewed.get(case.case_id, set()) & status_changed),
                "concordance_affected": bool(chosen.get(case.case_id, set()) & status_changed),
            }
        )
    return cases


def _golden_drift(
    draft: CompiledRuleSet,
    baseline: CompiledRuleSet,
    draft_content: dict[str, Any],
    baseline_content: dict[str, Any],
) -> dict[str, Any]:
    """The golden cases of both versions evaluated with both: how many change status."""
    cases = {
        case["id"]: case for case in (*baseline_content.get("tests", ()), *draft_content.get("tests", ()))
    }
    changed = []
    for case_id, case in sorted(cases.items()):
        before, after = evaluate_case(baseline, case), evaluate_case(draft, case)
        if isinstance(before, str) or isinstance(after, str):
            continue
        statuses = [
            {"modality": key, "from": was, "to": after.statuses().get(key)}
            for key, was in before.statuses().items()
            if after.statuses().get(key) != was
        ]
        if statuses:
            changed.append({"case": case_id, "changes": statuses})
    return {"changed_vs_baseline": len(changed), "cases": changed}


def report_hash(body: dict[str, Any], draft_checksum: str, baseline_checksum: str) -> str:
    canonical = json.dumps(
        {"draft": draft_checksum, "baseline": baseline_checksum, "report": body}, sort_keys=True, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


IDENTIFYING_KEYS = ("case_id",)


def impact_for_reader(changes: dict[str, Any], identified: bool) -> dict[str, Any]:
    """The report as a reader may see it: without case ids for those who may not see cases."""
    if identified:
        return changes
    strip = lambda items: [{k: v for k, v in item.items() if k not in IDENTIFYING_KEYS} for item in items]  # noqa: E731
    return {**changes, "cases": strip(changes.get("cases", [])), "invalid": strip(changes.get("invalid", []))}


def impact_on_case(case_id: int, evaluation: Any, names: dict[str, str]) -> list[str]:
    """How the publication since `evaluation` changed this case's options, from the impact report
    the publisher acknowledged (the report is the worklist after publication). Empty when the
    evaluation used the version in force, or no report covers this case."""
    published = RuleSet.objects.published().values_list("pk", "version", "checksum").first()
    if published is None or published[0] == evaluation.rule_set_id:
        return []
    report = (
        ImpactReport.objects.filter(
            draft_id=published[0], draft_checksum=published[2], baseline_id=evaluation.rule_set_id
        )
        .order_by("-acknowledged_at", "-id")
        .first()
    )
    if report is None:
        return []
    entry = next((case for case in report.changes.get("cases", []) if case.get("case_id") == case_id), None)
    if entry is None:
        return []
    words = lambda status: str(status).replace("_", " ")  # noqa: E731
    return [
        f"rule set {published[1]} changes {names.get(change['modality'], change['modality'])} "
        f"for this patient: {words(change['from'])} → {words(change['to'])}"
        for change in entry["changes"]
        if change["from"] != change["to"]
    ]


def published_statuses(profile: PatientProfile) -> list[tuple[str, str, str]]:
    """(key, name, status) of every option for a profile under the version in force, in the
    knowledge base's order: what an author confirms to make a golden case."""
    from .ruleset import published_ruleset

    compiled = published_ruleset()
    statuses = compiled.evaluate(profile).statuses()
    return [(m.key, m.name, statuses[m.key]) for m in compiled.modalities]
