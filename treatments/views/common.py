"""Helpers every page shares: the acting user, lookups that 404, refusals in words, safe redirects,
and the one mapping of a service's refusal (services.WorkflowError) to a page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from .. import selectors, services
from ..forms import PRIOR_MODE_FIELD
from ..models import Case, Evaluation, Meeting
from ..rules.profile import fact_kind

T = TypeVar("T")
View = Callable[..., HttpResponse]


def acting_user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # capability_required has checked the login


def case_or_404(pk: int) -> Case:
    return _found(selectors.case_get(pk), "No such case.")


def evaluation_or_404(case: Case, pk: int) -> Evaluation:
    return _found(selectors.evaluation_get(case, pk), "No such evaluation of this case.")


def meeting_or_404(pk: int) -> Meeting:
    return _found(selectors.meeting_get(pk), "No such meeting.")


def _found(obj: T | None, message: str) -> T:
    if obj is None:
        raise Http404(message)
    return obj


def refused(request: HttpRequest, title: str, message: str, *, back: str, status: int = 409) -> HttpResponse:
    """A write the workflow does not allow, said in words with the way back."""
    context = {"title": title, "message": message, "back": back}
    return render(request, "treatments/refused.html", context, status=status)


def read_only(request: HttpRequest, case: Case) -> HttpResponse:
    return refused(
        request,
        f"{case} is archived",
        "An archived case is read-only: it cannot be edited, evaluated or reviewed.",
        back=reverse("case_detail", args=[case.pk]),
    )


def next_url(request: HttpRequest, default: str) -> str:
    """The `next` field of a form when it is a page of this site, else `default`."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def needs_ruleset(view: View) -> View:
    """Answer 503 with instructions, rather than an error, until a rule set is published."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except selectors.NoPublishedRuleSet:
            return render(request, "treatments/no_ruleset.html", status=503)

    return wrapped


def field_for(fact: str) -> str:
    # The list fact is entered as a mode (unknown / none / given) plus boxes; errors land on the mode.
    return PRIOR_MODE_FIELD if fact_kind(fact) == "list" else fact


def refusal(request: HttpRequest, exc: services.WorkflowError, *, back: str) -> HttpResponse:
    """The one page answer to a refusal by a service: 404 for what is not there, the read-only page
    for an archived case, else a page saying why, with the way back."""
    if isinstance(exc, services.CaseNotOnMeeting | services.OptionNotInEvaluation):
        raise Http404(exc.sentence)
    if isinstance(exc, services.CaseArchived):
        return read_only(request, exc.case)
    return refused(request, exc.title, exc.advice, back=back, status=exc.status)


def add_refusal(form: Any, exc: services.WorkflowError) -> None:
    """Put a refusal next to the field it names (or at the top of the form)."""
    field = exc.loc[0] if exc.loc and str(exc.loc[0]) in form.fields else None
    form.add_error(field, exc.sentence)
