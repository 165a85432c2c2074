"""Rule governance: drafts of the knowledge base, their review by a second person, their golden runs
and impact reports, and publication through six gates (docs/rule-governance.md).

A draft comes from the YAML file (`load_knowledge_base`), from an upload (API), or from a clone of the
version in force. Each revision replaces its content and so its checksum, which voids the reviews,
golden runs and impact reports made for the old checksum (they stay, bound to it). Nobody approves
or publishes a draft they authored.
"""

from __future__ import annotations

import importlib.metadata
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from pydantic import ValidationError as PydanticValidationError

from .. import roles
from ..models import GoldenRun, ImpactReport, RuleSet, RuleSetReview
from ..rules.content import checksum_of, compile_content
from ..rules.diff import BUMPS, bump_for_status_change, larger_bump, ruleset_diff
from ..rules.document import KnowledgeBase
from ..rules.golden import profile_problems, run_golden
from ..rules.schema import GoldenCaseDoc
from ..selectors import governance as selectors
from .audit import Actor, audit_record, display_name
from .errors import GatesFailed, InvalidChange, NotADraft, NotAllowed, StaleChecksum, VersionTaken
from .knowledge import activate, store_content

SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")


def _user(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) else None


def _taken(version: str) -> VersionTaken | None:
    existing = RuleSet.objects.filter(version=version).select_related("created_by").first()
    if existing is None:
        return None
    if existing.status == RuleSet.Status.DRAFT:
        who = f" by {display_name(existing.created_by)}" if existing.created_by else ""
        return VersionTaken(
            f"version {version} is already a draft{who}: revise that draft, have it withdrawn, "
            "or give this one another version"
        )
    return VersionTaken(f"version {version} is already {existing.status}: choose a higher version")


@transaction.atomic
def ruleset_draft_create(*, knowledge_base: KnowledgeBase, actor: Actor, change_note: str = "") -> RuleSet:
    """A new draft from a validated knowledge base (the YAML file or an upload)."""
    return _new_draft(
        version=knowledge_base.version,
        title=knowledge_base.title,
        notes=knowledge_base.notes,
        content=knowledge_base.content,
        actor=actor,
        change_note=change_note,
        source="upload",
    )


@transaction.atomic
def ruleset_draft_clone(*, actor: Actor, version: str = "", change_note: str = "") -> RuleSet:
    """A new draft with the content of the version in force, to be edited in the app.

    Its version label is `version`, or the next patch of the one in force.
    """
    current = RuleSet.objects.published().first()
    if current is None:
        raise VersionTaken("no rule set is published yet: load the knowledge base first")
    version = version or next_patch(current.version)
    content = {**current.content, "version": version}
    return _new_draft(
        version=version,
        title=current.title,
        notes=current.notes,
        content=content,
        actor=actor,
        change_note=change_note,
        source=f"clone of {current.version}",
    )


def _new_draft(
    *,
    version: str,
    title: str,
    notes: str,
    content: dict[str, Any],
    actor: Actor,
    change_note: str,
    source: str,
    authored: bool = True,
    restores: RuleSet | None = None,
) -> RuleSet:
    taken = _taken(version)
    if taken is not None:
        raise taken
    based_on = RuleSet.objects.published().first()
    try:
        with transaction.atomic():
            draft = RuleSet.objects.create(
                version=version,
                title=title,
                notes=notes,
                checksum=checksum_of(content),
                content=content,
                created_by=_user(actor),
                based_on=based_on,
                change_note=change_note,
                restores=restores,
            )
    except IntegrityError:  # another request took the label between the check and the insert
        raise VersionTaken(f"version {version} was taken at the same time: choose another") from None
    store_content(draft, content)
    user = _user(actor)
    if user is not None and authored:
        draft.authors.add(user)
    draft.required_bump = _required_bump(draft)
    draft.save(update_fields=["required_bump"])
    audit_record(
        actor=actor,
        action="ruleset.draft",
        obj=draft,
        payload={"version": version, "checksum": draft.checksum, "source": source, "revision": 1},
    )
    return draft


def _locked_draft(draft: RuleSet) -> RuleSet:
    locked = RuleSet.objects.select_for_update().get(pk=draft.pk)
    if locked.status != RuleSet.Status.DRAFT:
        raise NotADraft(locked)
    return locked


