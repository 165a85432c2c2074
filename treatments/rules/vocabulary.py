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
# "ready" is spelt as before (stored values, API), but reads "Referred to MDT": the case has been
# put forward. Whether a case on a meeting's list is *prepared* is its readiness (PREPARED_LABEL),
# a different question, so the two no longer share the word "ready".
CASE_STATUS_LABELS: Final[dict[CaseStatus, str]] = {
    "draft": "Draft",
    "ready": "Referred to MDT",
    "discussed": "Discussed",
    "closed": "Closed",
}
CASE_STATUS_MEANINGS: Final[dict[CaseStatus, str]] = {
    "draft": "Being prepared; not yet put forward for discussion.",
    "ready": "Put forward for discussion at an MDT meeting.",
    "discussed": "An MDT outcome has been recorded (set when the outcome is saved).",
    "closed": "No further MDT discussion is expected.",
}
# The readiness of a case on a meeting's list: evaluated, up to date, and no data left to obtain
# (items marked "not needed" do not count).
PREPARED_LABEL: Final = "Prepared"
PREPARED_MEANING: Final = (
    "Evaluated against the rules in force, with no outstanding data to obtain "
    "(items marked not needed do not count)."
)

# A clinician's decision on one option of an evaluation (Review.Decision).
Decision = Literal["accept", "reject", "defer"]
DECISIONS: Final[tuple[Decision, ...]] = get_args(Decision)
DECISION_LABELS: Final[dict[Decision, str]] = {"accept": "Accept", "reject": "Reject", "defer": "Defer"}

ReasonCode = Literal[
    "clinically_appropriate",
    "patient_preference",
    "comorbidity",
    "not_available",
    "awaiting_data",
    "other",
    # contract 1.2: reasons that fit a rejection or a deferral
    "guideline_recommended",
    "toxicity_risk",
    "alternative_preferred",
    "patient_fitness",
    "not_appropriate_now",
    "awaiting_specialist_opinion",
    "patient_to_decide",
]
REASON_CODES: Final[tuple[ReasonCode, ...]] = get_args(ReasonCode)
REASON_CODE_LABELS: Final[dict[ReasonCode, str]] = {
    "clinically_appropriate": "Clinically appropriate",
    "patient_preference": "Patient preference",
    "comorbidity": "Comorbidity",
    "not_available": "Not available here",
    "awaiting_data": "Awaiting results or data",
    "other": "Other (see note)",
    "guideline_recommended": "Recommended by guidelines",
    "toxicity_risk": "Risk of toxicity",
    "alternative_preferred": "An alternative is preferred",
    "patient_fitness": "Patient not fit enough",
    "not_appropriate_now": "Not appropriate at this time",
    "awaiting_specialist_opinion": "Awaiting a specialist opinion",
    "patient_to_decide": "Patient to decide",
}
# The reasons that fit each decision (security of meaning: "Reject: clinically appropriate" is refused).
REASON_CODES_BY_DECISION: Final[dict[Decision, tuple[ReasonCode, ...]]] = {
    "accept": ("clinically_appropriate", "guideline_recommended", "patient_preference", "other"),
    "reject": (
        "toxicity_risk",
        "alternative_preferred",
        "patient_fitness",
        "comorbidity",
        "not_appropriate_now",
        "patient_preference",
        "not_available",
        "other",
    ),
    "defer": ("awaiting_data", "awaiting_specialist_opinion", "patient_to_decide", "other"),
}
# The reason codes /api/v1/ published (its request enum).
REASON_CODES_V1: Final[tuple[ReasonCode, ...]] = REASON_CODES[:6]

# What the MDT decided beyond the options of the evaluation (Outcome.next_steps): coded, so that
# "surveillance" or "re-discuss" is data, not a phrase in the plan. Each has a plain-language
# sentence for the outcome letter to the GP and the referrer.
NextStep = Literal[
    "treatment",
    "surveillance",
    "further_imaging",
    "biopsy",
    "rediscuss",
    "best_supportive_care",
    "trial_referral",
    "refer_elsewhere",
]
NEXT_STEPS: Final[tuple[NextStep, ...]] = get_args(NextStep)
NEXT_STEP_LABELS: Final[dict[NextStep, str]] = {
    "treatment": "Start or change treatment (the options chosen)",
    "surveillance": "Surveillance",
    "further_imaging": "Further imaging",
    "biopsy": "Biopsy",
    "rediscuss": "Re-discuss at a later MDT",
    "best_supportive_care": "Best supportive care",
    "trial_referral": "Refer for a clinical trial",
    "refer_elsewhere": "Refer to another team or centre",
}
NEXT_STEP_LETTER: Final[dict[NextStep, str]] = {
    "treatment": "Start or change treatment as listed below.",
    "surveillance": "Keep a close watch with regular scans and blood tests, without new treatment for now.",
    "further_imaging": "Arrange further scans before a final decision.",
    "biopsy": "Arrange a biopsy (a tissue sample) before a final decision.",
    "rediscuss": "Discuss the patient again at a later MDT meeting, once the results are back.",
    "best_supportive_care": (
        "Focus on comfort and quality of life, with support from the palliative care team."
    ),
    "trial_referral": "Refer the patient to the research team to see whether a clinical trial is suitable.",
    "refer_elsewhere": "Refer the patient to another team or specialist centre.",
}

