"""Why a write was refused, as data: each error says how every edge (page, API, CLI) answers it.

Services raise these; `api/exceptions.py` and `views/common.py` each map them once, DRF-style
(an error class declares its `status`, `code` and the input field at fault, `loc`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models

from ..models import Case


class WorkflowError(Exception):
    """A write the workflow does not allow. `str(exc)` is the message, in lower case mid-sentence."""

    status: ClassVar[int] = 409
    code: ClassVar[str] = "workflow"
    title: ClassVar[str] = "Not allowed"

    def __init__(self, message: str, loc: list[str | int] | None = None):
        super().__init__(message)
        self.loc = loc

    @property
    def sentence(self) -> str:
        """The message as a sentence of its own, for a page."""
        text = str(self)
        return text[:1].upper() + text[1:]

    @property
    def advice(self) -> str:
        """What a page says under the title: by default the message itself."""
        return self.sentence


class InvalidChange(WorkflowError):
    """The input names something the workflow cannot accept (an unknown option, a bad order)."""

    status = 400
    code = "invalid"


class CaseArchived(WorkflowError):
    code = "case_archived"
    title = "The case is archived"

    def __init__(self, case: Case):
        super().__init__(f"{case} is archived and can no longer be changed")
        self.case = case


class ReferenceTaken(WorkflowError):
    code = "reference_taken"

    def __init__(self, reference: str):
        super().__init__(f"a case with hospital reference {reference} already exists", ["hospital_reference"])


class EvaluationSuperseded(WorkflowError):
    code = "evaluation_superseded"
    title = "A newer evaluation exists"

    def __init__(self) -> None:
        super().__init__("a newer evaluation of this case exists: review the options of the latest one")


class OptionNotInEvaluation(InvalidChange):
    code = "no_such_option"

    def __init__(self, names: str, loc: list[str | int]):
        super().__init__(f"the evaluation has no option {names}", loc)


class CaseNotOnMeeting(WorkflowError):
    code = "not_on_meeting"
    title = "Not on this meeting's list"

    def __init__(self, case: models.Model):
        super().__init__(f"{case} is not on this meeting's list")


class CaseAlreadyOnMeeting(WorkflowError):
    code = "already_on_meeting"

    def __init__(self, case: models.Model):
        super().__init__(f"{case} is already on this meeting's list", None)


class OutcomeRecorded(WorkflowError):
    code = "outcome_recorded"

    def __init__(self, case: models.Model):
        super().__init__(f"the outcome for {case} is recorded; it stays on the list")


class NotEvaluated(WorkflowError):
    code = "not_evaluated"

    def __init__(self, case: models.Model):
        super().__init__(f"{case} has no evaluation yet: evaluate it before recording the outcome")
        self.case = case
        self.title = f"{case} has not been evaluated"  # type: ignore[misc]

    @property
    def advice(self) -> str:
        return "Evaluate the case before recording the MDT's decision."


class FactsContradict(WorkflowError):
    """A case saved before contract 1.2 whose facts 1.2 refuses: it is not evaluated until corrected."""

    code = "facts_contradict"
    title = "The case's facts contradict each other"

    def __init__(self, case: models.Model, problems: list[str]):
        super().__init__(f"{case} cannot be evaluated until its facts are corrected: {'; '.join(problems)}")

    @property
    def advice(self) -> str:
        return self.sentence + ". Edit the case to correct them, then evaluate it."


class EditConflict(Exception):
    """Someone else saved a newer version first. `current` is what they saved (None if removed)."""

    code = "conflict"
    status = 409

    def __init__(self, message: str, current: models.Model | None):
        super().__init__(message)
        self.current = current

    @property
    def sentence(self) -> str:
        text = str(self)
        return text[:1].upper() + text[1:]


# --- rule governance (services/governance.py) ------------------------------------------------------


class NotAllowed(WorkflowError):
    """The user's role allows the action in general, but not on this object (e.g. their own draft)."""

    status = 403
    code = "not_allowed"
    title = "Not allowed for you"


class VersionTaken(WorkflowError):
    code = "version_taken"
    title = "The version label is taken"

    def __init__(self, message: str):
        super().__init__(message, ["version"])


class NotADraft(WorkflowError):
    code = "not_a_draft"
    title = "Not a draft"

    def __init__(self, rule_set: models.Model):
        super().__init__(f"{rule_set} is not a draft: a published or retired version never changes")


class StaleChecksum(WorkflowError):
    code = "stale_checksum"
    title = "The draft has changed"

    def __init__(self, current: str):
        super().__init__(
            f"the draft has been revised since you read it (its checksum is now {current}): read it again",
            ["checksum"],
        )
        self.current = current


class InvalidKnowledgeBase(InvalidChange):
    """An uploaded knowledge base with mistakes: each problem names file, modality, rule and field."""

    code = "invalid_knowledge_base"
    title = "The knowledge base has mistakes"

    def __init__(self, problems: list[Any]):
        super().__init__(f"{len(problems)} problem(s) found; nothing was saved")
        self.problems = problems


class GatesFailed(WorkflowError):
    """Publication refused: the gates, each with whether it passed and why not."""

    code = "gates_failed"
    title = "Not ready to publish"

    def __init__(self, gates: list[Any]):
        failed = [gate for gate in gates if not gate.ok]
        super().__init__("; ".join(f"{gate.gate}: {gate.why}" for gate in failed))
        self.gates = gates
