"""Writes: every change to clinical data goes through one of these functions (HackSoft "services").

Each is keyword-only, runs in one transaction, takes the acting user and records one audit event.
A refusal is a typed error from errors.py that each edge maps once. Everything is re-exported here.
"""

from .audit import Actor, audit_record, display_name, summary_exported
from .cases import (
    case_archive,
    case_create,
    case_evaluate,
    case_evaluate_once,
    case_update,
    option_review,
    refuse_archived,
    review_allowed,
    waiver_record,
    waiver_remove,
)
from .errors import (
    CaseAlreadyOnMeeting,
    CaseArchived,
    CaseNotOnMeeting,
    EditConflict,
    EvaluationSuperseded,
    FactsContradict,
    InvalidChange,
    NotEvaluated,
    OptionNotInEvaluation,
    OutcomeRecorded,
    ReferenceTaken,
    WorkflowError,
)
from .knowledge import (
    VersionConflict,
    default_path,
    knowledge_base_publish,
    knowledge_base_read,
    ruleset_publish,
)
from .meetings import (
    attendee_add,
    attendee_remove,
    meeting_add_case,
    meeting_create,
    meeting_remove_case,
    meeting_reorder,
    meeting_update,
    outcome_allowed,
    outcome_record,
)

__all__ = [
    "Actor",
    "CaseAlreadyOnMeeting",
    "CaseArchived",
    "CaseNotOnMeeting",
    "EditConflict",
    "EvaluationSuperseded",
    "FactsContradict",
    "InvalidChange",
    "NotEvaluated",
    "OptionNotInEvaluation",
    "OutcomeRecorded",
    "ReferenceTaken",
    "VersionConflict",
    "WorkflowError",
    "attendee_add",
    "attendee_remove",
    "audit_record",
    "case_archive",
    "case_create",
    "case_evaluate",
    "case_evaluate_once",
    "case_update",
    "default_path",
    "display_name",
    "knowledge_base_publish",
    "knowledge_base_read",
    "meeting_add_case",
    "meeting_create",
    "meeting_remove_case",
    "meeting_reorder",
    "meeting_update",
    "option_review",
    "outcome_allowed",
    "outcome_record",
    "refuse_archived",
    "review_allowed",
    "ruleset_publish",
    "summary_exported",
    "waiver_record",
    "waiver_remove",
]
