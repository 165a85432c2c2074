"""Forms of the FHIR pages: upload a Bundle (to import into a case, or to start a new case), and
choose which imported facts to accept."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from .. import selectors
from ..fhir.mapping import FhirInputError
from .base import ErrorLinks


def fhir_error_message(error: FhirInputError) -> str:
    """A refusal of the mapping in words, naming the element: "the patient is recorded as deceased
    (Bundle.entry[0].resource.deceasedBoolean)"."""
    where = error.location
    detail = error.errors[0]["msg"] if error.errors else ""
    return f"{error.message} ({where}{': ' + detail if detail and detail not in error.message else ''})"


class FhirUploadForm(ErrorLinks, forms.Form):
    """A FHIR R4 Bundle as a JSON file, and the day its data are read as of."""

    bundle = forms.FileField(
        label="FHIR Bundle (JSON file)",
        help_text="A FHIR R4 Bundle exported from the EHR (application/fhir+json or .json).",
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json,application/fhir+json"}),
    )
    as_of = forms.DateField(
        label="Read the data as of",
        required=False,
        help_text="Leave empty for today. Values older than their freshness window are not used.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.data_bundle: dict[str, Any] | None = None

    def clean_bundle(self) -> Any:
        upload = self.cleaned_data["bundle"]
        limit: int = settings.NETCARE_FHIR_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(f"FHIR Bundle: the file is larger than {limit:,} bytes")
        try:
            self.data_bundle = selectors.fhir_load(upload.read())
        except FhirInputError as error:
            raise forms.ValidationError(f"FHIR Bundle: {fhir_error_message(error)}") from None
        return upload

    def refuse(self, error: FhirInputError) -> None:
        """The mapping refused the bundle: say why by the file field."""
        self.add_error("bundle", f"FHIR Bundle: {fhir_error_message(error)}")


class FhirNewCaseForm(FhirUploadForm):
    """A new case from a Bundle: the hospital reference and NHS number come from the Patient where
    it has them (validated as the case form validates them); the question is the MDT's."""

    hospital_reference = forms.CharField(
        label="Hospital reference",
        max_length=30,
        required=False,
        help_text="Leave empty to take the Patient's hospital identifier (e.g. the MRN) from the Bundle.",
    )
    referring_clinician = forms.CharField(label="Referring clinician", max_length=150)
    question = forms.CharField(
        label="Question for the MDT", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
