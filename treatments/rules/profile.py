"""The patient profile: the facts of contract.md section 1, with their types, units and bounds.

Every fact is optional. An absent or null fact is *unknown*, never false; the engine keeps the
difference. Unknown field names are rejected, never dropped. The model is strict: "yes" is not a
boolean and "3" is not a number, because a decision-support tool must not guess what a caller meant.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from .errors import error_list as error_list  # re-exported: callers import it from here
from .errors import has_readable_message as has_readable_message
from .errors import readable_message as readable_message
from .errors import register_facts
from .vocabulary import MODALITY_KEYS as MODALITY_KEYS
from .vocabulary import ModalityKey as ModalityKey

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
    "none", "carcinoid_syndrome", "insulinoma", "gastrinoma", "glucagonoma", "vipoma", "other"
]
DiseaseStatus = Literal["progressive", "stable", "new_diagnosis"]
Funding = Literal["nhs", "private"]

# The form groups of the clinician page, in the order a clinician thinks about a case.
GROUPS: tuple[tuple[str, str], ...] = (
    ("tumour", "Tumour"),
    ("extent", "Extent and resectability"),
    ("liver", "Liver"),
    ("imaging", "Imaging and hormones"),
    ("course", "Course and prior treatment"),
    ("fitness", "Fitness and laboratory"),
    ("funding", "Funding"),
)


def _fact(label: str, group: str, *, unit: str = "", help: str = "", **bounds: Any) -> Any:
    """A fact field: optional, with a label, group and unit for forms, schemas and explanations."""
    extra: dict[str, JsonValue] = {"group": group, "unit": unit}
    return Field(default=None, title=label, description=help or label, json_schema_extra=extra, **bounds)


class PatientProfile(BaseModel):
    """What is known about a patient. Absent or null means unknown."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)

    primary_site: PrimarySite | None = _fact(
        "Primary site",
        "tumour",
        help="Site of the primary tumour. GEP = pancreas, small intestine, duodenum, stomach, appendix, "
        "colon, rectum.",
    )
    differentiation: Differentiation | None = _fact(
        "Differentiation", "tumour", help="Poorly differentiated = neuroendocrine carcinoma (NEC)."
    )
    who_grade: WhoGrade | None = _fact("WHO grade", "tumour", help="WHO grade of a well-differentiated NET.")
    ki67_percent: float | None = _fact(
        "Ki-67 index", "tumour", unit="%", help="Proliferation index.", ge=0, le=100
    )
    disease_extent: DiseaseExtent | None = _fact("Disease extent", "extent")
    resectable: bool | None = _fact(
        "Resectable",
        "extent",
        help="All known disease can be removed with curative intent (surgical judgement).",
    )
    debulking_feasible: bool | None = _fact(
        "Debulking feasible", "extent", help="Most (about 70-90 %) of the tumour burden could be removed."
    )
    primary_resected: bool | None = _fact(
        "Primary resected", "extent", help="The primary tumour has been removed."
    )
    liver_metastases: bool | None = _fact("Liver metastases", "liver")
    liver_lesion_count: int | None = _fact("Number of liver lesions", "liver", ge=0, le=1000)
    largest_liver_lesion_mm: float | None = _fact("Largest liver lesion", "liver", unit="mm", gt=0, le=500)
    liver_tumour_burden_percent: float | None = _fact(
        "Liver tumour burden", "liver", unit="%", help="Share of the liver replaced by tumour.", ge=0, le=100
    )
    liver_dominant_disease: bool | None = _fact(
        "Liver-dominant disease", "liver", help="Disease is mainly in the liver."
    )
    extrahepatic_disease: bool | None = _fact(
        "Extrahepatic disease",
        "liver",
        help="'No' only when investigations have excluded disease outside the liver.",
    )
    portal_vein_thrombosis: bool | None = _fact("Portal vein thrombosis", "liver")
    sstr_imaging: SstrImaging | None = _fact(
        "SSTR imaging", "imaging", help="Somatostatin-receptor imaging, e.g. gallium-68 DOTATATE PET."
    )
    krenning_score: int | None = _fact(
        "Krenning score",
        "imaging",
        help="Uptake grade on SSTR imaging (0-4; 2 = equal to liver).",
        ge=0,
        le=4,
    )
    functional_syndrome: FunctionalSyndrome | None = _fact(
        "Functional syndrome", "imaging", help="Hormone-related syndrome."
    )
    carcinoid_heart_disease: bool | None = _fact("Carcinoid heart disease", "imaging")
    disease_status: DiseaseStatus | None = _fact("Disease status", "course", help="Radiological course.")
    prior_therapies: list[ModalityKey] | None = _fact(
        "Prior therapies",
        "course",
        help="Treatments already given (modality keys). An empty list means none.",
    )
    age_years: int | None = _fact("Age", "fitness", unit="years", ge=0, le=120)
    ecog: int | None = _fact(
        "ECOG performance status", "fitness", help="0 = fully active, 4 = bedbound.", ge=0, le=4
    )
    egfr_ml_min: float | None = _fact(
        "eGFR", "fitness", unit="mL/min/1.73 m²", help="Renal function.", ge=0, le=250
    )
    platelets_10e9_l: float | None = _fact("Platelets", "fitness", unit="×10⁹/L", ge=0, le=5000)
    neutrophils_10e9_l: float | None = _fact("Neutrophils", "fitness", unit="×10⁹/L", ge=0, le=500)
    bilirubin_umol_l: float | None = _fact("Bilirubin", "fitness", unit="µmol/L", ge=0, le=1500)
    pregnant: bool | None = _fact("Pregnant", "fitness")
    funding: Funding | None = Field(
        default="nhs",
        title="Funding",
        description="Drives NHS commissioning rules. Absent or null means NHS (the unit's setting).",
        json_schema_extra={"group": "funding", "unit": ""},
    )

    @field_validator("liver_lesion_count", "krenning_score", "age_years", "ecog", mode="before")
    @classmethod
    def _integral_float_is_whole(cls, value: Any) -> Any:
        # JSON Schema counts 2.0 as an integer, so a client may send it; 2.5, "2" and true stay errors.
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    @field_validator("funding", mode="before")
    @classmethod
    def _null_funding_is_nhs(cls, value: Any) -> Any:
        # The contract lets every fact be null; for funding, "not given" means the unit's default.
        return "nhs" if value is None else value

    def known_facts(self) -> dict[str, Any]:
        """The facts that have a value, in contract order (funding always has one)."""
        return {name: value for name, value in self.__dict__.items() if value is not None}