@transaction.atomic
def ruleset_draft_revise(
    *, draft: RuleSet, knowledge_base: KnowledgeBase, actor: Actor, change_note: str | None = None
) -> RuleSet:
    """Replace a draft's content (and its change note, if given). A new checksum voids the reviews,
    golden runs and impact reports made for the old one; the reviser becomes one of its authors."""
    draft = _locked_draft(draft)
    if knowledge_base.version != draft.version:
        raise VersionTaken(
            f"the document's version is {knowledge_base.version}, the draft's {draft.version}: "
            "a revision keeps the draft's version (make a new draft for another)"
        )
    changed = knowledge_base.checksum != draft.checksum
    if changed:
        draft.modalities.all().delete()  # the rules go with their modality
        draft.content = knowledge_base.content
        draft.checksum = knowledge_base.checksum
        draft.title, draft.notes = knowledge_base.title, knowledge_base.notes
        store_content(draft, knowledge_base.content)
    if change_note is not None:
        draft.change_note = change_note
    draft.required_bump = _required_bump(draft)
    draft.save()
    user = _user(actor)
    if user is not None:
        draft.authors.add(user)
    audit_record(
        actor=actor,
        action="ruleset.draft",
        obj=draft,
        payload={
            "version": draft.version,
            "checksum": draft.checksum,
            "revision": "revise",
            "changed": changed,
        },
    )
    return draft


@transaction.atomic
def ruleset_draft_set_content(
    *, draft: RuleSet, content: dict[str, Any], actor: Actor, detail: dict[str, Any] | None = None
) -> RuleSet:
    """Replace a draft's content with content the caller built (the in-app editor, a new golden case).

    The content must already be valid (the loader's normal form); the version stays the draft's.
    `detail` goes into the audit event (e.g. which rule the editor changed, and which fields).
    """
    draft = _locked_draft(draft)
    content = {**content, "version": draft.version}
    checksum = checksum_of(content)
    if checksum != draft.checksum:
        draft.modalities.all().delete()
        draft.content, draft.checksum = content, checksum
        store_content(draft, content)
    draft.required_bump = _required_bump(draft)
    draft.save()
    user = _user(actor)
    if user is not None:
        draft.authors.add(user)
    audit_record(
        actor=actor,
        action="ruleset.draft",
        obj=draft,
        payload={"version": draft.version, "checksum": draft.checksum, "revision": "edit", **(detail or {})},
    )
    return draft


@transaction.atomic
def ruleset_withdraw(*, draft: RuleSet, actor: Actor) -> None:
    """Delete a never-published draft (with its reviews, golden runs and impact reports): its
    version label is free again. Only its authors and clinical safety officers withdraw a draft."""
    draft = _locked_draft(draft)
    user = _user(actor)
    if user is not None and not _may_withdraw(user, draft):
        raise NotAllowed("only an author of this draft or a clinical safety officer may withdraw it")
    audit_record(
        actor=actor,
        action="ruleset.withdraw",
        obj=draft,
        payload={"version": draft.version, "checksum": draft.checksum},
    )
    draft.delete()


def _may_withdraw(user: User, draft: RuleSet) -> bool:
    return (
        draft.created_by_id == user.pk
        or draft.authors.filter(pk=user.pk).exists()
        or roles.can(user, "publish_ruleset")
    )


def _required_bump(draft: RuleSet) -> str:
    """The least version step the draft's changes need, from the diff with its baseline (the impact
    report adds the status part at publication)."""
    if draft.based_on is None:
        return ""
    return ruleset_diff(draft.based_on.content, draft.content).required_bump


def semver(version: str) -> tuple[int, int, int] | None:
    match = SEMVER.match(version)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def next_patch(version: str) -> str:
    parts = semver(version)
    if parts is None:
        return f"{version}.1"
    major, minor, patch = parts
    candidate = f"{major}.{minor}.{patch + 1}"
    while RuleSet.objects.filter(version=candidate).exists():
        patch += 1
        candidate = f"{major}.{minor}.{patch + 1}"
    return candidate


# --- evidence: golden runs, reviews, impact reports -----------------------------------------------


