"""Every enumeration of the contract, written once: its values, their order and their labels.

The engine, the knowledge-base loader, the models, forms and API schemas all take their choices
from here, so that a value cannot be spelt two ways or added in one place and forgotten in another.
Each enumeration is a Literal (for type checkers and pydantic), the tuple of its values in contract
order (for loops, choices and OpenAPI enums) and, where people read it, a dict of labels.

Pure Python: no Django, no pydantic.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

# --- option status (contract section 2) -------------------------------------------------------

Status = Literal["candidate", "trial_only", "needs_data", "not_suitable", "not_indicated"]
# Also the display order of the status groups: options an MDT can act on first.
STATUSES: Final[tuple[Status, ...]] = get_args(Status)
STATUS_LABELS: Final[dict[Status, str]] = {
    "candidate": "Candidate",
    "trial_only": "Trial only",
    "needs_data": "Needs data",
    "not_suitable": "Not suitable",
    "not_indicated": "Not indicated",
}
STATUS_MEANINGS: Final[dict[Status, str]] = {
    "candidate": (
        "An indication holds and nothing known rules the option out: an option for the MDT to consider."
    ),
    "trial_only": (
        "Clinically plausible, but available here only within a clinical trial (funding or licence)."
    ),
    "needs_data": "The decision hinges on facts that are unknown; the missing facts are listed.",
    "not_suitable": "A requirement is not met or a contraindication holds.",
    "not_indicated": "No indication for this option applies to this patient.",
}
# Which status wins when several rules decide (engine.py): a known barrier beats everything, then
# "no indication", then a trial-only restriction, then missing data; candidate is what remains.
STATUS_PRECEDENCE: Final[tuple[Status, ...]] = (
    "not_suitable",
    "not_indicated",
    "trial_only",
    "needs_data",
    "candidate",
)

# --- rules ------------------------------------------------------------------------------------

RuleKind = Literal["indication", "requirement", "contraindication", "trial_only", "caution"]
RULE_KINDS: Final[tuple[RuleKind, ...]] = get_args(RuleKind)
RULE_KIND_LABELS: Final[dict[RuleKind, str]] = {
    "indication": "Indication",
    "requirement": "Requirement",
    "contraindication": "Contraindication",
    "trial_only": "Trial only",
    "caution": "Caution",
}
# What a rule of each kind does (knowledge-base.md 1.2); the same for every patient.
RULE_KIND_MEANINGS: Final[dict[RuleKind, str]] = {
    "indication": "at least one indication must be met",
    "requirement": "must be met, otherwise not suitable",
    "contraindication": "when met, the option is not suitable",
    "trial_only": "when met, the option is available only in a trial",
    "caution": "when met, a warning; never changes the status",
}

# How a rule came out for a patient.
OutcomeWord = Literal["met", "not_met", "unknown"]
OUTCOMES: Final[tuple[OutcomeWord, ...]] = get_args(OutcomeWord)
OUTCOME_LABELS: Final[dict[OutcomeWord, str]] = {"met": "Met", "not_met": "Not met", "unknown": "Unknown"}

Verification = Literal["verified", "recall", "to_be_confirmed", "judgement"]
VERIFICATIONS: Final[tuple[Verification, ...]] = get_args(Verification)
VERIFICATION_LABELS: Final[dict[Verification, str]] = {
    "verified": "Verified against the source",
    "recall": "Recall: check before release",
    "to_be_confirmed": "To be confirmed",
    "judgement": "Judgement (no external source)",
}
# Rules taken from memory of a source, or holding a working number the unit must still set.
UNVERIFIED: Final[frozenset[Verification]] = frozenset({"recall", "to_be_confirmed"})

# What an unknown fact does to a requirement, contraindication or caution.
IfUnknown = Literal["hold", "note"]
IF_UNKNOWN: Final[tuple[IfUnknown, ...]] = get_args(IfUnknown)
IF_UNKNOWN_LABELS: Final[dict[IfUnknown, str]] = {
    "hold": "Hold at needs data",
    "note": "Checked when known (note only)",
}

CautionType = Literal["caution", "not_checked"]
CAUTION_TYPES: Final[tuple[CautionType, ...]] = get_args(CautionType)

# --- modalities (contract section 3) ----------------------------------------------------------

ModalityKey = Literal[
    "surgery_curative",
    "surgery_debulking",
    "ssta",
    "everolimus",
    "sunitinib",
    "capecitabine_temozolomide",
    "streptozocin_5fu",
    "platinum_etoposide",
    "folfox_folfiri",
    "interferon",
    "prrt_lu177",
    "liver_embolisation",
    "thermal_ablation",
    "liver_transplant",
    "clinical_trial",
    # contract 1.2
    "telotristat",
    "cabozantinib",
    "active_surveillance",
    "endoscopic_resection",
    "best_supportive_care",
]
MODALITY_KEYS: Final[tuple[ModalityKey, ...]] = get_args(ModalityKey)
# The keys /api/v1/ publishes: v1 clients were generated with this closed enum, so the API edge
# leaves the 1.2 modalities out of v1 answers and refuses them in v1 input.
MODALITY_KEYS_V1: Final[tuple[ModalityKey, ...]] = MODALITY_KEYS[:15]

Category = Literal[
    "surgery",
    "somatostatin_analogue",
    "targeted_therapy",
    "chemotherapy",
    "immunotherapy",
    "radionuclide_therapy",
    "liver_directed",
    "clinical_trial",
    # contract 1.2: options that are neither a tumour treatment nor surgery
    "endoscopic_therapy",
    "symptom_control",
    "surveillance",
    "supportive_care",
]
CATEGORIES: Final[tuple[Category, ...]] = get_args(Category)
CATEGORY_LABELS: Final[dict[Category, str]] = {
    "surgery": "Surgery",
    "somatostatin_analogue": "Somatostatin analogues",
    "targeted_therapy": "Targeted therapy",
    "chemotherapy": "Chemotherapy",
    "immunotherapy": "Immunotherapy",
    "radionuclide_therapy": "Radionuclide therapy",
    "liver_directed": "Liver-directed therapy",
    "clinical_trial": "Clinical trials",
    "endoscopic_therapy": "Endoscopic therapy",
    "symptom_control": "Symptom control",
    "surveillance": "Surveillance",
    "supportive_care": "Supportive care",
}
CATEGORIES_V1: Final[tuple[Category, ...]] = CATEGORIES[:8]
# The category of each modality: the knowledge base must agree (document.py checks it), so that a
# page grouping options by category never depends on which version of the data is loaded.
MODALITY_CATEGORIES: Final[dict[ModalityKey, Category]] = {
    "surgery_curative": "surgery",
    "surgery_debulking": "surgery",
    "ssta": "somatostatin_analogue",
    "everolimus": "targeted_therapy",
    "sunitinib": "targeted_therapy",
    "capecitabine_temozolomide": "chemotherapy",
    "streptozocin_5fu": "chemotherapy",
    "platinum_etoposide": "chemotherapy",
    "folfox_folfiri": "chemotherapy",
    "interferon": "immunotherapy",
    "prrt_lu177": "radionuclide_therapy",
    "liver_embolisation": "liver_directed",
    "thermal_ablation": "liver_directed",
    "liver_transplant": "surgery",
    "clinical_trial": "clinical_trial",
    "telotristat": "symptom_control",
    "cabozantinib": "targeted_therapy",
    "active_surveillance": "surveillance",
    "endoscopic_resection": "endoscopic_therapy",
    "best_supportive_care": "supportive_care",
}

Intent = Literal["curative", "cytoreductive", "symptom_control", "antiproliferative"]
INTENTS: Final[tuple[Intent, ...]] = get_args(Intent)
INTENT_LABELS: Final[dict[Intent, str]] = {
    "curative": "Curative",
    "cytoreductive": "Cytoreductive",
    "symptom_control": "Symptom control",
    "antiproliferative": "Antiproliferative",
}

# --- facts (contract section 1) ---------------------------------------------------------------

# The facts of contract 1.1, which /api/v1/ publishes; the profile (profile.py) holds the 1.2 set.
FACT_NAMES_V1: Final[tuple[str, ...]] = (
    "primary_site",
    "differentiation",
    "who_grade",
    "ki67_percent",
    "disease_extent",
    "resectable",
    "debulking_feasible",
    "primary_resected",
    "liver_metastases",
    "liver_lesion_count",
    "largest_liver_lesion_mm",
    "liver_tumour_burden_percent",
    "liver_dominant_disease",
    "extrahepatic_disease",
    "portal_vein_thrombosis",
    "sstr_imaging",
    "krenning_score",
    "functional_syndrome",
    "carcinoid_heart_disease",
    "disease_status",
    "prior_therapies",
    "age_years",
    "ecog",
    "egfr_ml_min",
    "platelets_10e9_l",
    "neutrophils_10e9_l",
    "bilirubin_umol_l",
    "pregnant",
    "funding",
)

# --- the MDT workflow (spelt as in treatments/models.py and inputs.py: no migration) -------------

CaseStatus = Literal["draft", "ready", "discussed", "closed"]
CASE_STATUSES: Final[tuple[CaseStatus, ...]] = get_args(CaseStatus)
CASE_STATUS_LABELS: Final[dict[CaseStatus, str]] = {
    "draft": "Draft",
    "ready": "Ready for MDT",
    "discussed": "Discussed",
    "closed": "Closed",
}

# A clinician's decision on one option of an evaluation (Review.Decision).
Decision = Literal["accept", "reject", "defer"]
DECISIONS: Final[tuple[Decision, ...]] = get_args(Decision)
DECISION_LABELS: Final[dict[Decision, str]] = {"accept": "Accept", "reject": "Reject", "defer": "Defer"}

ReasonCode = Literal[
    "clinically_appropriate", "patient_preference", "comorbidity", "not_available", "awaiting_data", "other"
]
REASON_CODES: Final[tuple[ReasonCode, ...]] = get_args(ReasonCode)
REASON_CODE_LABELS: Final[dict[ReasonCode, str]] = {
    "clinically_appropriate": "Clinically appropriate",
    "patient_preference": "Patient preference",
    "comorbidity": "Comorbidity",
    "not_available": "Not available here",
    "awaiting_data": "Awaiting results or data",
    "other": "Other (see note)",
}

RuleSetStatus = Literal["draft", "published", "retired"]
RULE_SET_STATUSES: Final[tuple[RuleSetStatus, ...]] = get_args(RuleSetStatus)
RULE_SET_STATUS_LABELS: Final[dict[RuleSetStatus, str]] = {
    "draft": "Draft",
    "published": "Published",
    "retired": "Retired",
}

# --- contract limits --------------------------------------------------------------------------

MAX_BATCH_PROFILES: Final = 1_000  # contract section 4: POST /api/v1/eligibility/batch/
MAX_CHOSEN_MODALITIES: Final = len(MODALITY_KEYS)  # an MDT outcome names each option at most once
RULE_ID_PATTERN: Final = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$"
RULE_TITLE_MAX_LENGTH: Final = 120
KB_VERSION_MAX_LENGTH: Final = 40
# What result_to_dict writes as "schema_version"; a stored answer without one is version 1
# (contract 1.1: no warnings, no guideline_line).
RESULT_SCHEMA_VERSION: Final = 2


# --- the values of the patient's facts (contract section 1) ----------------------------------

PrimarySite = Literal[
    "pancreas",
    "small_intestine",
    "duodenum",
    "stomach",
    "appendix",
    "colon",
    "rectum",
    "lung_bronchus",
    "thymus",
    "unknown_primary",
    "paraganglioma",
    "phaeochromocytoma",
    "medullary_thyroid",
    "other",
]
Differentiation = Literal["well", "poorly"]
WhoGrade = Literal["G1", "G2", "G3"]
DiseaseExtent = Literal["localised", "locoregional", "metastatic"]
SstrImaging = Literal["positive", "negative"]
FunctionalSyndrome = Literal[
    "none",
    "carcinoid_syndrome",
    "insulinoma",
    "gastrinoma",
    "glucagonoma",
    "vipoma",
    "catecholamine_excess",
    "other",
]
DiseaseStatus = Literal["progressive", "stable", "new_diagnosis"]
Funding = Literal["nhs", "private"]
PortalVeinThrombosis = Literal["none", "branch", "main"]
Sex = Literal["female", "male"]
DpdStatus = Literal["normal", "partial_deficiency", "complete_deficiency"]
LungHistology = Literal["typical_carcinoid", "atypical_carcinoid", "large_cell_nec", "small_cell"]
GastricNetType = Literal["type_1", "type_2", "type_3"]
HereditarySyndrome = Literal["none", "men1", "vhl", "nf1", "tsc", "sdhx", "other"]
BestResponse = Literal["complete", "partial", "stable", "progression", "not_assessed"]

# How enumerated values read in forms, explanations and summaries; others read as their words
# ("small_intestine" -> "Small intestine").
VALUE_LABELS: dict[str, str] = {
    "none": "None",
    "nhs": "NHS",
    "private": "Private",
    "lung_bronchus": "Lung or bronchus",
    "unknown_primary": "Unknown primary (CUP)",
    "medullary_thyroid": "Medullary thyroid",
    "carcinoid_syndrome": "Carcinoid syndrome",
    "vipoma": "VIPoma",
    "new_diagnosis": "New diagnosis",
    "well": "Well differentiated",
    "poorly": "Poorly differentiated (NEC)",
    "catecholamine_excess": "Catecholamine excess (phaeochromocytoma or paraganglioma)",
    "partial_deficiency": "Partial deficiency",
    "complete_deficiency": "Complete deficiency",
    "large_cell_nec": "Large-cell NEC",
    "small_cell": "Small-cell carcinoma",
    "type_1": "Type 1",
    "type_2": "Type 2",
    "type_3": "Type 3",
    "men1": "MEN1",
    "vhl": "VHL",
    "nf1": "NF1",
    "tsc": "TSC",
    "sdhx": "SDHx",
    "not_assessed": "Not assessed",
}
# Where a value means something particular for one fact.
FACT_VALUE_LABELS: dict[tuple[str, str], str] = {
    ("functional_syndrome", "none"): "None (non-functioning)",
    ("portal_vein_thrombosis", "branch"): "Branch only",
    ("portal_vein_thrombosis", "main"): "Main portal vein",
    ("hereditary_syndrome", "none"): "None known",
}
