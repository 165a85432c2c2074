"""The filter forms of the list pages: the catalogue and the cases (one shared search field)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from ..inputs import MAX_SEARCH_WORDS, control_character_problem
from ..models import Case
from ..rules.document import CATEGORY_LABELS


def _one_line(value: str) -> None:
    problem = control_character_problem(value)
    if problem:
        raise ValidationError(f"Search {problem}")


def _few_words(value: str) -> None:
    if len(value.split()) > MAX_SEARCH_WORDS:
        raise ValidationError(f"Search must be at most {MAX_SEARCH_WORDS} words")


def search_field(help_text: str) -> forms.CharField:
    """The search box of a list page: words, at most 100 characters, MAX_SEARCH_WORDS words, and no
    control characters (a NUL reached PostgreSQL as a 500: security review F7)."""
    return forms.CharField(
        label="Search",
        required=False,
        max_length=100,
        validators=[_one_line, _few_words],
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
        help_text=help_text,
    )


class CatalogueFilterForm(forms.Form):
    category = forms.ChoiceField(
        label="Category",
        required=False,
        choices=[("", "All categories"), *CATEGORY_LABELS.items()],
        error_messages={"invalid_choice": "Choose one of the listed categories"},
    )
    q = search_field("Name, agent, description or rule, e.g. PRRT, lanreotide, Ki-67")

    def criteria(self) -> dict[str, str]:
        """The valid filters as keyword arguments of `selectors.catalogue` (invalid ones are dropped)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {"category": data.get("category") or "", "search": data.get("q") or ""}


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *Case.Status.choices],
        error_messages={"invalid_choice": "Choose one of the listed statuses"},
    )
    q = search_field("Reference, question or referring clinician")
    archived = forms.BooleanField(label="Show archived cases only", required=False)

    def criteria(self) -> dict[str, Any]:
        """The valid filters as keyword arguments of `selectors.case_list` (invalid ones are dropped)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "status": data.get("status") or None,
            "search": data.get("q") or "",
            "archived": bool(data.get("archived")),
        }
