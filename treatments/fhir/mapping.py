"""FHIR R4 resources -> the facts of a patient profile, each with its sources (docs/fhir.md).

Three steps, each pure:

1. **Envelope** (`map_bundle`): the Bundle is parsed with the FHIR R4B models of `fhir.resources`
   (R4B is wire-compatible with R4 for every resource read here; the package's root models are R5
   and would refuse R4 data). Invalid FHIR, two patients, a deceased patient or too many entries
   raise `FhirInputError` naming the element; nothing is mapped.
2. **Candidates**: every usable resource gives zero or more candidate values, each with its source
   (reference, date, code, original value) and its level: `direct` (a standard code states it),
   `derived` (a documented rule over standard data) or `proposed` (plausible; a clinician confirms).
   Unusable resources give issues (`status_ignored`, `unit_missing`, `subject_mismatch`, ...).
3. **Resolution** per fact: too old -> dropped (`stale`); then by the fact's class: latest wins
   (measurements), all must agree (tumour categories: else unknown + `conflict`), Ki-67 bands,
   presence (a positive unless a later explicit negative), sets (union). Absence is never a value:
   `false`, `none` and `[]` come only from explicit negative statements.

The result's `profile` holds direct and derived facts only and validates as a `PatientProfile`;
`proposals` are shown for confirmation and never evaluated until a clinician accepts them.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal

from pydantic import ValidationError

from treatments.rules.profile import FACT_NAMES, MODALITY_KEYS, PatientProfile, fact_choices
from treatments.rules.profile import fact_kind as profile_fact_kind

from . import codes as C
from .units import convert, ucum_from_text

MAPPING_VERSION: Final = "fhir-map-1.1.0"  # 1.1: N1+ -> locoregional, liver transplant procedure

# The shape of each fact and its allowed values, read once from the profile (they are asked per value).
FACT_KINDS: Final = {fact: profile_fact_kind(fact) for fact in FACT_NAMES}
FACT_CHOICES: Final = {fact: fact_choices(fact) or () for fact in FACT_NAMES}


def fact_kind(fact: str) -> str:
    return FACT_KINDS[fact]


Level = Literal["direct", "derived", "proposed"]
Severity = Literal["error", "warning", "information"]
Loc = tuple[str | int, ...]

BUNDLE_TYPES: Final = frozenset({"collection", "searchset", "transaction", "batch", "document"})
CLINICAL_TYPES: Final = frozenset(
    {
        "Condition",
        "Observation",
        "MedicationRequest",
        "MedicationAdministration",
        "MedicationStatement",
        "Procedure",
        "List",
        "QuestionnaireResponse",
    }
)

# --- options ----------------------------------------------------------------------------------

# Freshness keys: a fact name, or a candidate's own key when the rule has its own window.
M0_NEGATIVE: Final = "m0_negatives"
ASSESSMENT: Final = "assessment"

DEFAULT_MAX_AGE_DAYS: Final[dict[str, int | None]] = {
    "egfr_ml_min": 30,
    "platelets_10e9_l": 30,
    "neutrophils_10e9_l": 30,
    "bilirubin_umol_l": 30,
    "haemoglobin_g_l": 30,
    "ecog": 30,
    "pregnant": 30,
    "sstr_imaging": 180,
    "krenning_score": 180,
    "disease_status": 180,
    M0_NEGATIVE: 180,
    ASSESSMENT: 90,
}


@dataclass(frozen=True)
class MappingOptions:
    """The policy of a mapping: freshness windows and limits (settings fill it; docs/fhir.md 2)."""

    # Max age in days per freshness key (a fact name, "m0_negatives", "assessment"); a key that is
    # absent or None has no limit (pathology, prior therapies, ...).
    max_age_days: Mapping[str, int | None] = field(default_factory=lambda: dict(DEFAULT_MAX_AGE_DAYS))
    max_entries: int = 5000
    # Information issue `old_pathology` when the newest source of a pathology fact is older.
    old_pathology_years: int = 3
    # Both agents of a combination regimen (capecitabine + temozolomide, ...) within this many days.
    combination_window_days: int = 28
    # `disease_status = new_diagnosis` is proposed when the primary was recorded this recently.
    new_diagnosis_days: int = 90
    # Conflict rule for Ki-67: values on different sides of these limits (WHO bands) conflict.
    ki67_band_limits: tuple[float, ...] = (3.0, 20.0)
    # Validate every resource with the FHIR R4B models (structure, datatypes, cardinalities).
    validate: bool = True
    # The unit's local procedure value set ("system|code" -> modality key), beside the codes the
    # mapping knows (codes.MODALITY_BY_PROCEDURE): TACE, ablation ... as the unit codes them.
    procedure_codes: Mapping[str, str] = field(default_factory=dict)

    def max_age(self, key: str) -> int | None:
        return self.max_age_days.get(key)


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    """Something the mapping noticed: a conflict, a stale value, a unit it refused, ..."""

    severity: Severity
    code: str
    message: str
    fact: str | None = None
    resource: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {key: value for key, value in dataclasses.asdict(self).items() if value is not None}


@dataclass(frozen=True)
class Source:
    """One resource a value came from: its reference, date and the code and value as sent."""

    ref: str
    full_url: str | None
    effective: date | None
    code: str | None
    original: Any = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ref": self.ref,
            "effective": self.effective.isoformat() if self.effective else None,
        }
        if self.full_url:
            out["fullUrl"] = self.full_url
        if self.code:
            out["code"] = self.code
        if self.original is not None:
            out["original"] = self.original
        return out


@dataclass(frozen=True)
class Candidate:
    """A value one resource gives for one fact."""

    fact: str
    value: Any
    level: Level
    rule: str
    source: Source
    freshness: str = ""  # the max-age key; the fact's own when empty
    corrected: bool = False  # an amended or corrected Observation wins a same-day tie
    issued: str = ""

    @property
    def when(self) -> date | None:
        return self.source.effective


@dataclass
class MappingResult:
    """The mapped facts, their provenance, the proposals to confirm and the issues found."""

    profile: dict[str, Any]
    provenance: dict[str, dict[str, Any]]
    proposals: dict[str, dict[str, Any]]
    issues: list[Issue]
    as_of: date
    patient: dict[str, Any]
    mapping_version: str = MAPPING_VERSION

    def issue_codes(self) -> set[tuple[str, str | None]]:
        return {(issue.code, issue.fact) for issue in self.issues}

    def as_json(self) -> dict[str, Any]:
        """The answer of the API and the CLI (docs/fhir.md section 5)."""
        return {
            "profile": self.profile,
            "provenance": self.provenance,
            "proposals": self.proposals,
            "issues": [issue.as_json() for issue in self.issues],
            "patient": self.patient,
            "mapping_version": self.mapping_version,
            "as_of": self.as_of.isoformat(),
        }


class FhirInputError(ValueError):
    """Input that cannot be mapped at all: nothing is mapped, the caller answers 4xx.

    `code` is stable (invalid, not_a_bundle, multiple_patients, deceased, too_many_entries, ...);
    each error's `loc` is a FHIRPath-like location, e.g. ("bundle", "entry", 3, "resource", "status").
    """

    def __init__(self, code: str, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.errors = errors or [{"loc": ["bundle"], "msg": message}]

    @property
    def location(self) -> str:
        """The first error's location as a FHIRPath-like string: Bundle.entry[3].resource.status."""
        return fhirpath(self.errors[0]["loc"] if self.errors else ["bundle"])


def fhirpath(loc: list[Any] | tuple[Any, ...]) -> str:
    """An error location as FHIRPath: ["bundle", "entry", 3, "resource", "status"] ->
    "Bundle.entry[3].resource.status" (a leading "resources" for prefetch lists stays as is)."""
    text = ""
    for index, part in enumerate(loc):
        if isinstance(part, int):
            text += f"[{part}]"
        elif index == 0:
            text = "Bundle" if part == "bundle" else str(part)
        else:
            text += f".{part}"
    return text


# --- entry points -----------------------------------------------------------------------------


