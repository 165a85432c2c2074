"""Small FHIR R4 resources and bundles for the mapping tests (valid against the R4B models)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from treatments.fhir import codes as C
from treatments.fhir.mapping import MappingOptions, MappingResult, map_bundle

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PATIENT = "pt-1"
SUBJECT = {"reference": f"Patient/{PATIENT}"}


def coding(code: str) -> dict[str, Any]:
    """A Coding from "system|code"."""
    system, _, value = code.partition("|")
    return {"system": system, "code": value}


def concept(*codes: str) -> dict[str, Any]:
    return {"coding": [coding(code) for code in codes]}


def patient(**extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": PATIENT, **extra}


def condition(
    *codes: str,
    morphology: tuple[str, ...] = (),
    body_site: tuple[str, ...] = (),
    verification: str = "confirmed",
    clinical: str = "active",
    recorded: str = "2026-11-01",
    id: str = "cond",
    **extra: Any,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": id,
        "clinicalStatus": concept(f"http://terminology.hl7.org/CodeSystem/condition-clinical|{clinical}"),
        "verificationStatus": concept(
            f"http://terminology.hl7.org/CodeSystem/condition-ver-status|{verification}"
        ),
        "code": concept(*codes) if codes else {"text": "tumour"},
        "subject": SUBJECT,
        "recordedDate": recorded,
        **extra,
    }
    if morphology:
        resource["extension"] = [
            {"url": C.MCODE_HISTOLOGY_EXTENSION, "valueCodeableConcept": concept(*morphology)}
        ]
    if body_site:
        resource["bodySite"] = [concept(code) for code in body_site]
    return resource


def net_primary(**extra: Any) -> dict[str, Any]:
    """A confirmed NET primary of the ileum (8240/3), id "primary"."""
    return condition(f"{C.ICD10}|C17.2", morphology=(f"{C.ICDO3}|8240/3",), id="primary", **extra)


def observation(
    code: str, *, id: str = "obs", effective: str | None = "2026-11-15", status: str = "final", **value: Any
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": id,
        "status": status,
        "code": concept(code),
        "subject": SUBJECT,
        **value,
    }
    if effective is not None:
        resource["effectiveDateTime"] = effective
    return resource


def quantity(value: float, ucum: str | None = None, unit: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"value": value}
    if ucum is not None:
        out.update(system=C.UCUM, code=ucum)
    if unit is not None:
        out["unit"] = unit
    return out


def medication(
    code: str,
    *,
    id: str = "med",
    kind: str = "MedicationAdministration",
    status: str = "completed",
    start: str = "2026-01-01",
    end: str = "2026-02-01",
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": kind,
        "id": id,
        "status": status,
        "medicationCodeableConcept": concept(code),
        "subject": SUBJECT,
    }
    if kind == "MedicationRequest":
        resource.update(intent="order", authoredOn=start)
    else:
        resource["effectivePeriod"] = {"start": start, "end": end}
    return resource


def bundle(*resources: dict[str, Any], with_patient: bool = True) -> dict[str, Any]:
    entries = [patient(birthDate="1960-01-15")] if with_patient else []
    entries.extend(resources)
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"https://ehr.example/fhir/{r['resourceType']}/{r.get('id', index)}", "resource": r}
            for index, r in enumerate(entries)
        ],
    }


def mapped(*resources: dict[str, Any], options: MappingOptions | None = None) -> MappingResult:
    return map_bundle(bundle(*resources), now=NOW, options=options)