# Statuses whose choice follows the rules (concordance): a candidate, or a trial-only option
# chosen as a trial referral (the option is available only in a trial, and that is what was chosen).
CONCORDANT_STATUSES: Final[frozenset[Status]] = frozenset({"candidate", "trial_only"})

# The members of an NET MDT (attendance), and those who must be present for the meeting to be
# quorate (ENETS centre-of-excellence standards: the core specialties).
MdtRole = Literal[
    "oncologist",
    "gastroenterologist",
    "surgeon",
    "radiologist",
    "nuclear_medicine",
    "pathologist",
    "endocrinologist",
    "specialist_nurse",
    "coordinator",
    "other",
]
MDT_ROLES: Final[tuple[MdtRole, ...]] = get_args(MdtRole)
MDT_ROLE_LABELS: Final[dict[MdtRole, str]] = {
    "oncologist": "Oncologist",
    "gastroenterologist": "Gastroenterologist or hepatologist",
    "surgeon": "Surgeon",
    "radiologist": "Radiologist",
    "nuclear_medicine": "Nuclear medicine physician",
    "pathologist": "Pathologist",
    "endocrinologist": "Endocrinologist",
    "specialist_nurse": "Clinical nurse specialist",
    "coordinator": "MDT coordinator",
    "other": "Other",
}
CORE_MDT_ROLES: Final[tuple[MdtRole, ...]] = (
    "oncologist",
    "surgeon",
    "radiologist",
    "nuclear_medicine",
    "pathologist",
    "specialist_nurse",
)

# Who obtains each unknown fact: data to obtain is a list of jobs (a test, an opinion), each
# gathering the facts it answers. Every fact belongs to exactly one (a test checks it).
DataSource = Literal[
    "sstr_imaging",
    "bloods",
    "radiology_review",
    "surgical_opinion",
    "pathology",
    "clinical_assessment",
    "history",
]
DATA_SOURCES: Final[tuple[DataSource, ...]] = get_args(DataSource)
DATA_SOURCE_LABELS: Final[dict[DataSource, str]] = {
    "sstr_imaging": "SSTR PET (68Ga-DOTATATE) and Krenning score",
    "bloods": "Bloods: U&E, FBC, LFT",
    "radiology_review": "Radiology review",
    "surgical_opinion": "Surgical opinion",
    "pathology": "Pathology",
    "clinical_assessment": "Clinical assessment",
    "history": "History and referral details",
}
DATA_SOURCE_OWNERS: Final[dict[DataSource, str]] = {
    "sstr_imaging": "Nuclear medicine",
    "bloods": "Referring team",
    "radiology_review": "Radiologist",
    "surgical_opinion": "Surgeon",
    "pathology": "Pathologist",
    "clinical_assessment": "Referring clinician",
    "history": "Referring clinician",
}
DATA_SOURCE_FACTS: Final[dict[DataSource, tuple[str, ...]]] = {
    "sstr_imaging": ("sstr_imaging", "krenning_score"),
    "bloods": (
        "egfr_ml_min",
        "platelets_10e9_l",
        "neutrophils_10e9_l",
        "bilirubin_umol_l",
        "haemoglobin_g_l",
        "dpd_status",
    ),
    "radiology_review": (
        "disease_extent",
        "liver_metastases",
        "liver_lesion_count",
        "largest_liver_lesion_mm",
        "liver_tumour_burden_percent",
        "liver_dominant_disease",
        "extrahepatic_disease",
        "portal_vein_thrombosis",
        "disease_status",
        "primary_tumour_size_mm",
    ),
    "surgical_opinion": (
        "resectable",
        "debulking_feasible",
        "primary_resected",
        "biliary_enteric_anastomosis",
    ),
    "pathology": (
        "primary_site",
        "differentiation",
        "who_grade",
        "ki67_percent",
        "lung_histology",
        "gastric_net_type",
    ),
    "clinical_assessment": (
        "ecog",
        "functional_syndrome",
        "carcinoid_heart_disease",
        "syndrome_refractory",
        "bowel_movements_per_day",
        "pregnant",
        "sex",
        "childbearing_potential",
        "breastfeeding",
        "age_years",
    ),
    "history": (
        "prior_therapies",
        "prior_therapy_details",
        "hereditary_syndrome",
        "months_since_diagnosis",
        "funding",
    ),
}
FACT_DATA_SOURCE: Final[dict[str, DataSource]] = {
    fact: source for source, facts in DATA_SOURCE_FACTS.items() for fact in facts
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
MAX_CHOSEN_MODALITIES: Final = len(MODALITY_KEYS)
MAX_WAIVER_REASON_LENGTH: Final = 300  # an MDT outcome names each option at most once
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
