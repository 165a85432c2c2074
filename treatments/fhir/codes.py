"""The code tables of the FHIR mapping, as data (docs/fhir.md section 3). Each row has a test.

A row marked "verify" in docs/fhir.md was plausible but not confirmed against the SNOMED CT UK
edition, LOINC or WHO ATC when written; a terminologist checks them before clinical use (hazard log
H-15). Codes are compared as `system|code` strings.

Pure Python: no Django.
"""

from __future__ import annotations

from typing import Final

# --- code systems -----------------------------------------------------------------------------

SCT: Final = "http://snomed.info/sct"
LNC: Final = "http://loinc.org"
ICD10: Final = "http://hl7.org/fhir/sid/icd-10"
ICD10CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"
ICDO3: Final = "http://terminology.hl7.org/CodeSystem/icd-o-3"
NCIT: Final = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
ATC: Final = "http://www.whocc.no/atc"
RXNORM: Final = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM: Final = "http://unitsofmeasure.org"
NHS_NUMBER: Final = "https://fhir.nhs.uk/Id/nhs-number"
# NETcare's own terminology (docs/fhir.md section 4): observations no standard code covers, the
# values of the contract's enumerations, and the MDT-assessment questionnaire.
NETCARE_BASE: Final = "https://netcare.example.nhs.uk/fhir"
NETOBS: Final = f"{NETCARE_BASE}/CodeSystem/netcare-observation"
NETVAL: Final = f"{NETCARE_BASE}/CodeSystem/netcare-fact-value"
MDT_ASSESSMENT: Final = f"{NETCARE_BASE}/Questionnaire/netcare-mdt-assessment"

MCODE_HISTOLOGY_EXTENSION: Final = (
    "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"
)
LIST_EMPTY_NILKNOWN: Final = "http://terminology.hl7.org/CodeSystem/list-empty-reason|nilknown"

# --- statuses ---------------------------------------------------------------------------------

OBSERVATION_USABLE: Final = frozenset({"final", "amended", "corrected"})
OBSERVATION_CORRECTED: Final = frozenset({"amended", "corrected"})
CONDITION_PRESENT: Final = frozenset({"active", "recurrence", "relapse"})
CONDITION_UNVERIFIED: Final = frozenset({"provisional", "differential", "unconfirmed"})
CONDITION_IGNORED: Final = frozenset({"refuted", "entered-in-error"})
MEDICATION_GIVEN: Final[dict[str, frozenset[str]]] = {
    "MedicationAdministration": frozenset({"completed", "in-progress"}),
    "MedicationStatement": frozenset({"active", "completed", "stopped"}),
    "MedicationRequest": frozenset({"active", "completed", "stopped"}),
}
PROCEDURE_DONE: Final = frozenset({"completed"})
# Procedures that are a prior therapy by their code alone (docs/fhir.md 3.3). Embolisation (TACE,
# TAE, SIRT) and ablation of the liver are not listed: no SNOMED code for them could be confirmed
# from two public sources when this was written (a terminologist adds them, H-15).
MODALITY_BY_PROCEDURE: Final[dict[str, str]] = {
    f"{SCT}|18027006": "liver_transplant",  # Transplantation of liver (procedure)
}
QUESTIONNAIRE_DONE: Final = frozenset({"completed", "amended"})

# --- A.6.1 primary site -----------------------------------------------------------------------

