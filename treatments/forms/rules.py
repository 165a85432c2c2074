"""The rule editor's forms: one rule of a draft rule set, one modality, and a new modality with its
first indication.

The fields only turn posted text into values (a condition typed as YAML or JSON becomes data);
what a rule or a modality may hold is decided by the knowledge-base loader, through the editing
services, whose messages are put back on these fields by `add_edit_errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms

from ..rules.authoring import GENERAL, condition_from_text, condition_to_text
from ..rules.vocabulary import (
    CATEGORY_LABELS,
    INTENT_LABELS,
    RULE_KIND_LABELS,
    VERIFICATION_LABELS,
)
from .base import ErrorLinks

IF_UNKNOWN_CHOICES = [
    ("hold", "Hold the option at needs data"),
    ("note", "Note it as not checked (requirements, contraindications, cautions only)"),
]


def _text(label: str, *, rows: int = 0, help_text: str = "", **attrs: Any) -> forms.CharField:
    # Lenient on purpose (no `required`): the loader says what is missing, in its own words.
    widget = forms.Textarea(attrs={"rows": rows, **attrs}) if rows else forms.TextInput(attrs)
    return forms.CharField(label=label, required=False, widget=widget, help_text=help_text, strip=True)


def _choice(label: str, choices: Mapping[Any, str], **kwargs: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=list(choices.items()),
        error_messages={"invalid_choice": f"{label}: choose one of the listed values"},
        **kwargs,
    )


NOT_EDITED = ("based_on",)  # form fields that are not fields of the rule or modality


class EditorForm(ErrorLinks, forms.Form):
    """A form whose values go to an editing service; its refusal lands on the fields it names."""

    # loader field name -> form field name, where they differ
    field_names: dict[str, str] = {}

    def edit_fields(self) -> dict[str, Any]:
        """The values for the service, under the loader's names (a blank optional text included)."""
        names = {form: loader for loader, form in self.field_names.items()}
        return {
            names.get(name, name): value
            for name, value in self.cleaned_data.items()
            if name in self.fields and name not in NOT_EDITED
        }

    def add_edit_errors(self, errors: Mapping[str, list[str]]) -> None:
        for name, messages in errors.items():
            field = self.field_names.get(name, name)
            for message in messages:
                self.add_error(field if field in self.fields and name != GENERAL else None, message)

    def has_errors(self) -> bool:
        return bool(self.errors)


class RuleForm(EditorForm):
    """One rule: kind, title, condition, reason, source, evidence, verification, if_unknown."""

    rule_id = _text(
        "Rule id",
        help_text="Lower case with dots, e.g. prrt.albumin_low; it cannot be changed later.",
        spellcheck="false",
        autocomplete="off",
    )
    kind = _choice("Kind", RULE_KIND_LABELS)
    title = _text("Title", help_text="At most 120 characters, shown with the option.")
    condition = _text(
        "Condition",
        rows=4,
        help_text=(
            "When the rule applies, as YAML or JSON, e.g. {fact: platelets_10e9_l, ge: 75}; "
            "all, any and not combine conditions (format: fixtures/README.md)."
        ),
        spellcheck="false",
        autocomplete="off",
        **{"class": "code-input"},
    )
    reason = _text("Reason", rows=4, help_text="In plain English, for clinicians: why the rule exists.")
    source = _text("Source", rows=2, help_text="The guideline, trial or document the rule comes from.")
    evidence = _text("Evidence", help_text="The evidence level, e.g. guideline, RCT, expert opinion.")
    verification = _choice("Verification", VERIFICATION_LABELS)
    verification_note = _text("Verification note", rows=2, help_text="What is unchecked, if anything.")
    if_unknown = _choice("If a fact is unknown", dict(IF_UNKNOWN_CHOICES), initial="hold")
    # the rule's fingerprint as this form showed it: a save over a newer change is refused
    based_on = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, new: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not new:
            del self.fields["rule_id"]
        else:
            del self.fields["based_on"]

    def clean_condition(self) -> Any:
        try:
            return condition_from_text(self.cleaned_data.get("condition", ""))
        except ValueError as exc:
            raise forms.ValidationError(f"Condition: {exc}") from None

    @staticmethod
    def initial_of(rule: Mapping[str, Any], based_on: str) -> dict[str, Any]:
        """The form's values for a stored rule (content form), with its condition as JSON text."""
        return {**rule, "condition": condition_to_text(rule["condition"]), "based_on": based_on}


MODALITY_HELP = {
    "display_order": "The option's base rank within a status (1 = first); unique in the rule set.",
    "hospital_page": "What the NET unit's patient page says.",
    "patient_summary": "For patients, in plain English: what the option is and what having it involves "
    "(the patient options sheet).",
    "patient_page_url": "The NET unit's own patient-information page about the option (https://...).",
}


class ModalityForm(EditorForm):
    """The descriptive fields of a modality (its rules are edited one by one)."""

    name = _text("Name")
    category = _choice("Category", CATEGORY_LABELS)
    intents = forms.MultipleChoiceField(
        label="Intents",
        choices=list(INTENT_LABELS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Intents: choose among the listed intents"},
    )
    display_order = forms.IntegerField(
        label="Display order",
        required=False,
        help_text=MODALITY_HELP["display_order"],
        error_messages={"invalid": "Display order: write a whole number"},
    )
    description = _text(
        "Description", rows=4, help_text="For clinicians: what the option is and when it is used."
    )
    agents = _text("Agents", rows=3, help_text="Usual agents, regimens and schedule.")
    hospital_page = _text("Hospital page", rows=3, help_text=MODALITY_HELP["hospital_page"])
    patient_summary = _text("Summary for patients", rows=4, help_text=MODALITY_HELP["patient_summary"])
    patient_page_url = _text("Patient page address", help_text=MODALITY_HELP["patient_page_url"])
    notes = _text("Notes", rows=2)


INDICATION_FIELDS = ("rule_id", "title", "condition", "reason", "source", "evidence", "verification")


class ModalityAddForm(ModalityForm):
    """A new modality: its key, its fields, and its first indication rule (the loader wants one)."""

    field_names = {f"indication.{name}": f"indication_{name}" for name in INDICATION_FIELDS}

    key = forms.ChoiceField(
        label="Modality key", choices=[], error_messages={"invalid_choice": "Key: choose a listed key"}
    )
    indication_rule_id = RuleForm.base_fields["rule_id"]
    indication_title = _text("Indication title")
    indication_condition = RuleForm.base_fields["condition"]
    indication_reason = RuleForm.base_fields["reason"]
    indication_source = RuleForm.base_fields["source"]
    indication_evidence = RuleForm.base_fields["evidence"]
    indication_verification = _choice("Indication verification", VERIFICATION_LABELS)

    def __init__(self, *args: Any, keys: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["key"].choices = [(key, key) for key in keys]  # type: ignore[attr-defined]

    def clean_indication_condition(self) -> Any:
        try:
            return condition_from_text(self.cleaned_data.get("indication_condition", ""))
        except ValueError as exc:
            raise forms.ValidationError(f"Condition: {exc}") from None

    def modality_fields(self) -> dict[str, Any]:
        return {name: value for name, value in self.edit_fields().items() if name in ModalityForm.base_fields}

    def indication(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(f"indication_{name}") for name in INDICATION_FIELDS}
