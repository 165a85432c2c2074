"""Helpers for the MDT page tests: cases and meetings made through the services, the case form as
a browser posts it, and the audit trail."""

from __future__ import annotations

import datetime as dt
import html as htmlmod
import re
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from tests.pages.helpers import form_data, golden
from treatments import services
from treatments.inputs import CaseCreate, MeetingInput, OutcomeInput
from treatments.models import AuditEvent, Case, Meeting
from treatments.rules.profile import PatientProfile

QUESTION = "Progressive disease on lanreotide: which treatment next?"


def create_case(
    actor: User, reference: str = "NET-1001", profile: dict[str, Any] | None = None, **fields: Any
) -> Case:
    data = CaseCreate(
        hospital_reference=reference,
        referring_clinician=fields.pop("referring_clinician", "Dr A Khan, oncology"),
        question=fields.pop("question", QUESTION),
        profile=PatientProfile.model_validate(profile or {}),
        **fields,
    )
    return services.case_create(actor=actor, data=data)


def evaluated_case(
    actor: User, reference: str = "NET-1001", vignette: str = "01_si_g2_progressive_nhs"
) -> Case:
    case = create_case(actor, reference, golden(vignette)["profile"])
    services.case_evaluate(actor=actor, case=case)
    return case


def create_meeting(actor: User, title: str = "NET MDT", days: int = 7) -> Meeting:
    date = timezone.localdate() + dt.timedelta(days=days)
    return services.meeting_create(actor=actor, data=MeetingInput(title=title, date=date))


def decided_at_a_meeting(actor: User, case: Case, chosen: list[str], plan: str) -> Meeting:
    """A new meeting with the case on its list and the MDT's outcome recorded."""
    meeting = create_meeting(actor)
    services.meeting_add_case(actor=actor, meeting=meeting, case=case)
    services.outcome_record(
        actor=actor,
        meeting=meeting,
        case=case,
        data=OutcomeInput.model_validate({"chosen_modalities": chosen, "plan": plan}),
    )
    return meeting


def case_post(profile: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """The case form as a browser posts it: the case's fields and the facts (left out = unknown)."""
    data = {
        "hospital_reference": "NET-2001",
        "nhs_number": "",
        "referring_clinician": "Dr A Khan, oncology",
        "question": QUESTION,
        "clinical_summary": "",
        "status": "draft",
        "funding": "nhs",
        **form_data(profile or {}),
    }
    data.update({name: value for name, value in fields.items()})
    return data


def actions(**filters: Any) -> list[str]:
    """The audit trail's actions, oldest first."""
    return list(AuditEvent.objects.filter(**filters).order_by("at", "id").values_list("action", flat=True))


def field_error(html: str, field_id: str) -> str:
    """The error text shown next to a field (its `<p class="field-error" id="..._error">`)."""
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}_error">(.*?)</p>', html, re.S)
    assert match, f"no error shown next to {field_id}"
    return re.sub(r"<[^>]+>", " ", match.group(1))


def text(html: str) -> str:
    """The page's text with tags removed and white space collapsed (for phrases across tags)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(htmlmod.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def from_tag(html: str, marker: str, length: int = 4000) -> str:
    """The markup from the start of the tag that holds `marker` (e.g. an id), `length` characters."""
    start = html.rindex("<", 0, html.index(marker))
    return html[start : start + length]
