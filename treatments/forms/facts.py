"""The patient's facts as a form: the patient check (built from PatientProfile) and what-if.

The patient form is generated from `PatientProfile.model_fields`, so a new fact in the contract
appears on the page with its label, group, unit, help and bounds. Django fields only turn text into
values; the profile itself is validated by `PatientProfile.model_validate`, whose messages
(`error_list`) are put next to the fields they are about. Every fact may stay unknown: yes/no facts
are yes / no / unknown, and prior therapies keep "unknown" (absent) apart from "none" (empty list).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlencode

from django import forms
from pydantic import ValidationError as PydanticValidationError

from ..rules.conditions import display_value
from ..rules.profile import (
    ADVANCED_GROUPS,
    FACT_NAMES,
    GROUPS,
    PatientProfile,
    error_list,
    fact_kind,
    fact_label,
)
from .base import ErrorLinks
from .fields import (
    DETAIL_FACT,
    DETAIL_MAX_ROWS,
    DETAIL_MIN_ROWS,
    DETAIL_PARTS,
    FACT_META,
    PRIOR_GIVEN,
    PRIOR_MODE_FIELD,
    PRIOR_MODES,
    PRIOR_NONE,
    PRIOR_UNKNOWN,
    UNKNOWN,
    detail_field,
    detail_field_name,
    fact_field,
)

# The what-if form carries the profile it started from; refuse anything far larger than a profile.
MAX_ENCODED_PROFILE = 20_000  # characters: a full profile is well under 2,000
# A result's link carries its facts in the query string (GET /check/?...). The check form's own GET
# without JavaScript sends every field: under 6,900 characters even with every treatment ticked and
# every prior-treatment row filled with the longest values (a page test measures it). gunicorn
# refuses request lines over 8,190 (gunicorn.conf.py); a longer query was not made by NETcare.
MAX_RESULT_QUERY = 7_500  # characters


class FactGroup(NamedTuple):
    """A group of the form. A folded group (rarely needed facts) is shown closed unless one of its
    fields has a value or an error (`open`)."""

    key: str
    label: str
    fields: list[forms.BoundField]
    folded: bool = False
    open: bool = True
    filled: int = 0  # how many of its facts have a value (said on the folded group's summary)


class DetailRow(NamedTuple):
    """One prior-treatment row of the form: its number (from 1) and its fields by part."""

    number: int
    fields: list[forms.BoundField]


class PatientForm(ErrorLinks, forms.Form):
    """Every fact of the contract, grouped as on paper; each may stay unknown.

    After `is_valid()`, `profile` is the validated PatientProfile.
    """

    def __init__(
        self,
        *args: Any,
        modality_names: Mapping[str, str] | None = None,
        from_link: bool = False,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.profile: PatientProfile | None = None
        # Facts read from a link (a result's query string): a name that is not a field of the form
        # (an old link, a typo) is an error, never silently read as unknown.
        self.from_link = from_link
        names = modality_names or {}
        self.detail_count = self._detail_rows(kwargs.get("initial") or {})
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
            field = fact_field(name, names)
            field.fact = FACT_META[name]  # type: ignore[attr-defined]
            self.fields[name] = field
            if fact_kind(name) == "records":
                for row in range(self.detail_count):
                    for part in DETAIL_PARTS:
                        self.fields[detail_field_name(row, part)] = detail_field(row, part, names)
        # Which row of the form each item of the profile's prior_therapy_details came from.
        self._detail_rows_used: list[int] = []

    def _detail_rows(self, initial: Mapping[str, Any]) -> int:
        """Rows for the details: those entered (posted or saved), one blank more, at least the minimum."""
        used = -1
        sources = [initial] + ([self.data] if self.is_bound else [])
        for source in sources:
            for key in source:
                match = re.fullmatch(
                    rf"{self.add_prefix(DETAIL_FACT)}_(\d+)_\w+|{DETAIL_FACT}_(\d+)_\w+", key
                )
                if match:
                    used = max(used, int(match.group(1) or match.group(2)))
        entered = used + 1
        extra = 0 if self.is_bound else 1
        return max(DETAIL_MIN_ROWS, min(DETAIL_MAX_ROWS, entered + extra))

    # --- how the page shows the form ---------------------------------------------------------

    @property
    def prior_mode(self) -> forms.BoundField:
        """Whether prior therapies are unknown, none or the ticked ones (shown with the boxes)."""
        return self[PRIOR_MODE_FIELD]

    def detail_rows(self) -> list[DetailRow]:
        """The prior-treatment rows, each with its fields in the order of PriorTherapyDetail."""
        return [
            DetailRow(row + 1, [self[detail_field_name(row, part)] for part in DETAIL_PARTS])
            for row in range(self.detail_count)
        ]

    def fact_groups(self) -> list[FactGroup]:
        """The fact fields by group, in the order of `GROUPS` (the mode of prior therapies is
        rendered with the prior therapies field, not on its own). The groups of rarely needed facts
        (profile.ADVANCED_GROUPS) are folded, and open when a field in them has a value or an error."""
        fields: dict[str, list[forms.BoundField]] = {key: [] for key, _ in GROUPS}
        for name in FACT_NAMES:
            extra = PatientProfile.model_fields[name].json_schema_extra
            group = extra.get("group") if isinstance(extra, dict) else None
            fields[str(group)].append(self[name])
        groups = []
        for key, label in GROUPS:
            if not fields[key]:
                continue
            names = [bound.name for bound in fields[key]]
            if DETAIL_FACT in names:
                names += [
                    detail_field_name(row, part) for row in range(self.detail_count) for part in DETAIL_PARTS
                ]
            filled = sum(1 for name in names if _has_value(self[name]) and name != DETAIL_FACT)
            if DETAIL_FACT in names:  # count the rows entered, not each of their parts
                filled = sum(
                    1 for row in self.detail_rows() if any(_has_value(field) for field in row.fields)
                )
            errors = any(self[name].errors for name in names)
            folded = key in ADVANCED_GROUPS
            groups.append(
                FactGroup(key, label, fields[key], folded, not folded or errors or filled > 0, filled)
            )
        return groups

    def summary_fields(self) -> list[str]:
        """The facts in contract order, the prior-therapies choice before its boxes and the detail
        rows where their fact is."""
        order: list[str] = []
        for name in FACT_NAMES:
            if fact_kind(name) == "list":
                order += [PRIOR_MODE_FIELD, name]
            elif fact_kind(name) == "records":
                order += [name] + [
                    detail_field_name(row, part) for row in range(self.detail_count) for part in DETAIL_PARTS
                ]
            else:
                order.append(name)
        return order

    def anchor(self, field_name: str) -> str:
        if field_name == DETAIL_FACT:  # the list itself: land on the first row
            return super().anchor(detail_field_name(0, DETAIL_PARTS[0]))
        return super().anchor(field_name)

    # --- turning the fields into a profile ---------------------------------------------------

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.from_link and self._link_problems():
            return cleaned
        facts = self._facts(cleaned)
        try:
            self.profile = PatientProfile.model_validate(facts)
        except PydanticValidationError as exc:
            for error in error_list(exc):
                self._add_profile_error(list(error["loc"]), error["msg"])
        return cleaned

    def _link_problems(self) -> bool:
        """Whether the link is refused as a whole: too long, or naming what is not a fact here."""
        data: Any = self.data
        text = data.urlencode() if hasattr(data, "urlencode") else urlencode(data, doseq=True)
        if len(text) > MAX_RESULT_QUERY:
            self.add_error(
                None,
                f"This link is longer than any NETcare result link ({len(text):,} characters, at most "
                f"{MAX_RESULT_QUERY:,}): it was not read. Enter the facts below",
            )
            return True
        unknown = sorted(name for name in data if name not in self.fields)
        for name in unknown[:5]:
            self.add_error(
                None,
                f"The link names “{name[:40]}”, which is not a fact of this form (an old or altered "
                "link?): nothing was evaluated. Check the facts below and show the options again",
            )
        return bool(unknown)

    def _add_profile_error(self, loc: list[Any], message: str) -> None:
        """Put an error of the profile by its field: a fact's own field, or the part of the
        prior-treatment row an item of prior_therapy_details came from."""
        loc = [part for part in loc if part != "profile"]
        if loc[:1] == [DETAIL_FACT] and len(loc) >= 2 and isinstance(loc[1], int):
            row = self._detail_rows_used[loc[1]] if loc[1] < len(self._detail_rows_used) else 0
            part = str(loc[2]) if len(loc) > 2 and loc[2] in DETAIL_PARTS else DETAIL_PARTS[0]
            name = detail_field_name(row, part)
            self.add_error(name, f"{self.fields[name].where} {message}")  # type: ignore[attr-defined]
            return
        found = next((str(part) for part in loc if isinstance(part, str) and part in self.fields), None)
        label = fact_label(found) if found else "Profile"
        self.add_error(found, f"{label} {message}")

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
            elif kind == "records":
                details = self._details(cleaned)
                if details:
                    facts[name] = details
            elif kind == "bool":
                if value in ("yes", "no"):
                    facts[name] = value == "yes"
            elif value not in (None, ""):
                facts[name] = value
        return facts

    def _details(self, cleaned: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The rows that say something, as prior_therapy_details items; a row needs its treatment."""
        details: list[dict[str, Any]] = []
        self._detail_rows_used = []
        for row in range(self.detail_count):
            values = {part: cleaned.get(detail_field_name(row, part)) for part in DETAIL_PARTS}
            item: dict[str, Any] = {}
            for part, value in values.items():
                if part == "progressed_on_treatment":
                    if value in ("yes", "no"):
                        item[part] = value == "yes"
                elif value not in (None, ""):
                    item[part] = value
            if not item:
                continue
            if "modality" not in item:
                name = detail_field_name(row, "modality")
                self.add_error(
                    name, f"Prior treatment {row + 1}: choose the treatment these details are about"
                )
                continue
            details.append(item)
            self._detail_rows_used.append(row)
        return details

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
        elif kind == "records":
            for row, detail in enumerate(value or ()):
                for part in DETAIL_PARTS:
                    item = getattr(detail, part)
                    if part == "progressed_on_treatment":
                        item = UNKNOWN if item is None else ("yes" if item else "no")
                    elif isinstance(item, float):
                        item = display_value(item)
                    initial[detail_field_name(row, part)] = "" if item is None else item
        elif kind == "bool":
            initial[name] = UNKNOWN if value is None else ("yes" if value else "no")
        elif value is None:
            initial[name] = ""
        else:
            initial[name] = display_value(value) if isinstance(value, float) else value
    return initial