SITE_BY_BODY_SITE: Final[dict[str, str]] = {
    f"{SCT}|15776009": "pancreas",
    f"{SCT}|30315005": "small_intestine",
    f"{SCT}|34516001": "small_intestine",
    f"{SCT}|21306003": "small_intestine",
    f"{SCT}|38848004": "duodenum",
    f"{SCT}|69695003": "stomach",
    f"{SCT}|66754008": "appendix",
    f"{SCT}|71854001": "colon",
    f"{SCT}|34402009": "rectum",
    f"{SCT}|39607008": "lung_bronchus",
    f"{SCT}|955009": "lung_bronchus",
    f"{SCT}|9875009": "thymus",
}
# WHO ICD-10 topography by code prefix; the longest matching prefix wins (C17.0 before C17).
SITE_BY_ICD10_PREFIX: Final[dict[str, str]] = {
    "C25": "pancreas",
    "C17.0": "duodenum",
    "C17": "small_intestine",
    "C16": "stomach",
    "C18.1": "appendix",
    "C18": "colon",
    "C20": "rectum",
    "C34": "lung_bronchus",
    "C37": "thymus",
    "C80.0": "unknown_primary",
}
# ICD-10-CM malignant carcinoid tumours (C7A.0*), exact codes. C7A.00 (unspecified site) is not
# "unknown primary": nobody said the primary was looked for and not found.
SITE_BY_ICD10CM: Final[dict[str, str]] = {
    "C7A.010": "duodenum",
    "C7A.011": "small_intestine",
    "C7A.012": "small_intestine",
    "C7A.019": "small_intestine",
    "C7A.020": "appendix",
    "C7A.021": "colon",
    "C7A.022": "colon",
    "C7A.023": "colon",
    "C7A.024": "colon",
    "C7A.025": "colon",
    "C7A.026": "rectum",
    "C7A.029": "colon",
    "C7A.090": "lung_bronchus",
    "C7A.091": "thymus",
    "C7A.092": "stomach",
}
# Sites that only a morphology can name (with or without a topography code).
SITE_BY_MORPHOLOGY: Final[dict[str, str]] = {
    "8345/3": "medullary_thyroid",
    "8680/3": "paraganglioma",
    "8693/3": "paraganglioma",
    "8700/3": "phaeochromocytoma",
}

# --- A.6.2 morphology -------------------------------------------------------------------------

# ICD-O-3 morphology -> differentiation. "proposed" rows are never used automatically.
DIFFERENTIATION_BY_ICDO3: Final[dict[str, tuple[str, str]]] = {
    "8240/3": ("well", "direct"),
    "8249/3": ("well", "direct"),
    "8150/3": ("well", "direct"),
    "8151/3": ("well", "direct"),
    "8152/3": ("well", "direct"),
    "8153/3": ("well", "direct"),
    "8155/3": ("well", "direct"),
    "8156/3": ("well", "direct"),
    "8241/3": ("well", "direct"),
    "8242/3": ("well", "direct"),
    # NEC NOS: registries use it for well-differentiated G3 tumours too (Tumori J 2025).
    "8246/3": ("poorly", "proposed"),
    "8041/3": ("poorly", "direct"),
    "8013/3": ("poorly", "direct"),
}
# SNOMED CT morphologies (verify in the UK edition) -> differentiation, level, WHO grade or None.
MORPHOLOGY_BY_SNOMED: Final[dict[str, tuple[str, str, str | None]]] = {
    f"{SCT}|1286768001": ("well", "direct", None),
    f"{SCT}|1286769009": ("well", "direct", "G1"),
    f"{SCT}|1286770005": ("well", "direct", "G2"),
    f"{SCT}|1286767006": ("poorly", "proposed", None),
    f"{SCT}|74364000": ("poorly", "direct", None),
    f"{SCT}|128628002": ("poorly", "direct", None),
}
# ICD-10-CM C7A.1: malignant poorly differentiated neuroendocrine tumours.
DIFFERENTIATION_BY_ICD10CM: Final[dict[str, str]] = {"C7A.1": "poorly"}
MIXED_HISTOLOGY_ICDO3: Final = frozenset({"8154/3"})
SYNDROME_BY_ICDO3: Final[dict[str, str]] = {
    "8151/3": "insulinoma",
    "8153/3": "gastrinoma",
    "8152/3": "glucagonoma",
    "8155/3": "vipoma",
}
# Thoracic morphologies (WHO thoracic classification), used only when the primary is in the lung.
LUNG_HISTOLOGY_BY_ICDO3: Final[dict[str, str]] = {
    "8240/3": "typical_carcinoid",
    "8249/3": "atypical_carcinoid",
    "8013/3": "large_cell_nec",
    "8041/3": "small_cell",
}
# ICD-10 / ICD-10-CM codes that make a Condition a neuroendocrine neoplasm by themselves.
NET_ICD10_PREFIXES: Final = ("C25.4",)
NET_ICD10CM_PREFIXES: Final = ("C7A", "C7B")

# --- A.6.3 grade, TNM, status, performance ----------------------------------------------------