def engine_version() -> str:
    """What ran the golden cases: the installed NETcare version (and git sha when known)."""
    sha = getattr(settings, "NETCARE_GIT_SHA", "") or ""
    try:
        version = importlib.metadata.version("netcare")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return f"{version}+{sha}" if sha else version


@transaction.atomic
def ruleset_golden_run(*, rule_set: RuleSet, actor: Actor) -> GoldenRun:
    """Run a version's own golden cases against its own rules and keep the result (append-only)."""
    result = run_golden(compile_content(rule_set.content), rule_set.tests)
    run = GoldenRun.objects.create(
        rule_set=rule_set,
        checksum=rule_set.checksum,
        passed=result.passed,
        results=result.as_data(),
        engine_version=engine_version(),
        run_by=_user(actor),
    )
    audit_record(
        actor=actor,
        action="ruleset.golden_run",
        obj=rule_set,
        payload={
            "version": rule_set.version,
            "checksum": rule_set.checksum,
            "golden_run": run.pk,
            "passed": run.passed,
            "failed": [case.id for case in result.failed],
        },
    )
    return run


@transaction.atomic
def ruleset_review(
    *,
    draft: RuleSet,
    actor: User,
    kind: str,
    checksum: str,
    summary: str = "",
    comments: list[dict[str, Any]] | None = None,
) -> RuleSetReview:
    """A comment, approval or request for changes on the draft's current checksum.

    An author of the draft may comment but never approve or request changes of their own work.
    """
    draft = _locked_draft(draft)
    if checksum != draft.checksum:
        raise StaleChecksum(draft.checksum)
    if kind != RuleSetReview.Kind.COMMENT and draft.authors.filter(pk=actor.pk).exists():
        raise NotAllowed("you are an author of this draft: a second person must review it")
    review = RuleSetReview.objects.create(
        rule_set=draft, checksum=checksum, reviewer=actor, kind=kind, summary=summary, comments=comments or []
    )
    action = {"comment": "ruleset.review", "approve": "ruleset.approve"}.get(kind, "ruleset.request_changes")
    audit_record(
        actor=actor,
        action=action,
        obj=draft,
        payload={"version": draft.version, "checksum": checksum, "review": review.pk},
    )
    return review


@transaction.atomic
def ruleset_impact(
    *, draft: RuleSet, actor: Actor, scope: str = "active", limit: int | None = None
) -> ImpactReport:
    """The impact of publishing the draft on the stored cases in scope, against the version in force.

    `limit` (the pages and the API pass NETCARE_IMPACT_MAX_CASES) refuses a scope too large to
    answer within a request: `manage.py ruleset_impact` runs the same function without it.
    """
    baseline = RuleSet.objects.published().first()
    if baseline is None:
        raise VersionTaken("no rule set is published yet: there is nothing to compare the draft with")
    if limit is not None and selectors.scope_count(scope) > limit:
        raise InvalidChange(
            f"more than {limit:,} cases in scope {scope}: run `manage.py ruleset_impact {draft.version}`",
            ["scope"],
        )
    body = selectors.impact_of(draft.content, baseline.content, scope)
    report = ImpactReport.objects.create(
        draft=draft,
        draft_checksum=draft.checksum,
        baseline=baseline,
        baseline_checksum=baseline.checksum,
        scope=scope,
        summary={key: body[key] for key in ("cases_evaluated", "cases_changed", "status_changes")}
        | {"invalid": len(body["invalid"]), "golden_changed": body["golden"]["changed_vs_baseline"]},
        changes=body,
        report_hash=selectors.report_hash(body, draft.checksum, baseline.checksum),
        generated_by=_user(actor),
    )
    audit_record(
        actor=actor,
        action="ruleset.impact",
        obj=draft,
        payload={
            "version": draft.version,
            "checksum": draft.checksum,
            "impact_report": report.pk,
            "baseline": baseline.version,
            "scope": scope,
            "report_hash": report.report_hash,
        },
    )
    return report


