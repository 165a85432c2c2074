"""Rule governance pages (docs/rule-governance.md): the rule sets, and one version's page with its
tabs - Changes (the diff), Golden cases, Impact, Reviews and Publish (the gate checklist).

Thin views: a capability from roles.py, one service or selector call, a page. The diff, the gates
and the impact report are the same functions the API and the commands use.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from .. import services
from ..models import RuleSet
from ..roles import can, capability_required
from ..rules.document import KnowledgeBaseError, parse_text
from ..rules.profile import PatientProfile
from ..rules.vocabulary import STATUSES
from ..selectors import governance as selectors
from .common import acting_user, refusal

TABS = {
    "changes": "Changes",
    "golden": "Golden cases",
    "impact": "Impact",
    "reviews": "Reviews",
    "publish": "Publish",
}
STATE_WORDS = {
    "editing": "Editing",
    "in_review": "In review",
    "changes_requested": "Changes requested",
    "approved": "Approved",
    "published": "Published",
    "retired": "Retired",
}


def _rule_set(version: str) -> RuleSet:
    rule_set = selectors.ruleset_get(version)
    if rule_set is None:
        raise Http404(f"No rule set {version}.")
    return rule_set


@capability_required("view_rulesets")
@require_GET
@never_cache
def ruleset_list(request: HttpRequest) -> HttpResponse:
    rows = [
        (rule_set, STATE_WORDS[selectors.review_state(rule_set)]) for rule_set in selectors.ruleset_list()
    ]
    return render(request, "treatments/rulesets.html", {"rows": rows, "problems": []})


@capability_required("draft_ruleset")
@require_POST
@never_cache
def ruleset_draft_new(request: HttpRequest) -> HttpResponse:
    """A draft from a clone of the version in force, or from an uploaded YAML file."""
    actor = acting_user(request)
    note = request.POST.get("change_note", "")[:20_000]
    upload = request.FILES.get("document")
    try:
        if upload is not None:
            text = upload.read(2_000_001).decode("utf-8", errors="replace")
            try:
                knowledge_base = parse_text(text, upload.name or "upload")
            except KnowledgeBaseError as exc:
                rows = [(r, STATE_WORDS[selectors.review_state(r)]) for r in selectors.ruleset_list()]
                context = {"rows": rows, "problems": [str(problem) for problem in exc.problems]}
                return render(request, "treatments/rulesets.html", context, status=400)
            draft = services.ruleset_draft_create(
                knowledge_base=knowledge_base, actor=actor, change_note=note
            )
        else:
            version = request.POST.get("version", "").strip()[:40]
            draft = services.ruleset_draft_clone(actor=actor, version=version, change_note=note)
    except services.WorkflowError as exc:
        return refusal(request, exc, back=reverse("rulesets"))
    messages.success(request, f"Draft {draft.version} made.")
    return redirect("ruleset_tab", version=draft.version, tab="changes")


@capability_required("view_rulesets")
@require_GET
@never_cache
def ruleset_detail(request: HttpRequest, version: str, tab: str = "changes") -> HttpResponse:
    if tab not in TABS:
        raise Http404("No such tab.")
    return _render(request, _rule_set(version), tab)


def _render(
    request: HttpRequest, rule_set: RuleSet, tab: str, status: int = 200, **extra: Any
) -> HttpResponse:
    baseline = rule_set.based_on or RuleSet.objects.published().exclude(pk=rule_set.pk).first()
    context: dict[str, Any] = {
        "rule_set": rule_set,
        "state": STATE_WORDS[selectors.review_state(rule_set)],
        "tab": tab,
        "tab_label": TABS[tab],
        "tabs": TABS,
        "baseline": baseline,
        "is_draft": rule_set.status == RuleSet.Status.DRAFT,
        "may_restore": rule_set.status == RuleSet.Status.RETIRED,
        **extra,
    }
    if tab == "changes":
        context["diff"] = selectors.versions_diff(baseline, rule_set).as_data() if baseline else None
    elif tab == "golden":
        context["run"] = selectors.latest_golden_run(rule_set)
    elif tab == "impact":
        context.update(_impact_context(request, rule_set))
    elif tab == "reviews":
        context["reviews"] = list(rule_set.reviews.select_related("reviewer").order_by("-created_at", "-id"))
    elif tab == "publish":
        gates = services.ruleset_gates(rule_set, acting_user(request)) if context["is_draft"] else []
        context["gates"] = gates
        context["refusal"] = services.publish_refusal(rule_set, acting_user(request)) if gates else ""
        context["ready"] = bool(gates) and all(g.ok for g in gates) and not context["refusal"]
    return render(request, "treatments/ruleset.html", context, status=status)


def _impact_context(request: HttpRequest, rule_set: RuleSet) -> dict[str, Any]:
    report = rule_set.impact_reports.select_related("baseline", "acknowledged_by").order_by("-id").first()
    if report is None or not can(request.user, "view_impact"):
        return {"report": report, "body": None}
    identified = can(request.user, "view_impact_identified")
    return {
        "report": report,
        "body": selectors.impact_for_reader(report.changes, identified),
        "identified": identified,
        "may_reevaluate": identified and can(request.user, "manage_cases"),
        "current_report": report.draft_checksum == rule_set.checksum,
    }


ACTIONS = {
    "golden-run": ("draft_ruleset", "publish_ruleset"),
    "impact": ("draft_ruleset", "publish_ruleset"),
    "acknowledge": ("publish_ruleset",),
    "review": ("review_ruleset",),
    "publish": ("publish_ruleset",),
    "withdraw": ("draft_ruleset", "publish_ruleset"),
    "rollback": ("publish_ruleset",),
}


@capability_required("view_rulesets")
@require_POST
@never_cache
def ruleset_action(request: HttpRequest, version: str, action: str) -> HttpResponse:
    """One step of the workflow, by the roles that may take it; a refusal is said on a page."""
    if action not in ACTIONS:
        raise Http404("No such action.")
    if not any(can(request.user, capability) for capability in ACTIONS[action]):
        return refusal(
            request, services.NotAllowed("your role does not allow this"), back=reverse("rulesets")
        )
    rule_set = _rule_set(version)
    actor = acting_user(request)
    back = reverse("ruleset_tab", args=[rule_set.version, _tab_of(action)])
    if action == "rollback":
        return _rollback(request, rule_set)
    try:
        if action == "golden-run":
            run = services.ruleset_golden_run(rule_set=rule_set, actor=actor)
            messages.success(
                request, f"Golden run {run.pk}: {'all cases pass' if run.passed else 'cases fail'}."
            )
        elif action == "impact":
            scope = request.POST.get("scope", "active")
            if scope not in ("active", "all"):
                scope = "active"
            limit = settings.NETCARE_IMPACT_MAX_CASES
            services.ruleset_impact(draft=rule_set, actor=actor, scope=scope, limit=limit)
            messages.success(request, "Impact report made.")
        elif action == "acknowledge":
            report = rule_set.impact_reports.filter(pk=_int(request.POST.get("report"))).first()
            if report is None:
                raise Http404("No such impact report.")
            services.ruleset_impact_acknowledge(report=report, actor=actor)
            messages.success(request, "Impact report acknowledged.")
        elif action == "review":
            kind = request.POST.get("kind", "")
            if kind not in ("comment", "approve", "request_changes"):
                raise services.InvalidChange("choose comment, approve or request changes", ["kind"])
            services.ruleset_review(
                draft=rule_set,
                actor=actor,
                kind=kind,
                checksum=request.POST.get("checksum", ""),
                summary=request.POST.get("summary", "")[:4000],
            )
            messages.success(request, "Review recorded.")
        elif action == "publish":
            services.ruleset_publish_draft(draft=rule_set, actor=actor, checksum=request.POST.get("checksum"))
            messages.success(request, f"Rule set {rule_set.version} is published.")
            return redirect("ruleset_tab", version=rule_set.version, tab="impact")
        elif action == "withdraw":
            services.ruleset_withdraw(draft=rule_set, actor=actor)
            messages.success(request, f"Draft {version} withdrawn.")
            return redirect("rulesets")
    except services.GatesFailed:
        return _render(request, _rule_set(version), "publish", status=409)
    except services.WorkflowError as exc:
        return refusal(request, exc, back=back)
    return redirect(back)


def _rollback(request: HttpRequest, rule_set: RuleSet) -> HttpResponse:
    """Roll back to this (earlier) version: the same service as the API, which makes the new draft
    with its golden run and impact report; a missing reason or confirmation is said by its field."""
    reason = request.POST.get("reason", "").strip()[:4000]
    errors = {}
    if not reason:
        errors["reason"] = "Say why the version in force is rolled back (it goes in the change note)."
    if request.POST.get("confirm") != "1":
        errors["confirm"] = "Tick the box to confirm the rollback."
    if errors:
        return _render(
            request, rule_set, "publish", status=400, rollback_errors=errors, rollback_reason=reason
        )
    try:
        draft = services.ruleset_rollback(
            to_version=rule_set.version, actor=acting_user(request), reason=reason
        )
    except services.WorkflowError as exc:
        return refusal(request, exc, back=reverse("ruleset_tab", args=[rule_set.version, "publish"]))
    messages.success(
        request,
        f"Draft {draft.version} made with the content of {rule_set.version}; its golden run and impact "
        "report are made. It needs one approval by a rule reviewer before you publish it.",
    )
    return redirect("ruleset_tab", version=draft.version, tab="publish")


def _tab_of(action: str) -> str:
    return {"golden-run": "golden", "acknowledge": "impact", "review": "reviews"}.get(action, action)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@capability_required("draft_ruleset")
@require_POST
@never_cache
def ruleset_golden_case_new(request: HttpRequest) -> HttpResponse:
    """A patient check as a new golden case of a draft, in two clicks: the check's "Add as a golden
    case" shows the statuses to confirm (each can be changed), "Add to the draft" saves them."""
    try:
        profile = PatientProfile.model_validate(json.loads(request.POST.get("profile", "")[:100_000]))
    except (ValueError, RecursionError):
        return render(request, "treatments/bad_request.html", status=400)
    drafts = list(RuleSet.objects.filter(status=RuleSet.Status.DRAFT).order_by("-created_at"))
    statuses = selectors.published_statuses(profile)
    context: dict[str, Any] = {
        "profile_json": request.POST.get("profile", ""),
        "drafts": drafts,
        "options": [(key, name, request.POST.get(f"expect_{key}", status)) for key, name, status in statuses],
        "statuses": STATUSES,
        "values": {name: request.POST.get(name, "") for name in ("draft", "case_id", "title", "why")},
        "error": "",
    }
    if request.POST.get("confirm") != "1":
        return render(request, "treatments/golden_case_new.html", context)
    draft = next((d for d in drafts if d.version == request.POST.get("draft")), None)
    case = {
        "id": request.POST.get("case_id", "").strip(),
        "title": request.POST.get("title", "").strip(),
        "profile": profile.known_facts(),
        "expect": {key: status for key, _, status in context["options"] if status in STATUSES},
        "why": request.POST.get("why", "").strip(),
    }
    if draft is None:
        context["error"] = "Choose the draft to add the case to."
        return render(request, "treatments/golden_case_new.html", context, status=400)
    try:
        draft = services.ruleset_golden_case_add(draft=draft, actor=acting_user(request), case=case)
    except services.WorkflowError as exc:
        context["error"] = exc.sentence
        return render(request, "treatments/golden_case_new.html", context, status=exc.status)
    messages.success(request, f"Golden case {case['id']} added to draft {draft.version}.")
    return redirect("ruleset_tab", version=draft.version, tab="golden")