FACT_NAMES: tuple[str, ...] = tuple(PatientProfile.model_fields)


def facts_fingerprint(facts: Mapping[str, Any]) -> str:
    """SHA-256 of known facts, so that a changed profile can be told from an unchanged one.

    Unknown (null) facts are left out and the order of prior therapies does not matter.
    """
    canonical = {
        name: sorted(value) if isinstance(value, list) else value
        for name, value in facts.items()
        if value is not None
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


# How enumerated values read in forms, explanations and summaries; others read as their words
# ("small_intestine" -> "Small intestine").
VALUE_LABELS: dict[str, str] = {
    "none": "None (non-functioning)",
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
}


def value_label(value: str) -> str:
    """An enumerated value as a label: "poorly" -> "Poorly differentiated (NEC)"."""
    label = VALUE_LABELS.get(value)
    if label is None:
        words = value.replace("_", " ")
        label = words[:1].upper() + words[1:]
    return label


def fact_choices(name: str) -> tuple[str, ...] | None:
    """The allowed values of an enumerated fact (or of a list fact's items), else None."""
    literal = _find_literal(PatientProfile.model_fields[name].annotation)
    return tuple(get_args(literal)) if literal is not None else None


def fact_kind(name: str) -> str:
    """One of 'enum', 'bool', 'int', 'number', 'list' - the shape of a fact, for validation and forms."""
    annotation = PatientProfile.model_fields[name].annotation
    args = [arg for arg in _flatten(annotation) if arg is not type(None)]
    if any(getattr(arg, "__origin__", None) is list for arg in args):
        return "list"
    if any(getattr(arg, "__origin__", None) is Literal for arg in args):
        return "enum"
    if bool in args:
        return "bool"
    if int in args:
        return "int"
    return "number"


def fact_label(name: str) -> str:
    return PatientProfile.model_fields[name].title or name


def fact_unit(name: str) -> str:
    extra = PatientProfile.model_fields[name].json_schema_extra
    return str(extra.get("unit", "")) if isinstance(extra, dict) else ""


def _flatten(annotation: Any) -> list[Any]:
    """The members of a union (X | None), without looking inside list[...] or Literal[...]."""
    if getattr(annotation, "__origin__", None) in (list, Literal) or not get_args(annotation):
        return [annotation]
    return [member for arg in get_args(annotation) for member in _flatten(arg)]


def _find_literal(annotation: Any) -> Any:
    if getattr(annotation, "__origin__", None) is Literal:
        return annotation
    for arg in get_args(annotation):
        found = _find_literal(arg)
        if found is not None:
            return found
    return None


# --- readable validation errors (errors.py) -------------------------------------------------------

register_facts(
    PatientProfile.__name__,
    {name: fact_unit(name) for name in FACT_NAMES},
    {"prior_therapies": "must be a list of modality keys (an empty list means none)"},
)