@transaction.atomic
def ruleset_impact_acknowledge(*, report: ImpactReport, actor: User) -> ImpactReport:
    """The publisher says they have read the impact report (gate 4 needs their acknowledgement)."""
    report = ImpactReport.objects.select_for_update().select_related("draft").get(pk=report.pk)
    if report.acknowledged_by_id is not None:
        if report.acknowledged_by_id == actor.pk:
            return report
        raise NotAllowed(f"the report was already acknowledged by {display_name(report.acknowledged_by)}")
    if report.draft.authors.filter(pk=actor.pk).exists():
        raise NotAllowed("you are an author of this draft: you may not publish it, so not acknowledge for it")
    report.acknowledged_by = actor
    report.acknowledged_at = timezone.now()
    report.save()
    audit_record(
        actor=actor,
        action="ruleset.impact_acknowledge",
        obj=report.draft,
        payload={
            "version": report.draft.version,
            "impact_report": report.pk,
            "report_hash": report.report_hash,
        },
    )
    return report


# --- the gates and publication ---------------------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    gate: str
    ok: bool
    why: str = ""
    evidence: int | None = None  # the id of the review, golden run or impact report that passed it


GATE_NAMES = ("status", "approval", "golden", "impact", "version", "verification")


def publish_refusal(draft: RuleSet, actor: User) -> str:
    """Why this user may not publish this draft at all ("" if they may): a 403, before the gates."""
    if not roles.can(actor, "publish_ruleset"):
        return "only a clinical safety officer may publish a rule set"
    if draft.authors.filter(pk=actor.pk).exists():
        return "you are an author of this draft: someone else must publish it"
    return ""


def ruleset_gates(
    draft: RuleSet, actor: User | None, *, checksum: str | None = None, impact_report: int | None = None
) -> list[Gate]:
    """The six gates of publication, each with whether it passes now and why not (read only)."""
    current = RuleSet.objects.published().first()
    return [
        _status_gate(draft, checksum),
        _approval_gate(draft, actor),
        _golden_gate(draft, current),
        _impact_gate(draft, actor, current, impact_report),
        _version_gate(draft, current),
        _verification_gate(draft, current),
    ]


def _status_gate(draft: RuleSet, checksum: str | None) -> Gate:
    if draft.status != RuleSet.Status.DRAFT:
        return Gate("status", False, f"{draft.version} is {draft.status}, not a draft")
    if checksum is not None and checksum != draft.checksum:
        return Gate(
            "status", False, f"the draft was revised since you read it (checksum now {draft.checksum[:12]})"
        )
    return Gate("status", True)


def _approval_gate(draft: RuleSet, actor: User | None) -> Gate:
    approvals = [a for a in selectors.valid_approvals(draft) if actor is None or a.reviewer_id != actor.pk]
    approvals = [a for a in approvals if roles.RULE_REVIEWER in roles.user_roles(a.reviewer)]
    needed = selectors.min_approvals(draft)
    state = selectors.review_state(draft)
    if state == "changes_requested":
        return Gate("approval", False, "a reviewer requested changes on this version of the draft")
    if len(approvals) < needed:
        return Gate(
            "approval",
            False,
            f"{len(approvals)} of {needed} approval(s) by a rule reviewer who is neither an author nor "
            "the publisher, on the draft's current checksum",
        )
    return Gate("approval", True, evidence=approvals[-1].pk)


REMOVED_GOLDEN = re.compile(r"removed_golden:\s*(.*)", re.IGNORECASE)


def removed_golden(change_note: str) -> set[str]:
    """Golden case ids the change note lists under `removed_golden:` (comma or space separated)."""
    ids: set[str] = set()
    for match in REMOVED_GOLDEN.finditer(change_note or ""):
        ids |= {item.strip(" -[]") for item in re.split(r"[,\s]+", match[1]) if item.strip(" -[]")}
    return ids


def _golden_gate(draft: RuleSet, current: RuleSet | None) -> Gate:
    run = selectors.latest_golden_run(draft)
    if run is None:
        return Gate("golden", False, "no golden run on the draft's current checksum: run the golden cases")
    if not run.passed:
        failures = [
            f"{case['id']}: "
            + (
                case["invalid"]
                or ", ".join(
                    f"{m['modality']} expected {m['expected']}, got {m['actual']}" for m in case["mismatches"]
                )
            )
            for case in run.failed_cases
        ]
        return Gate("golden", False, "golden cases fail: " + "; ".join(failures))
    if current is not None:
        dropped = {case["id"] for case in current.tests} - {case["id"] for case in draft.tests}
        unexplained = sorted(dropped - removed_golden(draft.change_note))
        if unexplained:
            return Gate(
                "golden",
                False,
                f"golden cases of {current.version} are missing without `removed_golden:` in the change "
                "note: " + ", ".join(unexplained),
            )
    return Gate("golden", True, evidence=run.pk)


