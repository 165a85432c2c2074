"""The Django field for each fact of the patient profile, built from PatientProfile.model_fields:
its label, unit, bounds, help and choices, so a new fact in the contract appears on the page by
itself. Every fact may stay unknown: yes/no facts are yes / no / unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, get_args

from django import forms

from ..rules.conditions import display_value
from ..rules.profile import (
    FACT_NAMES,
    MODALITY_KEYS,
    PatientProfile,
    PriorTherapyDetail,
    fact_choices,
    fact_kind,
    fact_label,
    fact_unit,
    find_literal,
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


# Prior-treatment detail rows (prior_therapy_details): at least this many, and one blank row more
# than the details already entered, up to one row per modality. No script is needed to add one.
DETAIL_FACT = "prior_therapy_details"


DETAIL_MIN_ROWS = 3


DETAIL_MAX_ROWS = len(MODALITY_KEYS)


DETAIL_PARTS = tuple(PriorTherapyDetail.model_fields)


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


def detail_field_name(row: int, part: str) -> str:
    """The form field of one part of one prior-treatment row: prior_therapy_details_0_modality."""
    return f"{DETAIL_FACT}_{row}_{part}"


def detail_meta(part: str) -> FactMeta:
    info = PriorTherapyDetail.model_fields[part]
    extra = info.json_schema_extra
    unit = str(extra.get("unit", "")) if isinstance(extra, dict) else ""
    bounds = {key: getattr(item, key) for item in info.metadata for key in ("ge", "le") if hasattr(item, key)}
    range_text = ""
    if "ge" in bounds and "le" in bounds:
        range_text = f"{display_value(bounds['ge'])} to {display_value(bounds['le'])} {unit}".strip()
    help_text = info.description if info.description and info.description != info.title else ""
    if part == "modality":
        help_text = "Also tick it in prior therapies."
    kind = {"progressed_on_treatment": "bool", "modality": "enum", "best_response": "enum"}.get(
        part, "number"
    )
    return FactMeta(part, kind, unit, help_text, range_text)


def detail_field(row: int, part: str, modality_names: Mapping[str, str]) -> forms.Field:
    """One part of a prior-treatment row; labels say the row so that errors read on their own."""
    info = PriorTherapyDetail.model_fields[part]
    label = str(info.title)
    where = f"Prior treatment {row + 1}: {label.lower() if part != 'modality' else 'treatment'}"
    field: forms.Field
    if part == "modality":
        choices = [("", "Choose a treatment")]
        choices += [(key, modality_names.get(key, display_value(key))) for key in MODALITY_KEYS]
        field = forms.ChoiceField(
            label=label,
            choices=choices,
            required=False,
            error_messages={"invalid_choice": f"{where}: choose a listed treatment"},
        )
    elif part == "best_response":
        choices = [("", "Unknown")] + [(value, value_label(value)) for value in detail_choices(part)]
        field = forms.ChoiceField(
            label=label,
            choices=choices,
            required=False,
            error_messages={"invalid_choice": f"{where}: choose one of the listed values"},
        )
    elif part == "progressed_on_treatment":
        field = forms.ChoiceField(
            label=label,
            choices=YES_NO_UNKNOWN,
            initial=UNKNOWN,
            required=False,
            widget=forms.RadioSelect,
            error_messages={"invalid_choice": f"{where}: choose yes, no or unknown"},
        )
    else:
        attrs = {"inputmode": "decimal", "placeholder": "unknown", "min": "0", "max": "600", "step": "any"}
        field = forms.FloatField(
            label=label,
            required=False,
            widget=forms.NumberInput(attrs=attrs),
            error_messages={"invalid": f"{where} must be a number (or left empty when unknown)"},
        )
    setattr(field, "fact", detail_meta(part))  # noqa: B010  (read by the templates, like FACT_META)
    setattr(field, "where", where)  # noqa: B010  (the row and part, for messages)
    return field


def detail_choices(part: str) -> tuple[str, ...]:
    literal = find_literal(PriorTherapyDetail.model_fields[part].annotation)
    return tuple(get_args(literal)) if literal is not None else ()


def fact_field(name: str, modality_names: Mapping[str, str]) -> forms.Field:
    meta = FACT_META[name]
    label = fact_label(name)
    kind = meta.kind
    if kind == "records":
        # Entered as rows of their own (detail_rows); this field only carries errors about the list.
        return forms.CharField(label=label, required=False, widget=forms.HiddenInput)
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