def map_bundle(
    bundle: dict[str, Any], *, now: datetime, options: MappingOptions | None = None
) -> MappingResult:
    """Map a FHIR R4 Bundle. Raises FhirInputError (nothing mapped) on invalid or unsafe input."""
    options = options or MappingOptions()
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        found = bundle.get("resourceType") if isinstance(bundle, dict) else type(bundle).__name__
        raise FhirInputError(
            "not_a_bundle",
            f"expected a FHIR Bundle, got {found!r}",
            [{"loc": ["bundle", "resourceType"], "msg": "must be 'Bundle'"}],
        )
    entries = bundle.get("entry") or []
    if isinstance(entries, list) and len(entries) > options.max_entries:
        raise FhirInputError(
            "too_many_entries",
            f"the bundle has {len(entries)} entries; at most {options.max_entries} are accepted",
            [{"loc": ["bundle", "entry"], "msg": f"at most {options.max_entries} entries"}],
        )
    if options.validate:
        validate_bundle(bundle)
    if bundle.get("type") not in BUNDLE_TYPES:
        raise FhirInputError(
            "bundle_type",
            f"a {bundle.get('type')!r} bundle cannot be mapped",
            [{"loc": ["bundle", "type"], "msg": f"must be one of {', '.join(sorted(BUNDLE_TYPES))}"}],
        )
    items: list[tuple[dict[str, Any], str | None, Loc]] = [
        (entry["resource"], entry.get("fullUrl"), ("bundle", "entry", index, "resource"))
        for index, entry in enumerate(entries)
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict)
    ]
    return _map(items, patient_id=None, now=now, options=options)


def map_resources(
    resources: list[dict[str, Any] | None],
    *,
    patient_id: str | None,
    now: datetime,
    options: MappingOptions | None = None,
) -> MappingResult:
    """Map loose resources (CDS Hooks prefetch): Bundles among them are opened, OperationOutcomes
    and nulls skipped. `patient_id` is the patient in context; resources about others are ignored."""
    options = options or MappingOptions()
    items: list[tuple[dict[str, Any], str | None, Loc]] = []
    issues: list[Issue] = []
    for index, resource in enumerate(resources):
        if resource is None:
            continue
        loc: Loc = ("resources", index)
        if not isinstance(resource, dict):
            raise FhirInputError(
                "invalid", "a resource must be a JSON object", [{"loc": list(loc), "msg": "not an object"}]
            )
        kind = resource.get("resourceType")
        if kind == "OperationOutcome":
            issues.append(Issue("warning", "prefetch_error", "a prefetch answered with an OperationOutcome"))
            continue
        if options.validate:
            # A searchset Bundle envelope and each of its resources by its own model (and the quick
            # check), rather than the whole Bundle polymorphically.
            errors = _bundle_errors(resource, loc) if kind == "Bundle" else _resource_errors(resource, loc)
            if errors:
                raise FhirInputError("invalid", "a resource is not valid FHIR R4", errors)
        if kind == "Bundle":
            for entry_index, entry in enumerate(resource.get("entry") or []):
                if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                    items.append(
                        (entry["resource"], entry.get("fullUrl"), (*loc, "entry", entry_index, "resource"))
                    )
        else:
            items.append((resource, None, loc))
    if len(items) > options.max_entries:
        raise FhirInputError(
            "too_many_entries",
            f"{len(items)} resources; at most {options.max_entries} are accepted",
            [{"loc": ["resources"], "msg": f"at most {options.max_entries} resources"}],
        )
    result = _map(items, patient_id=patient_id, now=now, options=options)
    result.issues[:0] = issues
    return result


# --- envelope ---------------------------------------------------------------------------------


def validate_bundle(bundle: dict[str, Any]) -> None:
    """Parse the Bundle with the FHIR R4B models; errors name the element (loc from "bundle").

    The envelope is validated without its entries' resources, then each resource by the model of
    its own type: the same checks, in half the time of the polymorphic `Bundle.entry.resource`.
    Each part first goes through the quick structural check built from the same models
    (fastcheck.py); only what it cannot vouch for is validated by the models, which give the errors."""
    errors = _bundle_errors(bundle, ("bundle",))
    if errors:
        raise FhirInputError("invalid", "the bundle is not valid FHIR R4", errors)


def _bundle_errors(bundle: dict[str, Any], prefix: Loc) -> list[dict[str, Any]]:
    """The validation errors of a Bundle (envelope, then each resource; loc from `prefix`)."""
    from fhir.resources.R4B.bundle import Bundle

    from .fastcheck import certainly_valid

    entries = bundle.get("entry")
    shallow = bundle
    if isinstance(entries, list):
        shallow = {**bundle, "entry": [_without_resource(entry) for entry in entries]}
    errors: list[dict[str, Any]] = []
    if not certainly_valid(shallow, Bundle):
        try:
            Bundle.model_validate(shallow)
        except ValidationError as error:
            errors = _fhir_errors(error, prefix)
    if not errors and isinstance(entries, list):
        for index, entry in enumerate(entries):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if resource is not None:
                errors = _resource_errors(resource, (*prefix, "entry", index, "resource"))
            if errors:
                break
    return errors


def _without_resource(entry: Any) -> Any:
    return (
        {key: value for key, value in entry.items() if key != "resource"}
        if isinstance(entry, dict)
        else entry
    )


def _resource_errors(resource: Any, loc: Loc) -> list[dict[str, Any]]:
    """The validation errors of one resource by the model of its resourceType (loc prefixed)."""
    from fhir.resources.R4B import get_fhir_model_class

    from .fastcheck import certainly_valid

    if not isinstance(resource, dict):
        return [{"loc": list(loc), "msg": "must be a FHIR resource (a JSON object)"}]
    kind = resource.get("resourceType")
    try:
        if not isinstance(kind, str) or not kind.isalpha():
            raise ValueError(kind)
        model = get_fhir_model_class(kind)
    except (KeyError, ValueError, AttributeError):
        return [
            {
                "loc": [*loc, "resourceType"],
                "msg": f"not a FHIR R4 resource type: {resource.get('resourceType')!r}",
            }
        ]
    if certainly_valid(resource, model):
        return []
    try:
        model.model_validate(resource)
    except ValidationError as error:
        return _fhir_errors(error, loc)
    return []


def _fhir_errors(error: ValidationError, prefix: Loc) -> list[dict[str, Any]]:
    out = []
    for detail in error.errors()[:50]:
        loc = [part for part in detail["loc"] if not (isinstance(part, str) and part.startswith("function-"))]
        out.append({"loc": [*prefix, *loc], "msg": str(detail["msg"])})
    return out


@dataclass
class _Patient:
    id: str | None
    refs: set[str]
    resource: dict[str, Any] | None
    ref: str | None


def _find_patient(items: list[tuple[dict[str, Any], str | None, Loc]], patient_id: str | None) -> _Patient:
    patients = [(res, url, loc) for res, url, loc in items if res.get("resourceType") == "Patient"]
    distinct = {(res.get("id"), url) for res, url, _ in patients}
    ids = {res.get("id") for res, _, _ in patients}
    if len(distinct) > 1 and len(ids) > 1 or len(ids) == 1 and len(distinct) > 1 and None in ids:
        raise FhirInputError(
            "multiple_patients",
            "the input holds more than one patient",
            [{"loc": [*loc, "id"], "msg": "a second Patient"} for _, _, loc in patients[1:]],
        )
    if patients:
        resource, url, loc = patients[0]
        if patient_id is not None and resource.get("id") != patient_id:
            raise FhirInputError(
                "subject_mismatch",
                f"the Patient is {resource.get('id')!r}, not the patient in context {patient_id!r}",
                [{"loc": [*loc, "id"], "msg": "not the patient in context"}],
            )
        _check_alive(resource, loc)
        pid = resource.get("id")
        refs = {f"Patient/{pid}"} if pid else set()
        if url:
            refs.add(url)
        return _Patient(pid, refs, resource, f"Patient/{pid}" if pid else url)
    if patient_id is not None:
        return _Patient(patient_id, {f"Patient/{patient_id}"}, None, f"Patient/{patient_id}")
    # No Patient resource: the subjects must all name one patient.
    subjects = {_subject(res) for res, _, _ in items if res.get("resourceType") in CLINICAL_TYPES} - {None}
    if len(subjects) > 1:
        raise FhirInputError(
            "multiple_patients",
            f"the resources are about {len(subjects)} different patients",
            [{"loc": ["bundle", "entry"], "msg": "subjects: " + ", ".join(sorted(str(s) for s in subjects))}],
        )
    only = next(iter(subjects), None)
    return _Patient(only.rpartition("/")[2] if only else None, {only} if only else set(), None, only)


