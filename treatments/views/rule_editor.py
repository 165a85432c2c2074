"""The rule editor: a draft rule set's rules and modalities edited in the app, one at a time, with
the loader's messages by the field, a plain-English reading of the condition as it is typed, and
the draft exported as YAML that loads to the same checksum.

Only rule authors edit drafts. A published or retired rule set is read-only (the services refuse
it and the page says how to change it: clone it as a new draft). The Django admin stays read-only
for rule content.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import services
from ..forms.rules import ModalityAddForm, ModalityForm, RuleForm
from ..models import RuleSet
from ..roles import capability_required
from ..rules.authoring import condition_from_text, condition_in_words, content_to_yaml, rule_fingerprint
from ..rules.vocabulary import MODALITY_KEYS, RULE_KIND_LABELS
from ..selectors.governance import ruleset_get
from .common import acting_user, refusal


def _rule_set(version: str) -> RuleSet:
    rule_set = ruleset_get(version)
    if rule_set is None:
        raise Http404("No rule set with this version.")
    return rule_set


def _draft(version: str) -> RuleSet:
    """The rule set to edit; a published or retired one is refused by the service on save, and here
    already on the form, so that nobody types into a form that cannot be saved."""
    rule_set = _rule_set(version)
    if rule_set.is_frozen:
        raise services.NotADraft(rule_set)
    return rule_set


def _names(rule_set: RuleSet) -> dict[str, str]:
    return {modality["key"]: modality["name"] for modality in rule_set.content.get("modalities", ())}


def _modality(rule_set: RuleSet, key: str) -> dict[str, Any]:
    found = next((m for m in rule_set.content.get("modalities", ()) if m["key"] == key), None)
    if found is None:
        raise Http404("The rule set has no modality with this key.")
    return dict(found)


def _rule(rule_set: RuleSet, key: str, rule_id: str) -> dict[str, Any]:
    rules = rule_set.content.get("rules", ())
    found = next((r for r in rules if r["modality"] == key and r["rule_id"] == rule_id), None)
    if found is None:
        raise Http404("The modality has no rule with this id.")
    return dict(found)


def _editor_url(rule_set: RuleSet, key: str = "") -> str:
    url = reverse("ruleset_editor", args=[rule_set.version])
    return f"{url}#modality-{key}" if key else url


def _refused_draft(view: Any) -> Any:
    """A page of the editor for a rule set that is not a draft says why, with the way back."""

    @wraps(view)
    def wrapped(request: HttpRequest, version: str, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, version, *args, **kwargs)  # type: ignore[no-any-return]
        except services.NotADraft as exc:
            return refusal(request, exc, back=reverse("ruleset_editor", args=[version]))

    return wrapped


@capability_required("draft_ruleset")
@require_GET
def ruleset_editor(request: HttpRequest, version: str) -> HttpResponse:
    """Every modality of the rule set with its rules and their conditions in words."""
    rule_set = _rule_set(version)
    names = _names(rule_set)
    rules_by_key: dict[str, list[dict[str, Any]]] = {}
    for rule in rule_set.content.get("rules", ()):
        rules_by_key.setdefault(rule["modality"], []).append(
            {**rule, "condition_text": condition_in_words(rule["condition"], names)}
        )
    modalities = [
        {**modality, "rules": rules_by_key.get(modality["key"], [])}
        for modality in sorted(rule_set.content.get("modalities", ()), key=lambda m: m["display_order"])
    ]
    context = {
        "rule_set": rule_set,
        "modalities": modalities,
        "kinds": RULE_KIND_LABELS,
        "can_add_modality": not rule_set.is_frozen and _free_keys(rule_set),
    }
    return render(request, "treatments/ruleset_editor.html", context)


def _free_keys(rule_set: RuleSet) -> list[str]:
    used = set(_names(rule_set))
    return [key for key in MODALITY_KEYS if key not in used]


@capability_required("draft_ruleset")
@require_http_methods(["GET", "POST"])
@_refused_draft
def rule_edit(request: HttpRequest, version: str, key: str, rule_id: str) -> HttpResponse:
    rule_set = _draft(version)
    modality = _modality(rule_set, key)
    rule = _rule(rule_set, key, rule_id)
    if request.method != "POST":
        based_on = rule_fingerprint(rule_set.content, modality=key, rule_id=rule_id)
        form = RuleForm(initial=RuleForm.initial_of(rule, based_on))
    else:
        form = RuleForm(request.POST)
        if form.is_valid():
            try:
                services.ruleset_rule_edit(
                    rule_set=rule_set,
                    modality=key,
                    rule_id=rule_id,
                    fields=form.edit_fields(),
                    actor=acting_user(request),
                    based_on=form.cleaned_data["based_on"],
                )
                return redirect(_editor_url(rule_set, key))
            except services.RuleEditInvalid as exc:
                form.add_edit_errors(exc.errors)
            except services.RuleChanged as exc:
                form.add_error(None, exc.sentence)
                # a second save replaces theirs, knowingly: the form now carries their version's mark
                form.data = {**form.data.dict(), "based_on": exc.current}  # type: ignore[attr-defined]
    return _rule_page(request, rule_set, modality, form, rule_id=rule_id)


@capability_required("draft_ruleset")
@require_http_methods(["GET", "POST"])
@_refused_draft
def rule_add(request: HttpRequest, version: str, key: str) -> HttpResponse:
    rule_set = _draft(version)
    modality = _modality(rule_set, key)
    if request.method != "POST":
        form = RuleForm(new=True)
    else:
        form = RuleForm(request.POST, new=True)
        if form.is_valid():
            fields = form.edit_fields()
            try:
                services.ruleset_rule_add(
                    rule_set=rule_set,
                    modality=key,
                    rule_id=fields.pop("rule_id"),
                    fields=fields,
                    actor=acting_user(request),
                )
                return redirect(_editor_url(rule_set, key))
            except services.RuleEditInvalid as exc:
                form.add_edit_errors(exc.errors)
    return _rule_page(request, rule_set, modality, form)


def _rule_page(
    request: HttpRequest, rule_set: RuleSet, modality: dict[str, Any], form: RuleForm, rule_id: str = ""
) -> HttpResponse:
    context = {
        "rule_set": rule_set,
        "modality": modality,
        "form": form,
        "rule_id": rule_id,
        "preview": _preview(rule_set, form["condition"].value()),
    }
    return render(request, "treatments/rule_form.html", context, status=400 if form.errors else 200)


def _preview(rule_set: RuleSet, text: Any) -> dict[str, str]:
    """The condition in plain English, or why it cannot be read yet."""
    if not str(text or "").strip():
        return {"error": "", "text": ""}
    try:
        condition = condition_from_text(str(text))
        sets = rule_set.content.get("sets")
        return {"text": condition_in_words(condition, _names(rule_set), sets), "error": ""}
    except ValueError as exc:
        return {"text": "", "error": str(exc)}


@capability_required("draft_ruleset")
@require_POST
def condition_preview(request: HttpRequest, version: str) -> HttpResponse:
    """htmx: the plain-English reading of the condition being typed (nothing is saved)."""
    rule_set = _rule_set(version)
    text = request.POST.get("condition") or request.POST.get("indication_condition") or ""
    return render(
        request, "treatments/includes/condition_preview.html", {"preview": _preview(rule_set, text)}
    )


@capability_required("draft_ruleset")
@require_http_methods(["GET", "POST"])
@_refused_draft
def modality_edit(request: HttpRequest, version: str, key: str) -> HttpResponse:
    rule_set = _draft(version)
    modality = _modality(rule_set, key)
    if request.method != "POST":
        form = ModalityForm(initial=modality)
    else:
        form = ModalityForm(request.POST)
        if form.is_valid():
            try:
                services.ruleset_modality_edit(
                    rule_set=rule_set, key=key, fields=form.edit_fields(), actor=acting_user(request)
                )
                return redirect(_editor_url(rule_set, key))
            except services.RuleEditInvalid as exc:
                form.add_edit_errors(exc.errors)
    context = {"rule_set": rule_set, "modality": modality, "form": form}
    return render(request, "treatments/modality_form.html", context, status=400 if form.errors else 200)


@capability_required("draft_ruleset")
@require_http_methods(["GET", "POST"])
@_refused_draft
def modality_add(request: HttpRequest, version: str) -> HttpResponse:
    rule_set = _draft(version)
    keys = _free_keys(rule_set)
    if not keys:
        raise Http404("Every modality key of the contract is in this rule set already.")
    form = ModalityAddForm(request.POST if request.method == "POST" else None, keys=keys)
    if request.method == "POST" and form.is_valid():
        try:
            services.ruleset_modality_add(
                rule_set=rule_set,
                key=form.cleaned_data["key"],
                fields=form.modality_fields(),
                indication=form.indication(),
                actor=acting_user(request),
            )
            return redirect(_editor_url(rule_set, form.cleaned_data["key"]))
        except services.RuleEditInvalid as exc:
            form.add_edit_errors(exc.errors)
    context = {"rule_set": rule_set, "modality": None, "form": form}
    return render(request, "treatments/modality_form.html", context, status=400 if form.errors else 200)


@capability_required("view_rulesets")
@require_GET
def ruleset_export(request: HttpRequest, version: str) -> HttpResponse:
    """The rule set as a knowledge-base YAML file: loading it gives the rule set's checksum."""
    rule_set = _rule_set(version)
    response = HttpResponse(content_to_yaml(rule_set.content), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="knowledge_base_{rule_set.version}.yaml"'
    return response
