"""Forms of the clinician pages: the patient check (built from PatientProfile), what-if, the
catalogue filter, and the MDT workflow (cases, reviews, meetings, outcomes).

The patient form is generated from `PatientProfile.model_fields`, so a new fact in the contract
appears on the page with its label, group, unit, help and bounds. Django fields only turn text into
values; the profile itself is validated by `PatientProfile.model_validate`, whose messages
(`error_list`) are put next to the fields they are about. Every fact may stay unknown: yes/no facts
are yes / no / unknown, and prior therapies keep "unknown" (absent) apart from "none" (empty list).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from django import forms
from django.forms.boundfield import BoundWidget
from django.utils import timezone
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from ..inputs import CaseChange, CaseCreate, MeetingCaseAdd, MeetingInput, OutcomeInput, ReviewInput
from ..models import Case, Evaluation, Review
from ..rules.conditions import display_value
from ..rules.document import CATEGORY_LABELS
from ..rules.profile import (
    FACT_NAMES,
    GROUPS,
    MODALITY_KEYS,
    PatientProfile,
    error_list,
    fact_choices,
    fact_kind,
    fact_label,
    fact_unit,
    value_label,
)

UNKNOWN = "unknown"
YES_NO_UNKNOWN = (("yes", "Yes"), ("no", "No"), (UNKNOWN, "Unknown"))
PRIOR_UNKNOWN, PRIOR_NONE, PRIOR_GIVEN = UNKNOWN, "none", "given"
PRIOR_MODES = (
    (PRIOR_UNKNOWN, "Unknown"),
    (PRIOR_NONE, "None"),
    (PRIOR_GIVEN, "These treatments (tick below)"),
)
PRIOR_MODE_FIELD = "prior_therapies_known"
# Enumerated facts with at most this many values are radio buttons; longer lists are a select.
RADIO_LIMIT = 3
# Words for values where the contract's spelling would read oddly.
MAX_ENCODED_PROFILE = 20_000  # characters: a full profile is well under 2,000


class FactMeta(NamedTuple):
    """What the page says about a fact besides its label: unit, allowed range, help."""

    name: str
    kind: str
    unit: str
    help: str
    range_text: str


def _bounds(name: str) -> dict[str, float]:
    bounds: dict[str, float] = {}
    for item in PatientProfile.model_fields[name].metadata:
        for key in ("ge", "gt", "le", "lt"):
            value = getattr(item, key, None)
            if value is not None:
                bounds[key] = value
    return bounds


def _range_text(name: str, unit: str) -> str:
    bounds = _bounds(name)
    low = bounds.get("ge", bounds.get("gt"))
    high = bounds.get("le", bounds.get("lt"))
    suffix = f" {unit}" if unit else ""
    if "gt" in bounds and high is not None:
        return f"more than {display_value(low)}, up to {display_value(high)}{suffix}"
    if low is not None and high is not None:
        return f"{display_value(low)} to {display_value(high)}{suffix}"
    return ""


def _fact_meta(name: str) -> FactMeta:
    info = PatientProfile.model_fields[name]
    unit = fact_unit(name)
    help_text = info.description if info.description and info.description != info.title else ""
    return FactMeta(name, fact_kind(name), unit, help_text, _range_text(name, unit))


FACT_META: dict[str, FactMeta] = {name: _fact_meta(name) for name in FACT_NAMES}


def _fact_field(name: str, modality_names: Mapping[str, str]) -> forms.Field:
    meta = FACT_META[name]
    label = fact_label(name)
    kind = meta.kind
    if kind == "bool":
        return forms.ChoiceField(
            label=label,
            choices=YES_NO_UNKNOWN,
            initial=UNKNOWN,
            required=False,
            widget=forms.RadioSelect,
            error_messages={"invalid_choice": f"{label}: choose yes, no or unknown"},
        )
    if kind == "enum":
        choices = [(value, value_label(value)) for value in fact_choices(name) or ()]
        if name == "funding":
            # Funding is never unknown: not given means the unit's default (NHS).
            default = str(PatientProfile.model_fields[name].default)
            return forms.ChoiceField(
                label=label, choices=choices, initial=default, required=False, widget=forms.RadioSelect
            )
        many = len(choices) > RADIO_LIMIT
        return forms.ChoiceField(
            label=label,
            choices=[("", "Unknown")] + choices if many else choices + [("", "Unknown")],
            initial="",
            required=False,
            widget=forms.Select if many else forms.RadioSelect,
            error_messages={"invalid_choice": f"{label}: choose one of the listed values"},
        )
    if kind == "list":
        return forms.MultipleChoiceField(
            label=label,
            choices=[(key, modality_names.get(key, display_value(key))) for key in MODALITY_KEYS],
            required=False,
            widget=forms.CheckboxSelectMultiple,
            error_messages={"invalid_choice": f"{label}: %(value)s is not a treatment in the catalogue"},
        )
    bounds = _bounds(name)
    attrs: dict[str, Any] = {"inputmode": "numeric" if kind == "int" else "decimal", "placeholder": "unknown"}
    if "ge" in bounds or "gt" in bounds:
        attrs["min"] = display_value(bounds.get("ge", bounds.get("gt")))
    if "le" in bounds or "lt" in bounds:
        attrs["max"] = display_value(bounds.get("le", bounds.get("lt")))
    attrs["step"] = "1" if kind == "int" else "any"
    if kind == "int":
        return forms.IntegerField(
            label=label,
            required=False,
            widget=forms.NumberInput(attrs=attrs),
            error_messages={"invalid": f"{label} must be a whole number (or left empty when unknown)"},
        )
    return forms.FloatField(
        label=label,
        required=False,
        widget=forms.NumberInput(attrs=attrs),
        error_messages={"invalid": f"{label} must be a number (or left empty when unknown)"},
    )


class FactGroup(NamedTuple):
    key: str
    label: str
    fields: list[forms.BoundField]


class ErrorLinks:
    """The error summary at the top of a form: (anchor id, message) per error, linking to its field."""

    fields: dict[str, forms.Field]

    def summary_fields(self) -> list[str]:
        """The fields in the order the page shows them."""
        return list(self.fields)

    def error_summary(self) -> list[tuple[str, str]]:
        form: Any = self
        summary = [("", str(message)) for message in form.non_field_errors()]
        for name in self.summary_fields():
            for message in form.errors.get(name, []):
                summary.append((self.anchor(name), str(message)))
        return summary

    def anchor(self, field_name: str) -> str:
        """The id of the first control of a field, where an error link should land."""
        form: Any = self
        field = self.fields[field_name]
        auto_id = form[field_name].auto_id
        if isinstance(field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
            return f"{auto_id}_0"
        return str(auto_id)


class PatientForm(ErrorLinks, forms.Form):
    """Every fact of the contract, grouped as on paper; each may stay unknown.

    After `is_valid()`, `profile` is the validated PatientProfile.
    """

    def __init__(self, *args: Any, modality_names: Mapping[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.profile: PatientProfile | None = None
        names = modality_names or {}
        for name in FACT_NAMES:
            if fact_kind(name) == "list":
                self.fields[PRIOR_MODE_FIELD] = forms.ChoiceField(
                    label=f"{fact_label(name)} known?",
                    choices=PRIOR_MODES,
                    initial=PRIOR_UNKNOWN,
                    required=False,
                    widget=forms.RadioSelect,
                    error_messages={"invalid_choice": "Choose unknown, none or these treatments"},
                )
            field = _fact_field(name, names)
            field.fact = FACT_META[name]  # type: ignore[attr-defined]
            self.fields[name] = field

    # --- how the page shows the form ---------------------------------------------------------

    @property
    def prior_mode(self) -> forms.BoundField:
        """Whether prior therapies are unknown, none or the ticked ones (shown with the boxes)."""
        return self[PRIOR_MODE_FIELD]

    def fact_groups(self) -> list[FactGroup]:
        """The fact fields by group, in the order of `GROUPS` (the mode of prior therapies is
        rendered with the prior therapies field, not on its own)."""
        groups = {key: FactGroup(key, label, []) for key, label in GROUPS}
        for name in FACT_NAMES:
            extra = PatientProfile.model_fields[name].json_schema_extra
            group = extra.get("group") if isinstance(extra, dict) else None
            groups[str(group)].fields.append(self[name])
        return [group for group in groups.values() if group.fields]

    def summary_fields(self) -> list[str]:
        """The facts in contract order, the prior-therapies choice before its boxes."""
        order: list[str] = []
        for name in FACT_NAMES:
            order += [PRIOR_MODE_FIELD, name] if fact_kind(name) == "list" else [name]
        return order

    # --- turning the fields into a profile ---------------------------------------------------

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        facts = self._facts(cleaned)
        try:
            self.profile = PatientProfile.model_validate(facts)
        except PydanticValidationError as exc:
            for error in error_list(exc):
                name = next((part for part in error["loc"] if part in self.fields), None)
                label = fact_label(name) if name else "Profile"
                self.add_error(name, f"{label} {error['msg']}")
        return cleaned

    def _facts(self, cleaned: Mapping[str, Any]) -> dict[str, Any]:
        facts: dict[str, Any] = {}
        for name in FACT_NAMES:
            if name not in cleaned:  # the text did not parse: already an error on the field
                continue
            kind = fact_kind(name)
            value = cleaned[name]
            if kind == "list":
                therapies = self._prior_therapies(name, cleaned.get(PRIOR_MODE_FIELD) or PRIOR_UNKNOWN, value)
                if therapies is not None:
                    facts[name] = therapies
            elif kind == "bool":
                if value in ("yes", "no"):
                    facts[name] = value == "yes"
            elif value not in (None, ""):
                facts[name] = value
        return facts

    def _prior_therapies(self, name: str, mode: str, ticked: Sequence[str]) -> list[str] | None:
        """None (unknown), [] (none) or the ticked modality keys; the mode and the ticks must agree."""
        ticked = list(ticked or [])
        if mode == PRIOR_GIVEN:
            if not ticked:
                self.add_error(name, "Tick the treatments already given, or choose unknown or none")
            return ticked or None
        if ticked:
            chosen = "none" if mode == PRIOR_NONE else "unknown"
            self.add_error(
                name,
                f"You ticked treatments but chose “{chosen}”: choose “These treatments” or untick them",
            )
            return None
        return [] if mode == PRIOR_NONE else None


def profile_initial(profile: PatientProfile) -> dict[str, Any]:
    """Form values that show a profile (for the what-if form): unknown stays unknown."""
    initial: dict[str, Any] = {}
    for name in FACT_NAMES:
        value = getattr(profile, name)
        kind = fact_kind(name)
        if kind == "list":
            if value is None:
                initial[PRIOR_MODE_FIELD] = PRIOR_UNKNOWN
            else:
                initial[PRIOR_MODE_FIELD] = PRIOR_GIVEN if value else PRIOR_NONE
                initial[name] = list(value)
        elif kind == "bool":
            initial[name] = UNKNOWN if value is None else ("yes" if value else "no")
        elif value is None:
            initial[name] = ""
        else:
            initial[name] = display_value(value) if isinstance(value, float) else value
    return initial


def encode_profile(profile: PatientProfile) -> str:
    """The profile as compact JSON for a hidden field (absent = unknown; [] = no prior therapy)."""
    return json.dumps(profile.model_dump(mode="json", exclude_none=True), separators=(",", ":"))


class WhatIfForm(PatientForm):
    """The facts again, prefilled with the current profile, plus that profile itself (`base`), so
    the result can be compared without any state kept on the server."""

    base = forms.CharField(widget=forms.HiddenInput, max_length=MAX_ENCODED_PROFILE)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.base_profile: PatientProfile | None = None

    def clean_base(self) -> str:
        text = self.cleaned_data["base"]
        try:
            self.base_profile = PatientProfile.model_validate(json.loads(text))
        except (ValueError, PydanticValidationError) as exc:  # JSONDecodeError is a ValueError
            raise forms.ValidationError(
                "The facts of the previous result could not be read. Start a new check."
            ) from exc
        return str(text)


# --- catalogue filter ---------------------------------------------------------------------------


class CatalogueFilterForm(forms.Form):
    category = forms.ChoiceField(
        label="Category",
        required=False,
        choices=[("", "All categories"), *CATEGORY_LABELS.items()],
        error_messages={"invalid_choice": "Choose one of the listed categories"},
    )
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
        help_text="Name, agent, description or rule, e.g. PRRT, lanreotide, Ki-67",
    )

    def criteria(self) -> dict[str, str]:
        """The valid filters as keyword arguments of `selectors.catalogue` (invalid ones are dropped)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"category": data.get("category") or "", "search": data.get("q") or ""}


