"""The patient profile: the facts of contract.md section 1, with their types, units and bounds.

Every fact is optional. An absent or null fact is *unknown*, never false; the engine keeps the
difference. Unknown field names are rejected, never dropped. The model is strict: "yes" is not a
boolean and "3" is not a number, because a decision-support tool must not guess what a caller meant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from .consistency import Contradiction, Loc, contradictions
from .errors import error_list as error_list  # re-exported: callers import it from here
from .errors import has_readable_message as has_readable_message
from .errors import readable_message as readable_message
from .errors import register_facts
from .fingerprint import facts_fingerprint as facts_fingerprint
from .vocabulary import (
    FACT_VALUE_LABELS,
    VALUE_LABELS,
    BestResponse,
    Differentiation,
    DiseaseExtent,
    DiseaseStatus,
    DpdStatus,
    FunctionalSyndrome,
    Funding,
    GastricNetType,
    HereditarySyndrome,
    LungHistology,
    PortalVeinThrombosis,
    PrimarySite,
    Sex,
    SstrImaging,
    WhoGrade,
)
from .vocabulary import MODALITY_KEYS as MODALITY_KEYS
from .vocabulary import ModalityKey as ModalityKey

# Facts that were booleans in contract 1.1 and are enumerations in 1.2: the value a v1 true or false
# stands for. A v1 "true" for portal-vein thrombosis did not say main or branch; it reads as branch,
# which keeps the caution 1.1 gave and never applies the main-trunk contraindication to a thrombosis
# that may be a branch only (knowledge-base review 2026-11, A7).
V1_BOOLEAN_VALUES: dict[str, dict[bool, str]] = {"portal_vein_thrombosis": {True: "branch", False: "none"}}

# The form groups of the clinician page, in the order a clinician thinks about a case.
GROUPS: tuple[tuple[str, str], ...] = (
    ("tumour", "Tumour"),
    ("tumour_detail", "Site-specific tumour details"),
    ("extent", "Extent and resectability"),
    ("liver", "Liver"),
    ("imaging", "Imaging and hormones"),
    ("syndrome", "Hormone syndrome details"),
    ("course", "Course and prior treatment"),
    ("prior_detail", "Details of prior treatment"),
    ("fitness", "Fitness and laboratory"),
    ("safety", "Safety checks before treatment"),
    ("funding", "Funding"),
)
# Groups of rarely needed facts, which a form may show folded (each fact also says "advanced").
ADVANCED_GROUPS: frozenset[str] = frozenset({"tumour_detail", "syndrome", "prior_detail", "safety"})


def _fact(label: str, group: str, *, unit: str = "", help: str = "", **bounds: Any) -> Any:
    """A fact field: optional, with a label, group and unit for forms, schemas and explanations."""
    extra: dict[str, JsonValue] = {"group": group, "unit": unit, "advanced": group in ADVANCED_GROUPS}
    return Field(default=None, title=label, description=help or label, json_schema_extra=extra, **bounds)


class PriorTherapyDetail(BaseModel):
    """One treatment already given, in more detail (contract 1.2): how it went and when it stopped."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)

    modality: ModalityKey = Field(title="Treatment", description="A modality key; also in prior therapies.")
    best_response: BestResponse | None = Field(default=None, title="Best response")
    progressed_on_treatment: bool | None = Field(default=None, title="Progressed on treatment")
    months_since_last_dose: float | None = Field(
        default=None, title="Months since the last dose", ge=0, le=600, json_schema_extra={"unit": "months"}
    )
    pfs_months: float | None = Field(
        default=None,
        title="Progression-free survival",
        description="Months from the start of this treatment to progression.",
        ge=0,
        le=600,
        json_schema_extra={"unit": "months"},
    )


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
    portal_vein_thrombosis: PortalVeinThrombosis | None = _fact(
        "Portal vein thrombosis",
        "liver",
        help="None, a branch only, or the main portal vein. Contract 1.1 sent true/false: true reads as "
        "'branch' (extent not recorded; the main-trunk contraindication needs 'main'), false as 'none'.",
    )
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
    sex: Sex | None = _fact("Sex", "fitness", help="Pregnancy rules apply only where pregnancy is possible.")
    childbearing_potential: bool | None = _fact("Childbearing potential", "fitness")
    breastfeeding: bool | None = _fact("Breastfeeding", "fitness")
    dpd_status: DpdStatus | None = _fact(
        "DPD status", "safety", help="Dihydropyrimidine dehydrogenase test, before any fluoropyrimidine."
    )
    biliary_enteric_anastomosis: bool | None = _fact(
        "Biliary-enteric anastomosis",
        "safety",
        help="Prior Whipple or hepaticojejunostomy, sphincterotomy or biliary stent.",
    )
    syndrome_refractory: bool | None = _fact(
        "Syndrome refractory to SSA",
        "syndrome",
        help="The hormone syndrome is not controlled on a somatostatin analogue.",
    )
    bowel_movements_per_day: int | None = _fact(
        "Bowel movements a day", "syndrome", help="Carcinoid-syndrome diarrhoea.", ge=0, le=50
    )
    lung_histology: LungHistology | None = _fact(
        "Lung histology", "tumour_detail", help="Thoracic tumours (WHO thoracic classification)."
    )
    gastric_net_type: GastricNetType | None = _fact("Gastric NET type", "tumour_detail", help="Gastric NETs.")
    primary_tumour_size_mm: float | None = _fact(
        "Primary tumour size", "tumour_detail", unit="mm", gt=0, le=500
    )
    hereditary_syndrome: HereditarySyndrome | None = _fact("Hereditary syndrome", "tumour_detail")
    months_since_diagnosis: float | None = _fact(
        "Months since diagnosis", "course", unit="months", ge=0, le=600
    )
    haemoglobin_g_l: float | None = _fact("Haemoglobin", "fitness", unit="g/L", ge=20, le=250)
    prior_therapy_details: list[PriorTherapyDetail] | None = _fact(
        "Details of prior therapies",
        "prior_detail",
        help="Optional: per treatment given, the best response, progression on it, months since the "
        "last dose and progression-free survival. Each treatment must also be in prior therapies.",
    )
    funding: Funding | None = Field(
        default="nhs",
        title="Funding",
        description="Drives NHS commissioning rules. Absent or null means NHS (the unit's setting).",
        json_schema_extra={"group": "funding", "unit": "", "advanced": False},
    )

    @field_validator(
        "liver_lesion_count", "krenning_score", "age_years", "ecog", "bowel_movements_per_day", mode="before"
    )
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

    @field_validator(*V1_BOOLEAN_VALUES, mode="before")
    @classmethod
    def _v1_boolean(cls, value: Any, info: ValidationInfo) -> Any:
        # Contract 1.1 clients (and stored 1.1 profiles) still send a boolean for these facts.
        if isinstance(value, bool) and info.field_name is not None:
            return V1_BOOLEAN_VALUES[info.field_name][value]
        return value

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> PatientProfile:
        """Refuse known facts that contradict each other, with an error at every fact involved."""
        if isinstance(info.context, Mapping) and info.context.get(_STORED):
            return self
        found = contradictions(self.__dict__)
        if found:
            raise ValidationError.from_exception_data(
                type(self).__name__, [detail for item in found for detail in _errors_of(item, self)]
            )
        return self

    @classmethod
    def from_stored(cls, data: Any) -> PatientProfile:
        """A profile as it was stored, without the consistency checks of contract 1.2.

        An evaluation stored before 1.2 must stay readable even when its facts would now be refused.
        """
        return cls.model_validate(data, context={_STORED: True})

    def known_facts(self) -> dict[str, Any]:
        """The facts that have a value, in contract order (funding always has one), as plain JSON
        data: what a case and an evaluation store (prior-therapy details as objects, not models)."""
        return self.model_dump(mode="json", exclude_none=True)