GRADE_OBSERVATION_CODES: Final = frozenset({f"{NCIT}|C18000", f"{LNC}|33732-9"})
GRADE_BY_SNOMED: Final[dict[str, str | None]] = {
    f"{SCT}|54102005": "G1",
    f"{SCT}|1663004": "G2",
    f"{SCT}|61026006": "G3",
    f"{SCT}|12619005": None,  # GX: cannot be assessed
    f"{SCT}|258245003": None,  # G4: not a WHO NET grade
}
M_CATEGORY_CODES: Final = frozenset(
    {f"{SCT}|277208005", f"{SCT}|399387003", f"{SCT}|371497001", f"{LNC}|21907-1", f"{LNC}|21901-4"}
)
N_CATEGORY_CODES: Final = frozenset({f"{SCT}|399534004", f"{SCT}|371494008"})
M_VALUE: Final[dict[str, str]] = {
    f"{SCT}|1229903009": "M1",  # AJCC cM1
    f"{SCT}|1229916009": "M1",  # AJCC pM1
    f"{SCT}|1229901006": "M0",  # AJCC cM0
}
# N1 and above (regional nodes involved) are one value here: with M0 they make the extent
# locoregional. Sub-categories (cN1a, ...) are not listed: only codes seen in two public sources.
N_VALUE: Final[dict[str, str]] = {
    f"{SCT}|1229967007": "N0",  # AJCC cN0
    f"{SCT}|1229947003": "N0",  # AJCC pN0
    f"{SCT}|1229973008": "N1+",  # AJCC cN1
    f"{SCT}|1229978004": "N1+",  # AJCC cN2
    f"{SCT}|1229984001": "N1+",  # AJCC cN3
    f"{SCT}|1229951001": "N1+",  # AJCC pN1
    f"{SCT}|1229957002": "N1+",  # AJCC pN2
    f"{SCT}|1229962001": "N1+",  # AJCC pN3
}
KI67_CODES: Final = frozenset({f"{LNC}|29593-1"})
KI67_BREAST_CODES: Final = frozenset({f"{LNC}|85330-9"})
# Codes that look like Ki-67 and are not (85319-2 is HER2 in breast cancer), or carry no number.
NOT_KI67_CODES: Final = frozenset({f"{LNC}|85319-2", f"{LNC}|33055-5"})
DISEASE_STATUS_CODES: Final = frozenset({f"{LNC}|97509-4"})
DISEASE_STATUS_BY_SNOMED: Final[dict[str, tuple[str, str] | None]] = {
    f"{SCT}|271299001": ("progressive", "direct"),
    f"{SCT}|359746009": ("stable", "direct"),
    f"{SCT}|268910001": ("stable", "proposed"),  # improved: the contract has no "responding"
    f"{SCT}|709137006": None,  # undetermined
}
ECOG_CODES: Final = frozenset({f"{LNC}|89247-1"})
ECOG_BY_ANSWER: Final[dict[str, int]] = {
    f"{LNC}|LA9622-7": 0,
    f"{LNC}|LA9623-5": 1,
    f"{LNC}|LA9624-3": 2,
    f"{LNC}|LA9625-0": 3,
    f"{LNC}|LA9626-8": 4,
}
ECOG_DEAD: Final = frozenset({f"{LNC}|LA9627-6"})
PREGNANCY_CODES: Final = frozenset({f"{LNC}|82810-3"})
PREGNANT_BY_ANSWER: Final[dict[str, bool | None]] = {
    f"{LNC}|LA15173-0": True,
    f"{SCT}|77386006": True,
    f"{LNC}|LA26683-5": False,
    f"{SCT}|60001007": False,
    f"{LNC}|LA4489-6": None,
    f"{SCT}|261665006": None,
}
SSTR_BY_ANSWER: Final[dict[str, str]] = {f"{SCT}|10828004": "positive", f"{SCT}|260385009": "negative"}

# --- laboratory (A.5) -------------------------------------------------------------------------

