"""Reads: the published rule set, eligibility, the catalogue and the MDT data (HackSoft "selectors").

Lists come prefetched, so a page or an API answer costs a fixed number of queries whatever its
length; each entity has one lookup (`case_get`, `evaluation_get`, `meeting_get`) shared by both
edges. Everything is re-exported here.
"""

from .cases import (
    EvaluationChanges,
    case_evaluations,
    case_get,
    case_list,
    case_outcomes,
    evaluation_changes,
    evaluation_get,
    evaluation_result,
    evaluation_staleness,
    latest_evaluation,
    latest_evaluation_prefetch,
    reviews_by_modality,
    with_latest_evaluation,
)
from .catalogue import catalogue, modality_detail, patient_texts
from .cds import case_for_nhs_number, feedback_summary, hook_evaluation_get, pending_feedback
from .fhir import ImportRow, bundle_sha256, fhir_import_preview, fhir_load, fhir_map, fhir_options
from .meetings import (
    Concordance,
    WorklistRow,
    cases_to_add,
    meeting_concordance,
    meeting_get,
    meeting_list,
    meeting_worklist,
)
from .ruleset import (
    NoPublishedRuleSet,
    RuleSetRef,
    current_ruleset,
    eligibility,
    forget_published_ruleset,
    modality_names,
    modality_spec,
    published_ruleset,
    published_ruleset_ref,
    rule_spec,
)

__all__ = [
    "ImportRow",
    "bundle_sha256",
    "fhir_import_preview",
    "fhir_load",
    "fhir_map",
    "fhir_options",
    "Concordance",
    "EvaluationChanges",
    "NoPublishedRuleSet",
    "WorklistRow",
    "case_evaluations",
    "case_for_nhs_number",
    "case_get",
    "case_list",
    "case_outcomes",
    "cases_to_add",
    "catalogue",
    "current_ruleset",
    "eligibility",
    "evaluation_changes",
    "evaluation_get",
    "evaluation_result",
    "evaluation_staleness",
    "feedback_summary",
    "forget_published_ruleset",
    "hook_evaluation_get",
    "latest_evaluation",
    "latest_evaluation_prefetch",
    "meeting_concordance",
    "meeting_get",
    "meeting_list",
    "meeting_worklist",
    "modality_detail",
    "modality_names",
    "modality_spec",
    "pending_feedback",
    "patient_texts",
    "published_ruleset",
    "published_ruleset_ref",
    "RuleSetRef",
    "reviews_by_modality",
    "rule_spec",
    "with_latest_evaluation",
]