# --- the MDT workflow: cases, reviews, meetings, outcomes ------------------------------------------
#
# The Django fields below only turn the posted text into values; what may be written is decided by
# the pydantic inputs of treatments/inputs.py (the same ones the API uses), whose readable messages
# (`error_list`) are put next to the fields they are about.


class InputForm(ErrorLinks, forms.Form):
    """A form whose cleaned values are validated by a pydantic input model (`input_model`).

    After `is_valid()`, `input` is the validated model. Blank values of the fields named in
    `blank_is_missing` are left out, so that pydantic says "is required" rather than "must be one
    of ...". Errors about a field of the form land on it, prefixed with its label; others (such as
    `version`) become errors of the whole form.
    """

    input_model: type[BaseModel]
    blank_is_missing: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.input: Any = None

    def input_data(self, cleaned: Mapping[str, Any]) -> dict[str, Any]:
        data = {name: cleaned[name] for name in self.fields if name in cleaned}
        for name in self.blank_is_missing:
            if data.get(name) in ("", None):
                data.pop(name, None)
        return data

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, field in self.fields.items():
            if field.widget.is_hidden and name in self.errors:  # nowhere to show it: say it on top
                for message in self.errors.pop(name):
                    self.add_error(None, message)
        if self.errors:  # a value did not even parse: it is reported on its field already
            return cleaned
        try:
            self.input = self.input_model.model_validate(self.input_data(cleaned))
        except PydanticValidationError as exc:
            for error in error_list(exc):
                self.add_input_error(error["loc"], error["msg"])
        return cleaned

    def add_input_error(self, loc: Sequence[Any], message: str) -> None:
        name = next((str(part) for part in loc if isinstance(part, str) and part in self.fields), None)
        if name is None or name == "version":
            self.add_error(None, "The form is out of date: reload the page and try again.")
        else:
            self.add_error(name, f"{self.fields[name].label} {message}")


