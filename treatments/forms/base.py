"""The bridge from Django forms to the pydantic inputs: a form whose cleaned values are validated by
the same model the API uses, and error summaries whose links lead to the fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from ..rules.profile import (
    error_list,
)


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
        if name is None or name == "version" or self.fields[name].widget.is_hidden:
            self.add_error(None, "The form is out of date: reload the page and try again.")
        else:
            self.add_error(name, f"{self.fields[name].label} {message}")
