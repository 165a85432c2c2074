"""The MDT outcome letter to the GP and the referrer: one page, plain language, as a PDF.

Built from the recorded outcome only (the options chosen, the coded next steps and the plan), so the
page and the API send the same letter. The words for each next step live in the vocabulary
(NEXT_STEP_LETTER); the option names come from the knowledge base the evaluation was made with.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import User

from . import pdf, selectors
from .models import Outcome
from .rules.vocabulary import NEXT_STEP_LABELS, NEXT_STEP_LETTER, STATUS_LABELS


def letter_context(outcome: Outcome, *, user: User | None) -> dict[str, Any]:
    """What the letter says: who was discussed when, what was decided and what happens next."""
    entry = outcome.entry
    names = selectors.modality_names()
    chosen = [
        (names.get(key, key), STATUS_LABELS.get(outcome.statuses.get(key, ""), ""))  # type: ignore[call-overload]
        for key in outcome.chosen_modalities
    ]
    steps = [(NEXT_STEP_LABELS[step], NEXT_STEP_LETTER[step]) for step in outcome.next_steps]  # type: ignore[index]
    return {
        "case": entry.case,
        "meeting": entry.meeting,
        "outcome": outcome,
        "chosen": chosen,
        "steps": steps,
        "title": f"MDT outcome letter {entry.case.hospital_reference}",
        "user": user,
    }


def outcome_letter_pdf(outcome: Outcome, *, user: User | None) -> bytes:
    """The letter as an A4 PDF."""
    return pdf.render_pdf("treatments/pdf/outcome_letter.html", letter_context(outcome, user=user), None)


def letter_filename(outcome: Outcome) -> str:
    reference = re.sub(r"[^A-Za-z0-9-]+", "-", outcome.entry.case.hospital_reference).strip("-") or "case"
    return f"netcare-mdt-outcome-{reference}-{outcome.entry.meeting.date:%Y-%m-%d}.pdf"
