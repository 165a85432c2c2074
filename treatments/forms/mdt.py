"""The forms of the MDT workflow: a case (its own fields and the patient's facts), a review of an
option, a meeting, adding a case to it, the outcome, and the choice of two evaluations to compare.

The Django fields below only turn the posted text into values; what may be written is decided by
the pydantic inputs of treatments/inputs.py (the same ones the API uses), whose readable messages
(`error_list`) are put next to the fields they are about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.forms.boundfield import BoundWidget
from django.utils import timezone
from pydantic import BaseModel

from ..inputs import (
    AttendeeInput,
    CaseChange,
    CaseCreate,
    MeetingCaseAdd,
    MeetingChange,
    MeetingInput,
    OutcomeRecord,
    ReviewInput,
    WaiverInput,
)
from ..models import Case, Evaluation, Meeting, Review
from ..rules.vocabulary import MDT_ROLE_LABELS, NEXT_STEP_LABELS, REASON_CODE_LABELS, REASON_CODES_BY_DECISION
from .base import InputForm
from .facts import PatientForm, profile_initial


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


class CaseFromCheckForm(CaseDetailsForm):
    """A patient check saved as a case: the case's own fields (the facts come from the check, in the
    page's link) and, optionally, an upcoming meeting to put it on. `meetings` are those offered;
    None when the user may not manage meetings (there is then no such field)."""

    meeting = forms.ChoiceField(
        label="Add to meeting",
        required=False,
        error_messages={"invalid_choice": "Add to meeting: choose one of the listed meetings"},
    )

    def __init__(self, *args: Any, meetings: Sequence[Meeting] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.meetings = {str(meeting.pk): meeting for meeting in meetings or ()}
        if meetings is None:
            del self.fields["meeting"]
            return
        self.fields["meeting"].help_text = (
            "Put the new case on the list of an upcoming meeting."
            if meetings
            else "No meeting is planned: add the case to one from the meeting's page later."
        )
        self.fields["meeting"].choices = [("", "Not now")] + [  # type: ignore[attr-defined]
            (str(meeting.pk), f"{meeting.title}, {meeting.date:%a %d %b %Y}") for meeting in meetings
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "meeting" not in self.fields and self.data.get("meeting"):
            self.add_error(None, "Your role may not add cases to meetings: nothing was saved")
        return cleaned

    def input_data(self, cleaned: Mapping[str, Any]) -> dict[str, Any]:
        data = super().input_data(cleaned)
        data.pop("meeting", None)  # not a field of the case: the view passes it to the service
        return data

    def chosen_meeting(self) -> Meeting | None:
        return self.meetings.get(self.cleaned_data.get("meeting") or "")


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
            facts_initial = profile_initial(case.facts)
        self.details = CaseDetailsForm(data, editing=editing, initial=details_initial)
        self.facts = PatientForm(data, initial=facts_initial, modality_names=modality_names)
        self.input: CaseCreate | CaseChange | None = None

    @property
    def has_errors(self) -> bool:
        return bool(self.details.errors or self.facts.errors)

    @property
    def fields(self) -> dict[str, Any]:
        """The case's own fields (where a refusal naming one of them is shown)."""
        return dict(self.details.fields)

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


def reason_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The reason codes grouped by the decision they fit (vocabulary REASON_CODES_BY_DECISION)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for code, label in REASON_CODE_LABELS.items():
        fits = [decision for decision, codes in REASON_CODES_BY_DECISION.items() if code in codes]
        title = f"Reasons to {fits[0]}" if len(fits) == 1 else "Reasons for " + " or ".join(fits)
        groups.setdefault(title, []).append((code, label))
    return list(groups.items())


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
        choices=[("", "Choose a reason"), *reason_groups()],
        required=False,
        help_text="Choose a reason that fits the decision.",
        error_messages={"invalid_choice": "Reason: choose one of the listed reasons"},
    )
    note = _text("Note", max_length=2000, rows=2)
    version = _version_field()


class MeetingForm(InputForm):
    input_model: type[BaseModel] = MeetingInput
    blank_is_missing: tuple[str, ...] = ("date",)

    title = _text("Title", max_length=200, required=True)
    date = forms.CharField(
        label="Date",
        required=False,
        max_length=40,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The day of the meeting.",
    )


class MeetingEditForm(MeetingForm):
    """A meeting's title and date changed, from the version shown (a newer one is a conflict)."""

    input_model = MeetingChange
    blank_is_missing = ("date", "version")

    version = _version_field()


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

    input_model = OutcomeRecord
    blank_is_missing = ("version", "evaluation")

    chosen_modalities = forms.MultipleChoiceField(
        label="Options chosen",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Options chosen: %(value)s is not an option of this evaluation"},
    )
    next_steps = forms.MultipleChoiceField(
        label="Next steps",
        required=False,
        choices=list(NEXT_STEP_LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Next steps: %(value)s is not one of the listed steps"},
    )
    plan = _text("Plan", max_length=4000, rows=3, required=True)
    version = _version_field()
    evaluation = _version_field()  # the id of the evaluation whose options the form shows

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
        # Numbered from the first (#1) and to the second, so that two made in the same minute differ.
        choices = [
            (
                str(evaluation.pk),
                f"#{len(evaluations) - index}: "
                f"{timezone.localtime(evaluation.created_at):%d %b %Y, %H:%M:%S}, "
                f"rule set {evaluation.ruleset_version}",
            )
            for index, evaluation in enumerate(evaluations)
        ]
        self.labels = dict(choices)
        self.fields["before"].choices = choices  # type: ignore[attr-defined]
        self.fields["after"].choices = choices  # type: ignore[attr-defined]

    def label_of(self, evaluation: Evaluation) -> str:
        """How the choices name an evaluation: its number, time to the second, and rule set."""
        return self.labels.get(str(evaluation.pk), str(evaluation))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("before") and cleaned.get("before") == cleaned.get("after"):
            self.add_error("after", "Choose two different evaluations")
        return cleaned

    def pair(self) -> tuple[Evaluation, Evaluation]:
        chosen = [self.evaluations[self.cleaned_data[name]] for name in ("before", "after")]
        first, second = sorted(chosen, key=lambda evaluation: (evaluation.created_at, evaluation.pk))
        return first, second


class PatientSheetForm(forms.Form):
    """The options a patient options sheet explains (a GET form: the sheet's URL names them)."""

    option = forms.MultipleChoiceField(
        label="Options to explain",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one option to explain",
            "invalid_choice": "%(value)s is not an option of the knowledge base",
        },
    )

    def __init__(self, *args: Any, modalities: Sequence[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["option"].choices = list(modalities)  # type: ignore[attr-defined]


class WaiverForm(InputForm):
    """Mark one unknown fact of a case "not needed", with the reason."""

    input_model = WaiverInput
    blank_is_missing = ("fact",)

    fact = forms.CharField(required=False, widget=forms.HiddenInput)
    reason = _text("Why it is not needed", max_length=300, required=True)


class AttendeeForm(InputForm):
    """Someone present at the meeting, with their role."""

    input_model = AttendeeInput
    blank_is_missing = ("role",)

    name = _text("Name", max_length=150, required=True, autocomplete="off")
    role = forms.ChoiceField(
        label="Role",
        choices=[("", "Choose a role"), *MDT_ROLE_LABELS.items()],
        required=False,
        error_messages={"invalid_choice": "Role: choose one of the listed roles"},
    )