def _impact_gate(draft: RuleSet, actor: User | None, current: RuleSet | None, report_id: int | None) -> Gate:
    if current is None:
        return Gate("impact", True, "nothing is published yet: no case can change")
    reports = draft.impact_reports.filter(draft_checksum=draft.checksum)
    report = reports.filter(pk=report_id).first() if report_id else reports.order_by("-id").first()
    if report is None:
        return Gate("impact", False, "no impact report on the draft's current checksum: make one")
    if report.baseline_id != current.pk or report.baseline_checksum != current.checksum:
        return Gate(
            "impact", False, f"impact report is stale: {current.version} was published since it was made"
        )
    if report.acknowledged_by_id is None or (actor is not None and report.acknowledged_by_id != actor.pk):
        return Gate("impact", False, "the impact report must be acknowledged by the publisher")
    return Gate("impact", True, evidence=report.pk)


def required_bump(draft: RuleSet, report: ImpactReport | None) -> str:
    """The diff's bump, raised by the status changes of the stored cases in the impact report."""
    bumps = [draft.required_bump]
    if report is not None:
        bumps += [
            bump_for_status_change(change["from"], change["to"])
            for case in report.changes.get("cases", [])
            for change in case["changes"]
        ]
        bumps += [
            bump_for_status_change(change["from"], change["to"])
            for case in report.changes.get("golden", {}).get("cases", [])
            for change in case["changes"]
        ]
    return larger_bump(*bumps)


def version_step(old: str, new: str) -> str:
    """The semantic-version step from old to new ("" if not higher; "?" if either is not x.y.z)."""
    a, b = semver(old), semver(new)
    if a is None or b is None:
        return "?"
    if b[0] > a[0]:
        return "major"
    if b[0] == a[0] and b[1] > a[1]:
        return "minor"
    if b[:2] == a[:2] and b[2] > a[2]:
        return "patch"
    return ""


def _version_gate(draft: RuleSet, current: RuleSet | None) -> Gate:
    if current is None:
        return Gate("version", True)
    step = version_step(current.version, draft.version)
    if step == "?":
        return Gate("version", False, "versions must be major.minor.patch (e.g. 1.3.0) to compare them")
    if not step:
        return Gate("version", False, f"version {draft.version} is not higher than {current.version}")
    if draft.restores_id is not None:
        return Gate("version", True, "a rollback: any higher version")
    report = selectors.latest_impact_report(draft)
    needed = required_bump(draft, report)
    if BUMPS.index(step) < BUMPS.index(needed):
        return Gate(
            "version",
            False,
            f"version must be at least {needed} ({current.version} -> {draft.version} is {step})",
        )
    return Gate("version", True)


def _verification_gate(draft: RuleSet, current: RuleSet | None) -> Gate:
    if draft.restores_id is not None:
        return Gate("verification", True, "a rollback: the content was approved before")
    diff = ruleset_diff(current.content if current else {}, draft.content)
    touched = [*diff.rules["added"], *diff.rules["changed"]]
    unverified = sorted(
        f"{rule['modality']} {rule['rule_id']}"
        for rule in touched
        if _verification(draft, rule) in ("recall", "to_be_confirmed")
    )
    if unverified and settings.NETCARE_BLOCK_UNVERIFIED_RULES:
        return Gate("verification", False, "new or changed rules are not verified: " + ", ".join(unverified))
    note = f"not verified, allowed by policy: {', '.join(unverified)}" if unverified else ""
    return Gate("verification", True, note)


def _verification(draft: RuleSet, rule: dict[str, Any]) -> str:
    return next(
        (
            r.get("verification", "")
            for r in draft.content.get("rules", ())
            if r["rule_id"] == rule["rule_id"] and r["modality"] == rule["modality"]
        ),
        "",
    )