def profile_query(profile: PatientProfile) -> str:
    """The facts of a profile as the query string of a result's link: what the patient form would
    send, without the facts left unknown (absent means unknown). The profile holds no identifiers,
    so neither does the link."""
    pairs: list[tuple[str, str]] = []
    for name, value in profile_initial(profile).items():
        values = value if isinstance(value, list) else [value]
        pairs += [(name, str(item)) for item in values if item not in ("", None, UNKNOWN, PRIOR_UNKNOWN)]
    # A profile of unknowns still needs a query: /check/ with none is the empty form, not a result.
    return urlencode(pairs or [(PRIOR_MODE_FIELD, PRIOR_UNKNOWN)])


def _has_value(field: forms.BoundField) -> bool:
    """Whether a field shows something other than unknown (for opening a folded group)."""
    value = field.value()
    if isinstance(value, list | tuple):
        return bool(value)
    return value not in (None, "", UNKNOWN)


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
        # JSONDecodeError is a ValueError; deeply nested arrays ("[" * 9999) exhaust the parser's
        # recursion (it was a 500, security review F7).
        except (ValueError, RecursionError, PydanticValidationError) as exc:
            raise forms.ValidationError(
                "The facts of the previous result could not be read. Start a new check."
            ) from exc
        return str(text)