def _check_alive(patient: dict[str, Any], loc: Loc) -> None:
    if patient.get("deceasedBoolean") is True or patient.get("deceasedDateTime"):
        element = "deceasedBoolean" if patient.get("deceasedBoolean") is True else "deceasedDateTime"
        raise FhirInputError(
            "deceased",
            "the patient is recorded as deceased; no treatment options are evaluated",
            [{"loc": [*loc, element], "msg": "the patient is deceased"}],
        )


def _subject(resource: dict[str, Any]) -> str | None:
    for key in ("subject", "patient"):
        value = resource.get(key)
        if isinstance(value, dict) and isinstance(value.get("reference"), str):
            return str(value["reference"])
    return None


def _is_about(resource: dict[str, Any], patient: _Patient) -> bool:
    subject = _subject(resource)
    if subject is None or not patient.refs:
        return True  # nothing says it is about someone else (a List of the bundle's patient, ...)
    if subject in patient.refs:
        return True
    return patient.id is not None and subject.endswith(f"/Patient/{patient.id}")


# --- the mapping ------------------------------------------------------------------------------


@dataclass
class _Context:
    as_of: date
    options: MappingOptions
    patient: _Patient
    by_ref: dict[str, dict[str, Any]]
    candidates: list[Candidate] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    primaries: dict[str, Source] = field(default_factory=dict)  # refs of NET primary conditions
    medications: list[tuple[str, Source, date | None, date | None]] = field(default_factory=list)
    cancer_treatment_seen: bool = False
    disease_status_seen: bool = False

    def issue(
        self, severity: Severity, code: str, message: str, *, fact: str | None = None, ref: str | None = None
    ) -> None:
        self.issues.append(Issue(severity, code, message, fact, ref))

    def add(self, candidate: Candidate) -> None:
        self.candidates.append(candidate)


def _map(
    items: list[tuple[dict[str, Any], str | None, Loc]],
    *,
    patient_id: str | None,
    now: datetime,
    options: MappingOptions,
) -> MappingResult:
    patient = _find_patient(items, patient_id)
    as_of = now.date()
    by_ref: dict[str, dict[str, Any]] = {}
    for resource, url, _ in items:
        if resource.get("id"):
            by_ref[f"{resource.get('resourceType')}/{resource['id']}"] = resource
        if url:
            by_ref[url] = resource
    ctx = _Context(as_of=as_of, options=options, patient=patient, by_ref=by_ref)
    usable = []
    for resource, url, _ in items:
        kind = resource.get("resourceType")
        if kind not in CLINICAL_TYPES:
            continue
        ref = _ref(resource, url)
        if not _is_about(resource, patient):
            ctx.issue(
                "warning",
                "subject_mismatch",
                f"{ref} is about {_subject(resource)}, not this patient; ignored",
                ref=ref,
            )
            continue
        usable.append((resource, url))
    # Conditions first: procedures and medications refer to the primary.
    usable.sort(key=lambda pair: pair[0].get("resourceType") != "Condition")
    if patient.resource is not None:
        _patient_facts(ctx, patient.resource, _full_url(items, patient.resource))
    for resource, url in usable:
        HANDLERS[resource["resourceType"]](ctx, resource, url)
    _combine_medications(ctx)
    _propose_new_diagnosis(ctx)
    profile, provenance, proposals = _resolve(ctx)
    return MappingResult(
        profile=profile,
        provenance=provenance,
        proposals=proposals,
        issues=ctx.issues,
        as_of=as_of,
        patient=_patient_summary(patient),
    )


def _full_url(items: list[tuple[dict[str, Any], str | None, Loc]], resource: dict[str, Any]) -> str | None:
    return next((url for res, url, _ in items if res is resource), None)


def _ref(resource: dict[str, Any], url: str | None) -> str:
    if resource.get("id"):
        return f"{resource['resourceType']}/{resource['id']}"
    return url or str(resource.get("resourceType"))


def _source(
    resource: dict[str, Any], url: str | None, when: date | None, code: str | None, original: Any
) -> Source:
    return Source(ref=_ref(resource, url), full_url=url, effective=when, code=code, original=original)


def _patient_summary(patient: _Patient) -> dict[str, Any]:
    """Who the data are about: id, NHS number and other identifiers (for a new case)."""
    out: dict[str, Any] = {"ref": patient.ref, "nhs_number": None, "identifiers": []}
    resource = patient.resource or {}
    for identifier in resource.get("identifier") or []:
        system, value = identifier.get("system"), identifier.get("value")
        if not value:
            continue
        if system == C.NHS_NUMBER:
            out["nhs_number"] = str(value).replace(" ", "")
        else:
            type_code = next(
                (coding.get("code") for coding in (identifier.get("type") or {}).get("coding") or []), None
            )
            out["identifiers"].append({"system": system, "value": value, "type": type_code})
    for key in ("birthDate", "gender"):
        if resource.get(key):
            out[key] = resource[key]
    return out


# --- FHIR datatypes ---------------------------------------------------------------------------


def _date(value: Any) -> date | None:
    """A FHIR date/dateTime/instant as a date; a partial date (2021, 2021-05) as its first day."""
    if not isinstance(value, str) or len(value) < 4:
        return None
    try:
        if len(value) == 4:
            return date(int(value), 1, 1)
        if len(value) == 7:
            return date(int(value[:4]), int(value[5:7]), 1)
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _codings(concept: Any) -> Iterator[str]:
    """`system|code` for each coding of a CodeableConcept (or of a Coding)."""
    if not isinstance(concept, dict):
        return
    codings = concept.get("coding") if "coding" in concept else [concept]
    for coding in codings or []:
        if isinstance(coding, dict) and coding.get("code"):
            yield f"{coding.get('system', '')}|{coding['code']}"


def _codes_of(concepts: Iterable[Any]) -> list[str]:
    return [code for concept in concepts for code in _codings(concept)]


def _first(table: Mapping[str, Any], codes: Iterable[str]) -> tuple[str, Any] | None:
    for code in codes:
        if code in table:
            return code, table[code]
    return None


def _code_value(code: str) -> str:
    return code.partition("|")[2]


def _system(code: str) -> str:
    return code.partition("|")[0]


def _status_code(concept: Any) -> str | None:
    return next((_code_value(code) for code in _codings(concept)), None)


# --- Patient ----------------------------------------------------------------------------------


def _patient_facts(ctx: _Context, patient: dict[str, Any], url: str | None) -> None:
    birth = patient.get("birthDate")
    if isinstance(birth, str):
        age = _age(birth, ctx.as_of)
        source = _source(patient, url, None, None, {"birthDate": birth})
        if age is None:
            ctx.issue(
                "information",
                "partial_birthdate",
                f"birth date {birth} is too coarse for an age",
                fact="age_years",
                ref=source.ref,
            )
        else:
            ctx.add(Candidate("age_years", age, "derived", "fhir.patient.age", source))
    gender = patient.get("gender")
    if gender in C.GENDER_TO_SEX:
        # Administrative gender is not always sex: a clinician confirms it (pregnancy rules hang on it).
        source = _source(patient, url, None, None, {"gender": gender})
        ctx.add(Candidate("sex", C.GENDER_TO_SEX[gender], "proposed", "fhir.patient.gender", source))


