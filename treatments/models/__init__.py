"""NETcare's data, by area: the knowledge base, the MDT workflow, the audit trail, API tokens and
CDS Hooks clients and calls.

Everything is re-exported here, so `treatments.models.Case` (and migration 0003's
`treatments.models.validate_nhs_number`) keep working whatever module a model lives in.
"""

from .audit import AuditEvent, AuditEventQuerySet, ReadOnlyError
from .cds import (
    SUPPORTED_ALGS,
    CardFeedback,
    CdsClient,
    CdsClientQuerySet,
    CdsJti,
    HookCard,
    HookEvaluation,
    HookEvaluationQuerySet,
    PractitionerLink,
)
from .governance import GoldenRun, ImpactReport, RuleSetReview
from .knowledge import Modality, ModalityQuerySet, Rule, RuleQuerySet, RuleSet, RuleSetQuerySet
from .mdt import (
    Attendee,
    Case,
    CaseQuerySet,
    DataWaiver,
    Evaluation,
    EvaluationQuerySet,
    Meeting,
    MeetingCase,
    Outcome,
    Review,
    nhs_number_is_valid,
    validate_nhs_number,
)
from .packs import CaseSheet, MeetingPack
from .tokens import ApiToken, ApiTokenQuerySet, token_digest

__all__ = [
    "ApiToken",
    "Attendee",
    "DataWaiver",
    "ApiTokenQuerySet",
    "AuditEvent",
    "AuditEventQuerySet",
    "CardFeedback",
    "CdsClient",
    "CdsClientQuerySet",
    "CdsJti",
    "HookCard",
    "HookEvaluation",
    "HookEvaluationQuerySet",
    "PractitionerLink",
    "SUPPORTED_ALGS",
    "Case",
    "CaseQuerySet",
    "CaseSheet",
    "Evaluation",
    "GoldenRun",
    "ImpactReport",
    "EvaluationQuerySet",
    "Meeting",
    "MeetingCase",
    "MeetingPack",
    "Modality",
    "ModalityQuerySet",
    "Outcome",
    "ReadOnlyError",
    "Review",
    "Rule",
    "RuleQuerySet",
    "RuleSet",
    "RuleSetQuerySet",
    "RuleSetReview",
    "nhs_number_is_valid",
    "token_digest",
    "validate_nhs_number",
]
