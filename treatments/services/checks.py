"""A patient check saved as a case: the case, its first evaluation and, if asked, its place on an
upcoming meeting's list, in one transaction (all or nothing), each step audited by its own service."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from ..inputs import CaseCreate
from ..models import Case, Evaluation, Meeting
from .cases import case_create, case_evaluate
from .meetings import meeting_add_case


@transaction.atomic
def case_create_from_check(
    *, actor: User, data: CaseCreate, meeting: Meeting | None = None
) -> tuple[Case, Evaluation]:
    """Create the case with the checked facts (`data.profile`), evaluate it with the published rule
    set, and put it on `meeting` when given. ReferenceTaken (or any refusal) leaves nothing behind."""
    case = case_create(actor=actor, data=data)
    evaluation = case_evaluate(actor=actor, case=case)
    if meeting is not None:
        meeting_add_case(actor=actor, meeting=meeting, case=case)
    return case, evaluation