def _age(birth: str, as_of: date) -> int | None:
    """Age in whole years at `as_of`; for a partial birth date only if every possible day agrees."""
    parts = birth.split("-")
    try:
        year = int(parts[0])
        months = [int(parts[1])] if len(parts) > 1 else list(range(1, 13))
        if len(parts) > 2:
            earliest = latest = date.fromisoformat(birth[:10])
        else:
            earliest = date(year, months[0], 1)
            last_month = months[-1]
            next_first = date(year + (last_month == 12), last_month % 12 + 1, 1)
            latest = next_first - timedelta(days=1)
    except ValueError:
        return None
    ages = {_years(earliest, as_of), _years(latest, as_of)}
    return ages.pop() if len(ages) == 1 else None


def _years(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


# --- Condition --------------------------------------------------------------------------------


def _condition(ctx: _Context, resource: dict[str, Any], url: str | None) -> None:
    ref = _ref(resource, url)
    verification = _status_code(resource.get("verificationStatus"))
    clinical = _status_code(resource.get("clinicalStatus"))
    if verification in C.CONDITION_IGNORED:
        ctx.issue("information", "status_ignored", f"{ref} is {verification}; ignored", ref=ref)
        return
    unverified = verification in C.CONDITION_UNVERIFIED
    if unverified:
        ctx.issue(
            "warning",
            "unverified_condition",
            f"{ref} is {verification}: its values are proposals only",
            ref=ref,
        )
    when = _date(resource.get("recordedDate")) or _date(resource.get("onsetDateTime"))
    if when is not None and when > ctx.as_of + timedelta(days=1):
        ctx.issue("warning", "future_date", f"{ref} is dated {when}, after {ctx.as_of}; ignored", ref=ref)
        return
    codes = list(_codings(resource.get("code")))
    morphology = _morphology(resource)
    body_sites = _codes_of(resource.get("bodySite") or [])
    present = clinical is None or clinical in C.CONDITION_PRESENT

    def add(fact: str, value: Any, level: Level, rule: str, code: str | None, freshness: str = "") -> None:
        chosen: Level = "proposed" if unverified else level
        source = _source(resource, url, when, code, None)
        ctx.add(Candidate(fact, value, chosen, rule, source, freshness))

    if _is_net(codes, morphology):
        if not present:
            ctx.issue("information", "inactive_condition", f"{ref} is {clinical}; not used", ref=ref)
            return
        _primary(ctx, resource, url, ref, codes, morphology, body_sites, when, add, unverified)
        return
    if not present:
        return
    _secondary_and_presence(codes, body_sites, add, ctx, ref)


def _morphology(resource: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for extension in resource.get("extension") or []:
        if isinstance(extension, dict) and extension.get("url") == C.MCODE_HISTOLOGY_EXTENSION:
            found.extend(_codings(extension.get("valueCodeableConcept")))
    return found


def _is_net(codes: list[str], morphology: list[str]) -> bool:
    for code in codes:
        system, value = _system(code), _code_value(code)
        if system == C.ICD10 and value.startswith(C.NET_ICD10_PREFIXES):
            return True
        if system == C.ICD10CM and value.startswith(("C7A",)):
            return True
    return any(_morphology_known(code) for code in [*morphology, *codes])


def _morphology_known(code: str) -> bool:
    value = _code_value(code)
    if _system(code) == C.ICDO3:
        return (
            value in C.DIFFERENTIATION_BY_ICDO3
            or value in C.SITE_BY_MORPHOLOGY
            or value in C.MIXED_HISTOLOGY_ICDO3
        )
    return code in C.MORPHOLOGY_BY_SNOMED


def _primary(
    ctx: _Context,
    resource: dict[str, Any],
    url: str | None,
    ref: str,
    codes: list[str],
    morphology: list[str],
    body_sites: list[str],
    when: date | None,
    add: Any,
    unverified: bool,
) -> None:
    if not unverified:
        # The date of diagnosis (onset) when given, else when the condition was recorded: what
        # `new_diagnosis` is proposed from.
        diagnosed = _date(resource.get("onsetDateTime")) or when
        ctx.primaries[ref] = _source(resource, url, diagnosed, None, None)
        if url:
            ctx.primaries[url] = ctx.primaries[ref]
    all_codes = [*morphology, *codes]
    icdo = [_code_value(code) for code in all_codes if _system(code) == C.ICDO3]
    site = _site(body_sites, codes, icdo)
    if site is not None:
        add("primary_site", site[1], "direct", "fhir.condition.primary_site", site[0])
    for value in icdo:
        if value in C.DIFFERENTIATION_BY_ICDO3:
            differentiation, level = C.DIFFERENTIATION_BY_ICDO3[value]
            add("differentiation", differentiation, level, "fhir.condition.morphology", f"{C.ICDO3}|{value}")
        if value in C.SYNDROME_BY_ICDO3:
            add(
                "functional_syndrome",
                C.SYNDROME_BY_ICDO3[value],
                "direct",
                "fhir.condition.morphology",
                f"{C.ICDO3}|{value}",
            )
        if value in C.MIXED_HISTOLOGY_ICDO3:
            ctx.issue(
                "warning",
                "mixed_histology",
                f"{ref}: mixed neuroendocrine-non-neuroendocrine neoplasm (MiNEN)",
                fact="differentiation",
                ref=ref,
            )
        if value in C.LUNG_HISTOLOGY_BY_ICDO3 and site is not None and site[1] == "lung_bronchus":
            add(
                "lung_histology",
                C.LUNG_HISTOLOGY_BY_ICDO3[value],
                "derived",
                "fhir.condition.lung_histology",
                f"{C.ICDO3}|{value}",
            )
    for code in all_codes:
        if code in C.MORPHOLOGY_BY_SNOMED:
            differentiation, level, grade = C.MORPHOLOGY_BY_SNOMED[code]
            add("differentiation", differentiation, level, "fhir.condition.morphology", code)
            if grade is not None:
                add("who_grade", grade, "direct", "fhir.condition.morphology_grade", code)
        if _system(code) == C.ICD10CM and _code_value(code) in C.DIFFERENTIATION_BY_ICD10CM:
            add(
                "differentiation",
                C.DIFFERENTIATION_BY_ICD10CM[_code_value(code)],
                "direct",
                "fhir.condition.icd10cm",
                code,
            )
    onset = _date(resource.get("onsetDateTime"))
    if onset is not None and not unverified:
        months = round((ctx.as_of - onset).days / 30.4375, 1)
        if 0 <= months <= 600:
            source = _source(resource, url, onset, None, {"onsetDateTime": resource.get("onsetDateTime")})
            ctx.add(Candidate("months_since_diagnosis", months, "derived", "fhir.condition.onset", source))


def _site(body_sites: list[str], codes: list[str], icdo: list[str]) -> tuple[str, str] | None:
    """(code, site) by precedence: bodySite, then ICD topography, then morphology."""
    morphology_site = next(
        ((f"{C.ICDO3}|{v}", C.SITE_BY_MORPHOLOGY[v]) for v in icdo if v in C.SITE_BY_MORPHOLOGY), None
    )
    if morphology_site is not None:
        # Medullary thyroid, paraganglioma and phaeochromocytoma are named by their morphology.
        return morphology_site
    found = _first(C.SITE_BY_BODY_SITE, body_sites)
    if found is not None:
        return found
    for code in codes:
        system, value = _system(code), _code_value(code)
        if system == C.ICD10CM and value in C.SITE_BY_ICD10CM:
            return code, C.SITE_BY_ICD10CM[value]
        if system in (C.ICD10, C.ICD10CM):
            site = _by_prefix(C.SITE_BY_ICD10_PREFIX, value)
            if site is not None and not (site == "unknown_primary" and system == C.ICD10CM):
                return code, site
    return None


def _by_prefix(table: Mapping[str, str], value: str) -> str | None:
    for prefix in sorted(table, key=len, reverse=True):
        if value.startswith(prefix):
            return table[prefix]
    return None


def _secondary_and_presence(
    codes: list[str], body_sites: list[str], add: Any, ctx: _Context, ref: str
) -> None:
    liver = any(code in C.LIVER_SECONDARY_CODES for code in codes)
    distant = liver or any(code in C.DISTANT_SECONDARY_SNOMED for code in codes)
    extrahepatic = None
    for code in codes:
        system, value = _system(code), _code_value(code)
        if value.startswith(C.DISTANT_SECONDARY_ICD_PREFIXES.get(system, ("\0",))):
            distant = True
        if value.startswith(C.EXTRAHEPATIC_ICD_PREFIXES.get(system, ("\0",))):
            extrahepatic = code
    if distant and any(site in C.LIVER_BODY_SITES for site in body_sites):
        liver = True
    if distant:
        add("disease_extent", "metastatic", "derived", "fhir.condition.secondary", next(iter(codes), None))
    if liver:
        liver_code = next((c for c in codes if c in C.LIVER_SECONDARY_CODES), next(iter(codes), None))
        add("liver_metastases", True, "direct", "fhir.condition.liver_secondary", liver_code)
    if extrahepatic:
        add("extrahepatic_disease", True, "direct", "fhir.condition.extrahepatic_secondary", extrahepatic)
    syndrome = next((code for code in codes if code in C.CARCINOID_SYNDROME_CODES), None)
    if syndrome:
        add(
            "functional_syndrome",
            "carcinoid_syndrome",
            "direct",
            "fhir.condition.carcinoid_syndrome",
            syndrome,
        )
    hereditary = _first(C.HEREDITARY_BY_CODE, codes)
    if hereditary:
        add("hereditary_syndrome", hereditary[1], "direct", "fhir.condition.hereditary", hereditary[0])
    if any(
        code in C.PVT_CODES or _code_value(code).startswith("I81") and _system(code) in (C.ICD10, C.ICD10CM)
        for code in codes
    ):
        ctx.issue(
            "warning",
            "pvt_extent_unknown",
            f"{ref}: portal-vein thrombosis without its extent (branch or main); record it on the case",
            fact="portal_vein_thrombosis",
            ref=ref,
        )


# --- Observation ------------------------------------------------------------------------------


def _observation(ctx: _Context, resource: dict[str, Any], url: str | None) -> None:
    ref = _ref(resource, url)
    codes = list(_codings(resource.get("code")))
    fact_hint = _observation_fact(codes)
    status = resource.get("status")
    if status not in C.OBSERVATION_USABLE:
        ctx.issue(
            "warning", "status_ignored", f"{ref} has status {status!r}; ignored", fact=fact_hint, ref=ref
        )
        return
    if resource.get("dataAbsentReason"):
        reason = _status_code(resource.get("dataAbsentReason")) or "unknown"
        ctx.issue("information", "data_absent", f"{ref}: no value ({reason})", fact=fact_hint, ref=ref)
        return
    when = (
        _date(resource.get("effectiveDateTime"))
        or _date((resource.get("effectivePeriod") or {}).get("end"))
        or _date((resource.get("effectivePeriod") or {}).get("start"))
        or _date(resource.get("effectiveInstant"))
        or _date(resource.get("issued"))
    )
    if when is not None and when > ctx.as_of + timedelta(days=1):
        ctx.issue(
            "warning",
            "future_date",
            f"{ref} is dated {when}, after {ctx.as_of}; ignored",
            fact=fact_hint,
            ref=ref,
        )
        return
    obs = _Obs(ctx, resource, url, ref, codes, when)
    obs.map()


def _observation_fact(codes: list[str]) -> str | None:
    for code in codes:
        for table in (C.LAB_FACT_BY_CODE, C.UNSUPPORTED_QUANTITY):
            if code in table:
                return table[code]
        if code in C.KI67_CODES or code in C.KI67_BREAST_CODES:
            return "ki67_percent"
        if code in C.ECOG_CODES:
            return "ecog"
        if code in C.GRADE_OBSERVATION_CODES:
            return "who_grade"
        if code in C.DISEASE_STATUS_CODES:
            return "disease_status"
        if code in C.PREGNANCY_CODES:
            return "pregnant"
        if _system(code) == C.NETOBS and _code_value(code) in C.NETOBS_FACTS:
            return C.NETOBS_FACTS[_code_value(code)]
    return None


@dataclass
class _Obs:
    ctx: _Context
    resource: dict[str, Any]
    url: str | None
    ref: str
    codes: list[str]
    when: date | None

    def add(
        self, fact: str, value: Any, level: Level, rule: str, code: str, original: Any, freshness: str = ""
    ) -> None:
        max_age = self.ctx.options.max_age(freshness or fact)
        if self.when is None and max_age is not None:
            self.ctx.issue(
                "warning",
                "no_effective_date",
                f"{self.ref} has no date; a {fact} must be dated",
                fact=fact,
                ref=self.ref,
            )
            return
        source = _source(self.resource, self.url, self.when, code, original)
        corrected = self.resource.get("status") in C.OBSERVATION_CORRECTED
        issued = str(self.resource.get("issued") or "")
        self.ctx.add(Candidate(fact, value, level, rule, source, freshness, corrected, issued))

    def value_codes(self) -> list[str]:
        return list(_codings(self.resource.get("valueCodeableConcept")))

    def map(self) -> None:
        codes = set(self.codes)
        if codes & C.NOT_KI67_CODES:
            return
        lab = _first(C.LAB_FACT_BY_CODE, self.codes)
        if lab is not None:
            self.quantity(lab[1], lab[0], "fhir.lab." + lab[1])
        elif (unsupported := _first(C.UNSUPPORTED_QUANTITY, self.codes)) is not None:
            self.ctx.issue(
                "warning",
                "unsupported_quantity",
                f"{self.ref} ({unsupported[0]}) is a different quantity from {unsupported[1]}; not converted",
                fact=unsupported[1],
                ref=self.ref,
            )
        elif codes & C.KI67_CODES or codes & C.KI67_BREAST_CODES:
            if codes & C.KI67_BREAST_CODES and not codes & C.KI67_CODES:
                self.ctx.issue(
                    "information",
                    "breast_specific_code",
                    f"{self.ref}: breast-specific Ki-67 code",
                    fact="ki67_percent",
                    ref=self.ref,
                )
            code = next(iter(codes & (C.KI67_CODES | C.KI67_BREAST_CODES)))
            self.quantity("ki67_percent", code, "fhir.pathology.ki67")
        elif codes & C.GRADE_OBSERVATION_CODES:
            self.coded("who_grade", C.GRADE_BY_SNOMED, "fhir.pathology.grade")
        elif codes & C.M_CATEGORY_CODES:
            self.m_category()
        elif codes & C.N_CATEGORY_CODES:
            self.n_category()
        elif codes & C.DISEASE_STATUS_CODES:
            self.disease_status()
        elif codes & C.ECOG_CODES:
            self.ecog()
        elif codes & C.PREGNANCY_CODES:
            self.coded("pregnant", C.PREGNANT_BY_ANSWER, "fhir.pregnancy_status")
        elif codes & C.PRIMARY_SIZE_CODES:
            self.quantity(
                "primary_tumour_size_mm",
                next(iter(codes & C.PRIMARY_SIZE_CODES)),
                "fhir.pathology.tumour_size",
                level="proposed",
            )
        else:
            netobs = next(
                (c for c in self.codes if _system(c) == C.NETOBS and _code_value(c) in C.NETOBS_FACTS), None
            )
            if netobs is not None:
                self.netcare(C.NETOBS_FACTS[_code_value(netobs)], netobs)

    def quantity(self, fact: str, code: str, rule: str, level: Level = "direct") -> None:
        quantity = self.resource.get("valueQuantity")
        if not isinstance(quantity, dict) or not isinstance(quantity.get("value"), int | float):
            self.ctx.issue("warning", "no_value", f"{self.ref} has no numeric value", fact=fact, ref=self.ref)
            return
        original = {key: quantity[key] for key in ("value", "unit", "code", "comparator") if key in quantity}
        if quantity.get("comparator"):
            self.ctx.issue(
                "warning",
                "comparator",
                f"{self.ref}: {quantity['comparator']}{quantity['value']} is not a value",
                fact=fact,
                ref=self.ref,
            )
            return
        ucum = quantity.get("code") if quantity.get("system") == C.UCUM else None
        if ucum is None:
            text = quantity.get("unit")
            ucum = ucum_from_text(text) if isinstance(text, str) else None
            if ucum is None:
                self.ctx.issue(
                    "warning",
                    "unit_missing",
                    f"{self.ref}: {quantity['value']} without a known unit; not used",
                    fact=fact,
                    ref=self.ref,
                )
                return
            self.ctx.issue(
                "information",
                "unit_text_only",
                f"{self.ref}: unit read from the text {text!r}",
                fact=fact,
                ref=self.ref,
            )
        value = convert(fact, float(quantity["value"]), str(ucum))
        if value is None:
            self.ctx.issue(
                "warning",
                "unsupported_quantity" if fact == "egfr_ml_min" else "unsupported_unit",
                f"{self.ref}: unit {ucum!r} is not accepted for {fact}; not used",
                fact=fact,
                ref=self.ref,
            )
            return
        self.add(fact, value, level, rule, code, original)

    def coded(self, fact: str, table: Mapping[str, Any], rule: str) -> None:
        found = _first(table, self.value_codes())
        if found is None or found[1] is None:
            shown = ", ".join(self.value_codes()) or "no coded value"
            self.ctx.issue(
                "information", "no_value", f"{self.ref}: {shown} gives no {fact}", fact=fact, ref=self.ref
            )
            return
        self.add(fact, found[1], "direct", rule, found[0], {"value": found[0]})

    def m_category(self) -> None:
        found = _first(C.M_VALUE, self.value_codes())
        if found is None:
            return
        code, category = found
        if category == "M1":
            self.add("disease_extent", "metastatic", "derived", "fhir.tnm.m1", code, {"value": code})
            return
        # M0: no distant metastases, so no liver metastases; with N0 localised, with N1+ locoregional.
        self.add("liver_metastases", False, "derived", "fhir.tnm.m0", code, {"value": code}, M0_NEGATIVE)
        self.ctx.add(
            Candidate(
                "_m0",
                True,
                "derived",
                "fhir.tnm.m0",
                _source(self.resource, self.url, self.when, code, None),
                M0_NEGATIVE,
            )
        )

    def n_category(self) -> None:
        found = _first(C.N_VALUE, self.value_codes())
        if found is not None:
            source = _source(self.resource, self.url, self.when, found[0], None)
            self.ctx.add(Candidate("_n", found[1], "derived", "fhir.tnm.n", source, M0_NEGATIVE))

    def disease_status(self) -> None:
        self.ctx.disease_status_seen = True
        found = _first(C.DISEASE_STATUS_BY_SNOMED, self.value_codes())
        if found is None or found[1] is None:
            self.ctx.issue(
                "information",
                "no_value",
                f"{self.ref}: disease status undetermined",
                fact="disease_status",
                ref=self.ref,
            )
            return
        value, level = found[1]
        self.add("disease_status", value, level, "fhir.disease_status", found[0], {"value": found[0]})

    def ecog(self) -> None:
        value = self.resource.get("valueInteger")
        if isinstance(value, int) and not isinstance(value, bool):
            if value == 5:
                raise FhirInputError(
                    "deceased",
                    "ECOG 5 (dead) is recorded",
                    [{"loc": ["bundle", self.ref, "valueInteger"], "msg": "ECOG 5 means dead"}],
                )
            code = next(c for c in self.codes if c in C.ECOG_CODES)
            self.add("ecog", value, "direct", "fhir.ecog", code, {"value": value})
            return
        if set(self.value_codes()) & C.ECOG_DEAD:
            raise FhirInputError(
                "deceased",
                "ECOG 5 (dead) is recorded",
                [{"loc": ["bundle", self.ref, "valueCodeableConcept"], "msg": "ECOG 5 means dead"}],
            )
        self.coded("ecog", C.ECOG_BY_ANSWER, "fhir.ecog")

    def netcare(self, fact: str, code: str) -> None:
        freshness = fact if fact in ("sstr_imaging", "krenning_score") else ASSESSMENT
        value = _netcare_value(fact, self.resource)
        if value is _NO_VALUE:
            self.ctx.issue(
                "warning",
                "no_value",
                f"{self.ref}: no value of the right type for {fact}",
                fact=fact,
                ref=self.ref,
            )
            return
        if isinstance(value, tuple):  # a Quantity: (number, UCUM code)
            converted = convert(fact, value[0], value[1])
            if converted is None:
                self.ctx.issue(
                    "warning",
                    "unsupported_unit",
                    f"{self.ref}: unit {value[1]!r} is not accepted for {fact}",
                    fact=fact,
                    ref=self.ref,
                )
                return
            value = converted
        self.add(
            fact, value, "direct", f"fhir.netcare.{_code_value(code)}", code, {"value": value}, freshness
        )


_NO_VALUE: Final = object()


def _netcare_value(fact: str, resource: dict[str, Any]) -> Any:
    """The value of a NETcare Observation or assessment answer, in the fact's type."""
    kind = fact_kind(fact)
    if kind == "bool" and isinstance(resource.get("valueBoolean"), bool):
        return resource["valueBoolean"]
    if (
        kind == "int"
        and isinstance(resource.get("valueInteger"), int)
        and not isinstance(resource.get("valueInteger"), bool)
    ):
        return resource["valueInteger"]
    if kind == "number":
        quantity = resource.get("valueQuantity")
        if (
            isinstance(quantity, dict)
            and isinstance(quantity.get("value"), int | float)
            and not quantity.get("comparator")
        ):
            return (
                float(quantity["value"]),
                str(quantity.get("code") or ucum_from_text(str(quantity.get("unit") or "")) or ""),
            )
        if isinstance(resource.get("valueDecimal"), int | float):
            return float(resource["valueDecimal"])
    if kind in ("enum", "list"):
        concept = resource.get("valueCodeableConcept") or resource.get("valueCoding")
        codes = list(_codings(concept))
        choices = FACT_CHOICES[fact]
        if fact == "sstr_imaging":
            found = _first(C.SSTR_BY_ANSWER, codes)
            if found is not None:
                return found[1]
        for code in codes:
            if _system(code) == C.NETVAL and _code_value(code) in choices:
                return [_code_value(code)] if kind == "list" else _code_value(code)
    return _NO_VALUE


# --- medicines, procedures, lists, questionnaire ----------------------------------------------


def _medication(ctx: _Context, resource: dict[str, Any], url: str | None) -> None:
    ref = _ref(resource, url)
    kind = resource["resourceType"]
    status = resource.get("status")
    if status not in C.MEDICATION_GIVEN[kind]:
        ctx.issue(
            "information",
            "status_ignored",
            f"{ref} has status {status!r}; not a treatment given",
            fact="prior_therapies",
            ref=ref,
        )
        return
    if kind == "MedicationRequest" and resource.get("intent") not in (
        "order",
        "original-order",
        "instance-order",
    ):
        ctx.issue(
            "information",
            "status_ignored",
            f"{ref} is a {resource.get('intent')!r}, not an order",
            fact="prior_therapies",
            ref=ref,
        )
        return
    concept = resource.get("medicationCodeableConcept")
    if concept is None and isinstance(resource.get("medicationReference"), dict):
        medication = ctx.by_ref.get(str(resource["medicationReference"].get("reference")))
        concept = (medication or {}).get("code")
    codes = [code for code in _codings(concept) if code not in C.NOT_AN_AGENT]
    agent = _first(C.AGENT_BY_CODE, codes)
    if agent is None:
        return
    start, end = _period(resource)
    if start is not None and start > ctx.as_of + timedelta(days=1):
        ctx.issue(
            "warning",
            "future_date",
            f"{ref} starts {start}, after {ctx.as_of}; ignored",
            fact="prior_therapies",
            ref=ref,
        )
        return
    ctx.cancer_treatment_seen = True
    source = _source(resource, url, end or start, agent[0], {"agent": agent[1]})
    ctx.medications.append((agent[1], source, start, end))
    modality = C.MODALITY_BY_AGENT.get(agent[1])
    if modality is not None:
        ctx.add(Candidate("prior_therapies", [modality], "direct", f"fhir.medication.{agent[1]}", source))


def _period(resource: dict[str, Any]) -> tuple[date | None, date | None]:
    for key in ("effectivePeriod",):
        period = resource.get(key)
        if isinstance(period, dict):
            start, end = _date(period.get("start")), _date(period.get("end"))
            return start or end, end or start
    single = (
        _date(resource.get("effectiveDateTime"))
        or _date(resource.get("authoredOn"))
        or _date(resource.get("dateAsserted"))
    )
    return single, single


def _combine_medications(ctx: _Context) -> None:
    window = timedelta(days=ctx.options.combination_window_days)
    for modality, groups in C.MODALITY_BY_COMBINATION.items():
        chosen: list[tuple[str, Source, date | None, date | None]] = []
        for group in groups:
            members = [item for item in ctx.medications if item[0] in group]
            match = next(
                (item for item in members if all(_near(item, other, window) for other in chosen)), None
            )
            if match is None:
                break
            chosen.append(match)
        else:
            for _, source, _, _ in chosen:
                ctx.add(
                    Candidate("prior_therapies", [modality], "direct", f"fhir.medication.{modality}", source)
                )


def _near(
    one: tuple[Any, Source, date | None, date | None],
    other: tuple[Any, Source, date | None, date | None],
    window: timedelta,
) -> bool:
    """Two administrations within the window of each other (their periods overlap or nearly)."""
    start_a, end_a, start_b, end_b = one[2], one[3], other[2], other[3]
    if None in (start_a, end_a, start_b, end_b):
        return False
    assert start_a and end_a and start_b and end_b
    return start_a <= end_b + window and start_b <= end_a + window


def _procedure(ctx: _Context, resource: dict[str, Any], url: str | None) -> None:
    if resource.get("status") not in C.PROCEDURE_DONE:
        return
    when = _date(resource.get("performedDateTime")) or _date(
        (resource.get("performedPeriod") or {}).get("end")
    )
    known = {**C.MODALITY_BY_PROCEDURE, **ctx.options.procedure_codes}
    modality = _first(known, _codings(resource.get("code")))
    if modality is not None:
        ctx.cancer_treatment_seen = True
        source = _source(resource, url, when, modality[0], {"procedure": modality[1]})
        rule = f"fhir.procedure.{modality[1]}"
        ctx.add(Candidate("prior_therapies", [modality[1]], "direct", rule, source))
    reasons = [
        str(item.get("reference")) for item in resource.get("reasonReference") or [] if isinstance(item, dict)
    ]
    if any(reason in ctx.primaries for reason in reasons):
        ctx.cancer_treatment_seen = True
        # A procedure for the primary may be a biopsy or a bypass: a clinician confirms the resection.
        source = _source(resource, url, when, None, {"code": (resource.get("code") or {}).get("text")})
        ctx.add(Candidate("primary_resected", True, "proposed", "fhir.propose.primary_resected", source))


def _list(ctx: _Context, resource: dict[str, Any], url: str | None) -> None:
    codes = set(_codings(resource.get("code")))
    if not codes & C.NO_PRIOR_MEDICATION_LISTS or resource.get("status") != "current":
        return
    empty = set(_codings(resource.get("emptyReason")))
    if C.LIST_EMPTY_NILKNOWN in empty and not resource.get("entry"):
        when = _date(resource.get("date"))
        source = _source(resource, url, when, C.LIST_EMPTY_NILKNOWN, {"emptyReason": "nilknown"})
        ctx.add(Candidate("prior_therapies", [], "direct", "fhir.list.nilknown", source))


def _questionnaire_response(ctx: _Context, resource: dict[str, Any], url: str | None) -> None:
    ref = _ref(resource, url)
    questionnaire = str(resource.get("questionnaire") or "").partition("|")[0]
    if questionnaire != C.MDT_ASSESSMENT:
        return
    if resource.get("status") not in C.QUESTIONNAIRE_DONE:
        ctx.issue("information", "status_ignored", f"{ref} is {resource.get('status')!r}; not used", ref=ref)
        return
    when = _date(resource.get("authored"))
    if when is None:
        ctx.issue("warning", "no_effective_date", f"{ref} has no authored date", ref=ref)
        return
    for item in resource.get("item") or []:
        fact = item.get("linkId") if isinstance(item, dict) else None
        if fact not in C.ASSESSMENT_FACTS:
            ctx.issue(
                "information", "unknown_item", f"{ref}: item {fact!r} is not an assessment fact", ref=ref
            )
            continue
        answers = [answer for answer in item.get("answer") or [] if isinstance(answer, dict)]
        values = [_netcare_value(fact, answer) for answer in answers]
        values = [value for value in values if value is not _NO_VALUE]
        if not values:
            continue
        value: Any
        if fact_kind(fact) == "list":
            value = sorted({v for item_value in values for v in item_value})
        else:
            value = values[0]
            if isinstance(value, tuple):
                value = convert(fact, value[0], value[1])
                if value is None:
                    ctx.issue(
                        "warning",
                        "unsupported_unit",
                        f"{ref}: unit not accepted for {fact}",
                        fact=fact,
                        ref=ref,
                    )
                    continue
        source = _source(resource, url, when, f"{C.MDT_ASSESSMENT}#{fact}", {"answer": value})
        ctx.add(Candidate(fact, value, "direct", "fhir.assessment", source, ASSESSMENT))


HANDLERS: Final = {
    "Condition": _condition,
    "Observation": _observation,
    "MedicationRequest": _medication,
    "MedicationAdministration": _medication,
    "MedicationStatement": _medication,
    "Procedure": _procedure,
    "List": _list,
    "QuestionnaireResponse": _questionnaire_response,
}


def _propose_new_diagnosis(ctx: _Context) -> None:
    if ctx.disease_status_seen or ctx.cancer_treatment_seen or not ctx.primaries:
        return
    recent = [
        source
        for source in ctx.primaries.values()
        if source.effective is not None
        and (ctx.as_of - source.effective).days <= ctx.options.new_diagnosis_days
    ]
    if recent:
        source = recent[0]
        ctx.add(
            Candidate("disease_status", "new_diagnosis", "proposed", "fhir.propose.new_diagnosis", source)
        )


# --- resolution -------------------------------------------------------------------------------

LATEST: Final = frozenset(
    {
        "egfr_ml_min",
        "platelets_10e9_l",
        "neutrophils_10e9_l",
        "bilirubin_umol_l",
        "haemoglobin_g_l",
        "ecog",
        "pregnant",
        "disease_status",
        "sstr_imaging",
        "krenning_score",
        "age_years",
        "months_since_diagnosis",
    }
)
PRESENCE: Final = frozenset({"liver_metastases", "extrahepatic_disease", "carcinoid_heart_disease"})
PATHOLOGY: Final = ("differentiation", "who_grade", "ki67_percent")


def _resolve(ctx: _Context) -> tuple[dict[str, Any], dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    fresh = [candidate for candidate in ctx.candidates if _fresh(ctx, candidate)]
    _derive_extent(ctx, fresh)
    by_fact: dict[str, list[Candidate]] = defaultdict(list)
    proposed: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in fresh:
        if candidate.fact.startswith("_"):
            continue
        (proposed if candidate.level == "proposed" else by_fact)[candidate.fact].append(candidate)
    chosen: dict[str, tuple[Any, list[Candidate], list[Candidate]]] = {}
    for fact in FACT_NAMES:
        if by_fact.get(fact):
            decided = _decide(ctx, fact, by_fact[fact])
            if decided is not None:
                chosen[fact] = decided
    profile = _checked_profile(ctx, {fact: value for fact, (value, _, _) in chosen.items()})
    provenance = {fact: _provenance(chosen[fact]) for fact in profile}
    proposals = _proposals(ctx, proposed, profile)
    _old_pathology(ctx, chosen, profile)
    return profile, provenance, proposals


def _fresh(ctx: _Context, candidate: Candidate) -> bool:
    max_age = ctx.options.max_age(candidate.freshness or candidate.fact)
    if max_age is None or candidate.when is None:
        return True
    if (ctx.as_of - candidate.when).days <= max_age:
        return True
    if not candidate.fact.startswith("_"):
        ctx.issue(
            "warning",
            "stale",
            f"{candidate.source.ref} of {candidate.when} is older than {max_age} days; not used",
            fact=candidate.fact,
            ref=candidate.source.ref,
        )
    return False


def _derive_extent(ctx: _Context, fresh: list[Candidate]) -> None:
    """M0 + N0 -> localised, M0 + N1 or above -> locoregional (derived). M0 without a known N stays
    unknown; an N0 and an N1+ both fresh give both values, which the must-agree rule leaves unknown
    with a conflict."""
    m0 = [c for c in fresh if c.fact == "_m0"]
    if not m0:
        return
    for n_value, extent, rule in (
        ("N0", "localised", "fhir.tnm.m0_n0"),
        ("N1+", "locoregional", "fhir.tnm.m0_n1"),
    ):
        nodes = [c for c in fresh if c.fact == "_n" and c.value == n_value]
        if nodes:
            source = max((*m0, *nodes), key=lambda c: c.when or date.min).source
            fresh.append(Candidate("disease_extent", extent, "derived", rule, source, M0_NEGATIVE))


def _decide(
    ctx: _Context, fact: str, candidates: list[Candidate]
) -> tuple[Any, list[Candidate], list[Candidate]] | None:
    """(value, sources used, sources considered and not used), or None with a conflict issue."""
    if fact == "prior_therapies":
        return _union(ctx, candidates)
    if fact in PRESENCE:
        return _presence(candidates)
    if fact == "ki67_percent":
        bands = {_band(c.value, ctx.options.ki67_band_limits) for c in candidates}
        if len(bands) > 1:
            _conflict(ctx, fact, candidates, "Ki-67 values in different WHO bands")
            return None
        return _latest(ctx, fact, candidates)
    if fact in LATEST:
        return _latest(ctx, fact, candidates)
    values = {_key(c.value) for c in candidates}
    if len(values) > 1:
        _conflict(ctx, fact, candidates, "the sources disagree")
        return None
    return candidates[0].value, candidates, []


def _key(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _band(value: float, limits: tuple[float, ...]) -> int:
    """The WHO band of a Ki-67 value: < 3 %, 3-20 %, > 20 % (3 is in the middle band, 20 too)."""
    return sum(value >= limit if index == 0 else value > limit for index, limit in enumerate(limits))


def _latest(
    ctx: _Context, fact: str, candidates: list[Candidate]
) -> tuple[Any, list[Candidate], list[Candidate]] | None:
    newest = max(c.when or date.min for c in candidates)
    top = [c for c in candidates if (c.when or date.min) == newest]
    if len({_key(c.value) for c in top}) > 1:
        corrected = [c for c in top if c.corrected]
        top = corrected or top
        if len({_key(c.value) for c in top}) > 1:
            latest_issued = max(c.issued for c in top)
            top = [c for c in top if c.issued == latest_issued] if latest_issued else top
        if len({_key(c.value) for c in top}) > 1:
            _conflict(ctx, fact, top, "different values on the same date")
            return None
    used = top[:1] if top else []
    return top[0].value, used, [c for c in candidates if c not in used]


def _presence(candidates: list[Candidate]) -> tuple[Any, list[Candidate], list[Candidate]]:
    positives = [c for c in candidates if c.value is True]
    negatives = [c for c in candidates if c.value is False]
    if not positives:
        latest = max(negatives, key=lambda c: c.when or date.min)
        return False, [latest], [c for c in negatives if c is not latest]
    last_positive = max(c.when or date.min for c in positives)
    later_negatives = [c for c in negatives if c.when is not None and c.when > last_positive]
    if later_negatives:
        latest = max(later_negatives, key=lambda c: c.when or date.min)
        return False, [latest], [c for c in candidates if c is not latest]
    return True, positives, negatives


def _union(ctx: _Context, candidates: list[Candidate]) -> tuple[Any, list[Candidate], list[Candidate]]:
    positives = [c for c in candidates if c.value]
    nil = [c for c in candidates if not c.value]
    if not positives:
        return [], nil[:1], nil[1:]
    if nil:
        ctx.issue(
            "warning",
            "conflict_nilknown",
            "a list says no prior medication, but treatments are recorded: "
            + ", ".join(c.source.ref for c in positives),
            fact="prior_therapies",
            ref=nil[0].source.ref,
        )
    keys = {key for c in positives for key in c.value}
    return [key for key in MODALITY_KEYS if key in keys], positives, nil


def _conflict(ctx: _Context, fact: str, candidates: list[Candidate], why: str) -> None:
    listed = "; ".join(f"{c.source.ref} ({c.when or 'no date'}): {c.value}" for c in candidates)
    ctx.issue(
        "warning",
        "conflict",
        f"{fact} left unknown, {why}: {listed}",
        fact=fact,
        ref=candidates[0].source.ref,
    )


def _checked_profile(ctx: _Context, facts: dict[str, Any]) -> dict[str, Any]:
    """The facts as a valid PatientProfile: out-of-range values and contradicting facts are dropped."""
    try:
        PatientProfile.model_validate(facts)
    except ValidationError:
        _drop_invalid(ctx, facts)
    return {fact: facts[fact] for fact in FACT_NAMES if fact in facts}


def _drop_invalid(ctx: _Context, facts: dict[str, Any]) -> None:
    """Drop each value its fact refuses on its own (out of range), then the facts that contradict
    each other, until the rest is a valid profile."""
    for fact in list(facts):
        try:
            PatientProfile.model_validate({fact: facts[fact]})
        except ValidationError as error:
            ctx.issue(
                "warning",
                "out_of_range",
                f"{fact} = {facts[fact]}: {error.errors()[0]['msg']}; not used",
                fact=fact,
            )
            del facts[fact]
    for _ in range(len(facts) + 1):
        try:
            PatientProfile.model_validate(facts)
            return
        except ValidationError as error:
            involved = {str(detail["loc"][0]) for detail in error.errors() if detail["loc"]}
            for fact in sorted(involved & facts.keys()):
                ctx.issue(
                    "warning",
                    "conflict",
                    f"{fact} = {facts[fact]} contradicts another mapped fact; left unknown",
                    fact=fact,
                )
                del facts[fact]


def _provenance(chosen: tuple[Any, list[Candidate], list[Candidate]]) -> dict[str, Any]:
    value, used, considered = chosen
    level = "derived" if any(c.level == "derived" for c in used) else "direct"
    return {
        "level": level,
        "derived": level == "derived",
        "rule": used[0].rule if used else "",
        "value": value,
        "sources": [c.source.as_json() for c in used],
        "considered": [{**c.source.as_json(), "value": c.value} for c in considered],
    }


def _proposals(
    ctx: _Context, proposed: dict[str, list[Candidate]], profile: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for fact in FACT_NAMES:
        candidates = proposed.get(fact)
        if not candidates or fact in profile:
            continue
        if len({_key(c.value) for c in candidates}) > 1:
            _conflict(ctx, fact, candidates, "the proposals disagree")
            continue
        try:
            PatientProfile.model_validate({fact: candidates[0].value})
        except ValidationError:
            continue
        out[fact] = {
            "level": "proposed",
            "derived": False,
            "rule": candidates[0].rule,
            "value": candidates[0].value,
            "sources": [c.source.as_json() for c in candidates],
            "considered": [],
        }
    return out


def _old_pathology(
    ctx: _Context, chosen: dict[str, tuple[Any, list[Candidate], list[Candidate]]], profile: dict[str, Any]
) -> None:
    limit = ctx.options.old_pathology_years
    for fact in PATHOLOGY:
        if fact not in profile:
            continue
        dates = [c.when for c in chosen[fact][1] if c.when is not None]
        if dates and _years(max(dates), ctx.as_of) >= limit:
            ctx.issue(
                "information",
                "old_pathology",
                f"the newest {fact} is of {max(dates)}, more than {limit} years ago",
                fact=fact,
                ref=chosen[fact][1][0].source.ref,
            )
