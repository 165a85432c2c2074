"""The four roles of NETcare (Django groups created by migration 0002) and what each may do.

Least privilege: a capability lists exactly the roles that need it. Views and API views ask
`can(user, capability)`; nothing else decides access.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse

CLINICIAN = "clinician"
COORDINATOR = "coordinator"
RULE_AUTHOR = "rule_author"
ADMIN = "admin"
# Rule governance (docs/rule-governance.md): a second person reviews a draft, a clinical safety
# officer (DCB0129) publishes it; neither may be one of the draft's authors.
RULE_REVIEWER = "rule_reviewer"
CLINICAL_SAFETY_OFFICER = "clinical_safety_officer"
ROLES: tuple[str, ...] = (CLINICIAN, COORDINATOR, RULE_AUTHOR, ADMIN, RULE_REVIEWER, CLINICAL_SAFETY_OFFICER)
ROLE_LABELS = {
    CLINICIAN: "Clinician",
    COORDINATOR: "MDT coordinator",
    RULE_AUTHOR: "Rule author",
    ADMIN: "Administrator",
    RULE_REVIEWER: "Rule reviewer",
    CLINICAL_SAFETY_OFFICER: "Clinical safety officer",
}
GOVERNANCE_ROLES = frozenset({RULE_AUTHOR, RULE_REVIEWER, CLINICAL_SAFETY_OFFICER})

# What each capability is for, and who has it.
CAPABILITIES: dict[str, frozenset[str]] = {
    # Read the catalogue of options and their rules.
    "view_catalogue": frozenset(ROLES),
    # Check a (not stored) patient profile against the rules: clinicians and coordinators for
    # patients, rule authors to try out rules. Administrators run the system, not patients.
    "check_eligibility": frozenset({CLINICIAN, COORDINATOR, RULE_AUTHOR}),
    # MDT workflow: coordinators prepare cases and meetings; clinicians can do the same, and also
    # review options and record outcomes.
    "view_cases": frozenset({CLINICIAN, COORDINATOR}),
    "manage_cases": frozenset({CLINICIAN, COORDINATOR}),
    "manage_meetings": frozenset({CLINICIAN, COORDINATOR}),
    "export_summary": frozenset({CLINICIAN, COORDINATOR}),
    "review_options": frozenset({CLINICIAN}),
    "record_outcome": frozenset({CLINICIAN}),
    # Rule governance. See the rule sets, their drafts, diffs, golden runs and reviews; clinicians
    # too, for the worklist a publication leaves (its impact report, with "re-evaluate now").
    "view_rulesets": GOVERNANCE_ROLES | {CLINICIAN},
    # Upload, edit, clone and withdraw drafts; run golden cases and impact reports.
    "draft_ruleset": frozenset({RULE_AUTHOR}),
    # Comment on, approve or request changes to a draft (never one's own).
    "review_ruleset": frozenset({RULE_REVIEWER}),
    # Publish a draft through the gates, and roll back (never one's own draft).
    "publish_ruleset": frozenset({CLINICAL_SAFETY_OFFICER}),
    # Impact reports: pseudonymised facts and status changes of stored cases.
    "view_impact": GOVERNANCE_ROLES | {CLINICIAN},
    # ... and the cases themselves (links, hospital references): those who may see cases.
    "view_impact_identified": frozenset({CLINICIAN}),
    # How EHR users received the CDS Hooks cards (override rates per option): clinicians, and those
    # who keep the rules right (rule governance). Counts only, no patient.
    "view_override_analytics": GOVERNANCE_ROLES | {CLINICIAN},
    # Marking an unknown fact "not needed" for a case is a clinical judgement: clinicians only.
    # Coordinators see the waivers and chase what is left.
    "waive_data": frozenset({CLINICIAN}),
    # Attendance at a meeting: whoever runs the meeting (the coordinator, or a clinician).
    "record_attendance": frozenset({CLINICIAN, COORDINATOR}),
}


def user_roles(user: User | AnonymousUser) -> set[str]:
    if not user.is_authenticated:
        return set()
    cached: set[str] | None = getattr(user, "_netcare_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) & set(ROLES)
        if user.is_superuser:
            cached.add(ADMIN)
        user._netcare_roles = cached  # type: ignore[union-attr,attr-defined]  # one query per request
    return set(cached)


def can(user: User | AnonymousUser, capability: str) -> bool:
    """Whether the user's roles include one that has the capability."""
    return bool(user_roles(user) & CAPABILITIES[capability])


def role_label(user: User | AnonymousUser) -> str:
    """The user's roles in words, for the page header."""
    return ", ".join(ROLE_LABELS[role] for role in ROLES if role in user_roles(user)) or "No role"


View = Callable[..., HttpResponse]


PAGES_TAKE_A_SESSION = (
    "NETcare's pages take a browser login, not an API token. With a token, use the API under /api/v2/ "
    "(its documentation: /api/v2/docs/); for example the case sheet is GET /api/v2/cases/{id}/summary/ "
    "with Accept: application/pdf, and the meeting pack GET /api/v2/meetings/{id}/pack/."
)


def sends_api_token(request: HttpRequest) -> bool:
    """Whether the request carries an API token (not, say, a proxy's Basic credentials)."""
    scheme = request.META.get("HTTP_AUTHORIZATION", "").split(" ", 1)[0].lower()
    return scheme in ("token", "bearer")


def token_client_refused() -> HttpResponse:
    """401 for a request that sent an API token to a page: a token client cannot follow
    the redirect to the login form, so it is told where the API is instead (docs/pdfs.md)."""
    response = JsonResponse({"detail": PAGES_TAKE_A_SESSION, "errors": []}, status=401)
    # The pages' one way in is the login form's session cookie.
    response["WWW-Authenticate"] = 'Session realm="NETcare pages", form="/login/"'
    return response


def capability_required(capability: str) -> Callable[[View], View]:
    """View decorator: login first (redirect; 401 for a client that sent an API token, since pages
    take a session only), then the capability (403)."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}")

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                if sends_api_token(request):
                    return token_client_refused()
                return redirect_to_login(request.get_full_path())
            if not can(request.user, capability):
                raise PermissionDenied(f"Your role does not allow this ({capability.replace('_', ' ')}).")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