FACT_NAMES: tuple[str, ...] = tuple(PatientProfile.model_fields)
_STORED = "stored"  # validation context: a stored profile, read without the 1.2 consistency checks


def _errors_of(found: Contradiction, profile: PatientProfile) -> list[InitErrorDetails]:
    """One error per place involved, each naming the other facts with their values."""
    return [
        InitErrorDetails(
            type=PydanticCustomError(
                "inconsistent_facts",
                "{message}",
                {"message": f"contradicts {_others(found, loc, profile)}: {found.why}", "check": found.check},
            ),
            loc=loc,
            input=_value_at(profile, loc),
        )
        for loc in found.locs
    ]


def _others(found: Contradiction, loc: Loc, profile: PatientProfile) -> str:
    """The other facts of a contradiction in words: "Ki-67 index (22 %)"."""
    words = []
    for other in found.locs:
        if other == loc:
            continue
        name = str(other[0])
        value = _value_at(profile, other)
        shown = value is not None and not isinstance(value, list)
        words.append(f"{fact_label(name)} ({_in_words(name, value)})" if shown else fact_label(name))
    return " and ".join(words)


def _in_words(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        label = value_label(value, name)
        return label[0].lower() + label[1:] if label[1:2].islower() else label
    number = int(value) if isinstance(value, float) and value.is_integer() else value
    unit = fact_unit(name)
    return f"{number} {unit}" if unit else str(number)


def _value_at(profile: PatientProfile, loc: Loc) -> Any:
    value: Any = profile
    for part in loc:
        value = value[part] if isinstance(part, int) else getattr(value, part)
    return value


def value_label(value: str, fact: str | None = None) -> str:
    """An enumerated value as a label: "poorly" -> "Poorly differentiated (NEC)".

    Give the fact where the same word means different things ("none" syndrome: non-functioning).
    """
    label = FACT_VALUE_LABELS.get((fact, value)) if fact else None
    label = label or VALUE_LABELS.get(value)
    if label is None:
        words = value.replace("_", " ")
        label = words[:1].upper() + words[1:]
    return label


def fact_choices(name: str) -> tuple[str, ...] | None:
    """The allowed values of an enumerated fact (or of a list fact's items), else None."""
    literal = find_literal(PatientProfile.model_fields[name].annotation)
    return tuple(get_args(literal)) if literal is not None else None


def fact_kind(name: str) -> str:
    """One of 'enum', 'bool', 'int', 'number', 'list' (of modality keys) or 'records' (a list of
    objects, such as prior_therapy_details) - the shape of a fact, for validation and forms."""
    annotation = PatientProfile.model_fields[name].annotation
    args = [arg for arg in _flatten(annotation) if arg is not type(None)]
    for arg in args:
        if getattr(arg, "__origin__", None) is list:
            (item,) = get_args(arg)
            return "records" if isinstance(item, type) and issubclass(item, BaseModel) else "list"
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


def find_literal(annotation: Any) -> Any:
    """The Literal[...] inside a field's annotation (e.g. of `X | None`), or None."""
    if getattr(annotation, "__origin__", None) is Literal:
        return annotation
    for arg in get_args(annotation):
        found = find_literal(arg)
        if found is not None:
            return found
    return None


# --- readable validation errors (errors.py) -------------------------------------------------------

register_facts(
    PatientProfile.__name__,
    {name: fact_unit(name) for name in FACT_NAMES},
    {"prior_therapies": "must be a list of modality keys (an empty list means none)"},
)