LAB_FACT_BY_CODE: Final[dict[str, str]] = {
    **{
        f"{LNC}|{code}": "egfr_ml_min"
        for code in (
            "98979-8",
            "62238-1",
            "33914-3",
            "48642-3",
            "48643-1",
            "88293-6",
            "88294-4",
            "50044-7",
            "69405-9",
            "77147-7",
            "50210-4",
        )
    },
    **{f"{LNC}|{code}": "platelets_10e9_l" for code in ("777-3", "26515-7", "778-1")},
    **{f"{LNC}|{code}": "neutrophils_10e9_l" for code in ("751-8", "26499-4", "753-4")},
    **{f"{LNC}|{code}": "bilirubin_umol_l" for code in ("1975-2", "42719-5", "14631-6", "54363-7")},
    # contract 1.2
    f"{LNC}|718-7": "haemoglobin_g_l",
}
# Measurements of a different quantity that must not be read as the fact they resemble.
UNSUPPORTED_QUANTITY: Final[dict[str, str]] = {
    f"{LNC}|2164-2": "egfr_ml_min",  # creatinine clearance (Cockcroft-Gault), mL/min
    f"{LNC}|770-8": "neutrophils_10e9_l",  # neutrophils / 100 leukocytes (%)
    f"{LNC}|89243-0": "ecog",  # Karnofsky: not converted
}
PRIMARY_SIZE_CODES: Final = frozenset({f"{LNC}|21889-1"})

# --- A.6.4 medicines -> modality keys ---------------------------------------------------------

# Agent by coding. Single agents map to a modality; combinations need their partners (below).
AGENT_BY_CODE: Final[dict[str, str]] = {
    f"{ATC}|H01CB02": "octreotide",
    f"{ATC}|H01CB03": "lanreotide",
    f"{ATC}|H01CB05": "pasireotide",
    f"{ATC}|L01EG02": "everolimus",
    f"{RXNORM}|141704": "everolimus",
    f"{ATC}|L01EX01": "sunitinib",
    f"{ATC}|L01XE04": "sunitinib",
    f"{RXNORM}|357977": "sunitinib",
    f"{ATC}|V10XX04": "lutetium_oxodotreotide",
    f"{ATC}|L01BC06": "capecitabine",
    f"{RXNORM}|194000": "capecitabine",
    f"{ATC}|L01AX03": "temozolomide",
    f"{ATC}|L01AD04": "streptozocin",
    f"{ATC}|L01BC02": "fluorouracil",
    f"{RXNORM}|4492": "fluorouracil",
    f"{ATC}|L01XA01": "cisplatin",
    f"{ATC}|L01XA02": "carboplatin",
    f"{ATC}|L01CB01": "etoposide",
    f"{ATC}|L01XA03": "oxaliplatin",
    f"{ATC}|L01CE02": "irinotecan",
    f"{RXNORM}|51499": "irinotecan",
    f"{ATC}|L03AB04": "interferon_alfa",
    f"{ATC}|L03AB05": "interferon_alfa",
    # contract 1.2
    f"{ATC}|A16AX15": "telotristat",
    f"{ATC}|L01EX07": "cabozantinib",
}
# Everolimus for transplant immunosuppression (L04AH02) is not the antineoplastic.
NOT_AN_AGENT: Final = frozenset({f"{ATC}|L04AH02"})
MODALITY_BY_AGENT: Final[dict[str, str]] = {
    "octreotide": "ssta",
    "lanreotide": "ssta",
    "pasireotide": "ssta",
    "everolimus": "everolimus",
    "sunitinib": "sunitinib",
    "lutetium_oxodotreotide": "prrt_lu177",
    "interferon_alfa": "interferon",
    "telotristat": "telotristat",
    "cabozantinib": "cabozantinib",
}
# Combination regimens: every group must have one of its agents, within COMBINATION_WINDOW_DAYS.
MODALITY_BY_COMBINATION: Final[dict[str, tuple[frozenset[str], ...]]] = {
    "capecitabine_temozolomide": (frozenset({"capecitabine"}), frozenset({"temozolomide"})),
    "streptozocin_5fu": (frozenset({"streptozocin"}), frozenset({"fluorouracil"})),
    "platinum_etoposide": (frozenset({"cisplatin", "carboplatin"}), frozenset({"etoposide"})),
    "folfox_folfiri": (frozenset({"oxaliplatin", "irinotecan"}), frozenset({"fluorouracil"})),
}
NO_PRIOR_MEDICATION_LISTS: Final = frozenset({f"{LNC}|10160-0"})

# --- secondary cancers, presence conditions ---------------------------------------------------