def _text(label: str, *, max_length: int, rows: int = 0, **attrs: Any) -> forms.CharField:
    # Lenient on purpose (no `required`, a generous bound): the pydantic input gives the message.
    widget_attrs = {"maxlength": str(max_length), **attrs}
    widget = forms.Textarea(attrs={"rows": rows, **widget_attrs}) if rows else forms.TextInput(widget_attrs)
    return forms.CharField(label=label, required=False, widget=widget)


def _version_field() -> forms.IntegerField:
    return forms.IntegerField(
        required=False,
        min_value=1,
        widget=forms.HiddenInput,
        error_messages={"invalid": "The form is out of date: reload the page and try again."},
    )


CASE_FIELDS: tuple[str, ...] = (
    "hospital_reference",
    "nhs_number",
    "referring_clinician",
    "question",
    "clinical_summary",
    "status",
)


class CaseDetailsForm(InputForm):
    """The case's own fields (the facts are a PatientForm on the same page)."""

    # An emptied field is an error ("must not be empty"), not "leave unchanged"; only a blank
    # status means the default.
    blank_is_missing = ("status",)

    hospital_reference = _text(
        "Hospital reference", max_length=30, autocomplete="off", spellcheck="false", required=True
    )
    nhs_number = _text("NHS number", max_length=14, inputmode="numeric", autocomplete="off")
    referring_clinician = _text("Referring clinician", max_length=150, required=True)
    question = _text("Question for the MDT", max_length=2000, rows=3, required=True)
    clinical_summary = _text("Clinical summary", max_length=4000, rows=6)
    status = forms.ChoiceField(
        label="Status",
        choices=Case.Status.choices,
        initial=Case.Status.DRAFT,
        required=False,
        error_messages={"invalid_choice": "Status: choose one of the listed statuses"},
    )
    version = _version_field()

    HELP = {
        "hospital_reference": (
            "The hospital's reference for the patient (e.g. the MRN): letters, digits, / and -."
        ),
        "nhs_number": "10 digits; spaces are fine. Leave empty if not known.",
        "referring_clinician": "Who referred the patient, e.g. Dr A Khan, oncology.",
        "question": "What the MDT is asked to decide.",
        "clinical_summary": "History, imaging and pathology in brief.",
    }

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.input_model = CaseChange if editing else CaseCreate
        if not editing:
            del self.fields["version"]
        for name, text in self.HELP.items():
            self.fields[name].help_text = text

    def input_data(self, cleaned: Mapping[str, Any]) -> dict[str, Any]:
        data = super().input_data(cleaned)
        if self.input_model is CaseChange and data.get("version") is None:
            data.pop("version", None)
        return data