@transaction.atomic
def ruleset_publish_draft(
    *, draft: RuleSet, actor: User, checksum: str | None = None, impact_report: int | None = None
) -> RuleSet:
    """Publish a draft: every gate checked in this one transaction, with the draft and the version in
    force locked. Refused: NotAllowed (403) for an author or a non-publisher, GatesFailed (409) with
    every gate and why it failed."""
    refusal = publish_refusal(draft, actor)
    if refusal:
        raise NotAllowed(refusal)
    current = RuleSet.objects.select_for_update().published().first()
    draft = RuleSet.objects.select_for_update().get(pk=draft.pk)
    gates = ruleset_gates(draft, actor, checksum=checksum, impact_report=impact_report)
    if not all(gate.ok for gate in gates):
        raise GatesFailed(gates)
    activate(draft, current=current, actor=actor)
    evidence = {gate.gate: gate.evidence for gate in gates if gate.evidence is not None}
    audit_record(
        actor=actor,
        action="ruleset.rollback" if draft.restores_id else "ruleset.publish",
        obj=draft,
        payload={
            "version": draft.version,
            "checksum": draft.checksum,
            "retired": current.version if current else None,
            "restores": draft.restores.version if draft.restores else None,
            "approval": evidence.get("approval"),
            "golden_run": evidence.get("golden"),
            "impact_report": evidence.get("impact"),
            "approvals": [a.pk for a in selectors.valid_approvals(draft)],
        },
    )
    return draft


# --- rollback and new golden cases ------------------------------------------------------------------


@transaction.atomic
def ruleset_rollback(*, to_version: str, actor: User, reason: str) -> RuleSet:
    """A new draft with the content of an earlier version, as the next patch of the one in force
    (CRMI CR 3.1: retired content is never re-activated in place). Its golden run and impact report
    are made now, the impact report acknowledged by the actor; one approval by someone else is still
    needed before the actor publishes it (the version and verification gates are relaxed)."""
    current = RuleSet.objects.select_for_update().published().first()
    target = RuleSet.objects.filter(version=to_version).first()
    if current is None:
        raise InvalidChange("no rule set is published: there is nothing to roll back", ["to_version"])
    if target is None or target.status == RuleSet.Status.DRAFT or target.pk == current.pk:
        raise InvalidChange(
            f"{to_version!r} is not an earlier published version (the one in force is {current.version})",
            ["to_version"],
        )
    version = next_patch(current.version)
    dropped = sorted({case["id"] for case in current.tests} - {case["id"] for case in target.tests})
    note = f"Rollback of {current.version} to the content of {target.version}: {reason}"
    if dropped:  # the restored content's own golden cases apply; the newer ones go with the newer rules
        note += "\nremoved_golden: " + ", ".join(dropped)
    draft = _new_draft(
        version=version,
        title=target.title,
        notes=target.notes,
        content={**target.content, "version": version},
        actor=actor,
        change_note=note,
        source=f"rollback of {current.version} to {target.version}",
        authored=False,
        restores=target,
    )
    ruleset_golden_run(rule_set=draft, actor=actor)
    report = ruleset_impact(draft=draft, actor=actor)
    if roles.can(actor, "publish_ruleset"):
        ruleset_impact_acknowledge(report=report, actor=actor)
    return draft


@transaction.atomic
def ruleset_golden_case_add(*, draft: RuleSet, actor: User, case: dict[str, Any]) -> RuleSet:
    """Add a golden case (a profile and the statuses the author confirms) to a draft: a revision."""
    draft = _locked_draft(draft)
    try:
        doc = GoldenCaseDoc.model_validate(case)
    except PydanticValidationError as exc:
        first = exc.errors(include_url=False)[0]
        raise InvalidChange(str(first["msg"]), [str(part) for part in first["loc"]]) from exc
    problems = profile_problems(doc.model_dump())
    if problems:
        path, message = problems[0]
        raise InvalidChange(message, ["profile", *path.split(".")])
    if doc.id in {existing["id"] for existing in draft.tests}:
        raise InvalidChange(f"the draft already has a golden case {doc.id!r}", ["id"])
    keys = {modality["key"] for modality in draft.content.get("modalities", ())}
    unknown = sorted(set(doc.expect) - keys)
    if unknown:
        raise InvalidChange(f"the draft has no option {', '.join(unknown)}", ["expect"])
    content = {**draft.content, "tests": [*draft.tests, doc.model_dump(exclude_defaults=True)]}
    return ruleset_draft_set_content(draft=draft, content=content, actor=actor)