LIVER_BODY_SITES: Final = frozenset({f"{SCT}|10200004"})
LIVER_SECONDARY_CODES: Final = frozenset(
    {f"{SCT}|94381002", f"{SCT}|1098951000119108", f"{ICD10}|C78.7", f"{ICD10CM}|C7B.02"}
)
# Distant secondary cancers outside the liver (bone, lung, peritoneum, distant nodes, ...), by prefix.
EXTRAHEPATIC_ICD_PREFIXES: Final[dict[str, tuple[str, ...]]] = {
    ICD10: ("C78.0", "C78.1", "C78.2", "C78.3", "C78.4", "C78.5", "C78.6", "C78.8", "C79.0", "C79.1")
    + ("C79.2", "C79.3", "C79.4", "C79.5", "C79.6", "C79.7", "C79.8"),
    ICD10CM: ("C7B.01", "C7B.03", "C7B.04", "C7B.09"),
}
# Distant secondary cancers (site named or not). C77 (lymph nodes, possibly regional) is not here.
DISTANT_SECONDARY_ICD_PREFIXES: Final[dict[str, tuple[str, ...]]] = {
    ICD10: ("C78", "C79"),
    ICD10CM: ("C78", "C79", "C7B.0"),
}
DISTANT_SECONDARY_SNOMED: Final = frozenset(
    {f"{SCT}|128462008", f"{SCT}|94381002", f"{SCT}|1098951000119108"}
)
CARCINOID_SYNDROME_CODES: Final = frozenset({f"{SCT}|35868009", f"{ICD10}|E34.0", f"{ICD10CM}|E34.0"})
# Portal-vein thrombosis without its extent: contract 1.2 needs none / branch / main.
PVT_CODES: Final = frozenset({f"{ICD10}|I81", f"{ICD10CM}|I81"})
# Hereditary syndromes (contract 1.2), positives only: "none" comes from the MDT assessment.
HEREDITARY_BY_CODE: Final[dict[str, str]] = {
    f"{ICD10CM}|E31.21": "men1",
    f"{ICD10}|Q85.1": "tsc",
    f"{ICD10CM}|Q85.1": "tsc",
    f"{ICD10CM}|Q85.01": "nf1",
}

# --- A.7 NETcare observation codes -> facts ---------------------------------------------------

# Facts that only the MDT can state (or that no standard code covers), as NETcare Observations.
NETOBS_FACTS: Final[dict[str, str]] = {
    "primary-site": "primary_site",
    "resectable": "resectable",
    "debulking-feasible": "debulking_feasible",
    "liver-lesion-count": "liver_lesion_count",
    "largest-liver-lesion": "largest_liver_lesion_mm",
    "liver-tumour-burden": "liver_tumour_burden_percent",
    "liver-dominant": "liver_dominant_disease",
    "extrahepatic-disease": "extrahepatic_disease",
    "portal-vein-thrombosis": "portal_vein_thrombosis",
    "sstr-imaging": "sstr_imaging",
    "krenning-score": "krenning_score",
    "functional-syndrome": "functional_syndrome",
    "carcinoid-heart-disease": "carcinoid_heart_disease",
    # contract 1.2 facts without a standard code
    "childbearing-potential": "childbearing_potential",
    "breastfeeding": "breastfeeding",
    "dpd-status": "dpd_status",
    "biliary-enteric-anastomosis": "biliary_enteric_anastomosis",
    "syndrome-refractory": "syndrome_refractory",
    "bowel-movements-per-day": "bowel_movements_per_day",
    "lung-histology": "lung_histology",
    "gastric-net-type": "gastric_net_type",
    "hereditary-syndrome": "hereditary_syndrome",
}
# Facts the MDT-assessment questionnaire may answer (linkId = fact name). Measurements and the
# patient's identity come from their own resources, never from the questionnaire.
ASSESSMENT_FACTS: Final = frozenset(
    set(NETOBS_FACTS.values())
    | {
        "primary_resected",
        "differentiation",
        "who_grade",
        "disease_extent",
        "liver_metastases",
        "disease_status",
        "prior_therapies",
        "pregnant",
        "sex",
        "primary_tumour_size_mm",
    }
)

GENDER_TO_SEX: Final[dict[str, str]] = {"female": "female", "male": "male"}