class CaseForm:
    """A case as entered on one page: its own fields and the patient's facts (PatientForm).

    After `is_valid()`, `input` is the CaseCreate (new case) or CaseChange (edit) to give the service.
    """

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        case: Case | None = None,
        modality_names: Mapping[str, str] | None = None,
    ):
        editing = case is not None
        details_initial: dict[str, Any] = {}
        facts_initial: dict[str, Any] | None = None
        if case is not None:
            details_initial = {name: getattr(case, name) for name in CASE_FIELDS}
            details_initial["version"] = case.version
            facts_initial = profile_initial(PatientProfile.model_validate(case.profile))
        self.details = CaseDetailsForm(data, editing=editing, initial=details_initial)
        self.facts = PatientForm(data, initial=facts_initial, modality_names=modality_names)
        self.input: CaseCreate | CaseChange | None = None

    @property
    def errors(self) -> bool:
        return bool(self.details.errors or self.facts.errors)

    def is_valid(self) -> bool:
        details_ok = self.details.is_valid()
        facts_ok = self.facts.is_valid()
        if not (details_ok and facts_ok) or self.details.input is None or self.facts.profile is None:
            return False
        self.input = self.details.input.model_copy(update={"profile": self.facts.profile})
        return True

    def error_summary(self) -> list[tuple[str, str]]:
        return self.details.error_summary() + self.facts.error_summary()

    def add_error(self, field: str | None, message: str) -> None:
        self.details.add_error(field, message)


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *Case.Status.choices],
        error_messages={"invalid_choice": "Choose one of the listed statuses"},
    )
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
        help_text="Reference, question or referring clinician",
    )
    archived = forms.BooleanField(label="Show archived cases only", required=False)

    def criteria(self) -> dict[str, Any]:
        """The valid filters as keyword arguments of `selectors.cases` (invalid ones are dropped)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "status": data.get("status") or None,
            "search": data.get("q") or "",
            "archived": bool(data.get("archived")),
        }


class ReviewForm(InputForm):
    """A clinician's review of one option; `prefix` is the modality key (one form per option)."""

    input_model = ReviewInput
    blank_is_missing = ("decision", "reason_code", "version")

    decision = forms.ChoiceField(
        label="Decision",
        choices=Review.Decision.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "Decision: choose accept, reject or defer"},
    )
    reason_code = forms.ChoiceField(
        label="Reason",
        choices=[("", "Choose a reason"), *Review.ReasonCode.choices],
        required=False,
        error_messages={"invalid_choice": "Reason: choose one of the listed reasons"},
    )
    note = _text("Note", max_length=2000, rows=2)
    version = _version_field()


