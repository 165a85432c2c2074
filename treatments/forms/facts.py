"""The patient's facts as a form: the patient check (built from PatientProfile) and what-if.

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
from pydantic import ValidationError as PydanticValidationError

from ..rules.conditions import display_value
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
from .base import ErrorLinks

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
# The what-if form carries the profile it started from; refuse anything far larger than a profile.
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