class MeetingForm(InputForm):
    input_model = MeetingInput
    blank_is_missing = ("date",)

    title = _text("Title", max_length=200, required=True)
    date = forms.CharField(
        label="Date",
        required=False,
        max_length=40,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The day of the meeting.",
    )


class MeetingAddCaseForm(InputForm):
    """Choose one of the active cases that are not on the meeting's list yet."""

    input_model = MeetingCaseAdd
    blank_is_missing = ("case",)

    case = forms.ChoiceField(
        label="Case to add",
        required=False,
        error_messages={"invalid_choice": "Case to add: choose one of the listed cases"},
    )

    def __init__(self, *args: Any, cases: Sequence[Case] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["case"].choices = [("", "Choose a case")] + [  # type: ignore[attr-defined]
            (str(case.pk), f"{case.hospital_reference}: {_shorten(case.question, 70)}") for case in cases
        ]

    def input_data(self, cleaned: Mapping[str, Any]) -> dict[str, Any]:
        data = super().input_data(cleaned)
        if "case" in data:
            data["case"] = int(data["case"])
        return data


class OutcomeForm(InputForm):
    """The MDT's decision for a case: the options chosen from its evaluation, and the plan.

    `options` are the evaluation's options as (modality key, name, status), in display order.
    """

    input_model = OutcomeInput
    blank_is_missing = ("version",)

    chosen_modalities = forms.MultipleChoiceField(
        label="Options chosen",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Options chosen: %(value)s is not an option of this evaluation"},
    )
    plan = _text("Plan", max_length=4000, rows=3, required=True)
    version = _version_field()

    def __init__(self, *args: Any, options: Sequence[tuple[str, str, str]] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.statuses = {key: status for key, _, status in options}
        self.fields["chosen_modalities"].choices = [(key, name) for key, name, _ in options]  # type: ignore[attr-defined]

    def choices_with_status(self) -> list[tuple[BoundWidget, str]]:
        """Each checkbox with the status its option has in the evaluation."""
        return [
            (box, self.statuses.get(str(box.data["value"]), ""))
            for box in self["chosen_modalities"]  # type: ignore[attr-defined]
        ]


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class EvaluationCompareForm(forms.Form):
    """Two evaluations of a case to compare; `pair()` gives them oldest first."""

    before = forms.ChoiceField(
        label="Compare", error_messages={"invalid_choice": "Choose one of the listed evaluations"}
    )
    after = forms.ChoiceField(
        label="with", error_messages={"invalid_choice": "Choose one of the listed evaluations"}
    )

    def __init__(self, *args: Any, evaluations: Sequence[Evaluation], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.evaluations = {str(evaluation.pk): evaluation for evaluation in evaluations}
        choices = [
            (
                str(evaluation.pk),
                f"{timezone.localtime(evaluation.created_at):%d %b %Y, %H:%M}, "
                f"rule set {evaluation.ruleset_version}",
            )
            for evaluation in evaluations
        ]
        self.fields["before"].choices = choices  # type: ignore[attr-defined]
        self.fields["after"].choices = choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("before") and cleaned.get("before") == cleaned.get("after"):
            self.add_error("after", "Choose two different evaluations")
        return cleaned

    def pair(self) -> tuple[Evaluation, Evaluation]:
        chosen = [self.evaluations[self.cleaned_data[name]] for name in ("before", "after")]
        first, second = sorted(chosen, key=lambda evaluation: (evaluation.created_at, evaluation.pk))
        return first, second
