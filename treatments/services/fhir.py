"""Writes from FHIR input: import chosen facts into a case, or create a case from a bundle.

The mapping (treatments/fhir) has already run; these apply what a clinician chose, with the case's
edit-conflict rules (the version the user saw), in one transaction, audited as `case.fhir_import`
with the bundle's SHA-256 (never the bundle). Each fact imported keeps its provenance on the case
(`Case.fact_sources`), which every evaluation then freezes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from pydantic import ValidationError

from ..fhir.identity import PatientMatch, patient_match
from ..fhir.mapping import MappingResult
from ..inputs import CaseCreate
from ..models import Case
from ..rules.profile import PatientProfile, error_list
from .audit import audit_record, display_name
from .cases import case_create, case_locked_for_edit
from .errors import InvalidChange, WorkflowError


class PatientMismatch(WorkflowError):
    """The bundle's Patient and the case carry different NHS numbers (hazard H-11): refused unless
    the clinician confirms that the bundle is about this case's patient all the same."""

    code = "patient_mismatch"
    title = "Another patient's NHS number"

    def __init__(self, match: PatientMatch):
        super().__init__(
            f"{match.message}; import only if you are sure it is this patient (confirm_patient)",
            ["confirm_patient"],
        )
        self.match = match


def importable(result: MappingResult) -> dict[str, Any]:
    """Every value an import offers: the mapped facts and the proposals (a clinician confirms those)."""
    values = {fact: proposal["value"] for fact, proposal in result.proposals.items()}
    values.update(result.profile)
    return values


@transaction.atomic
def case_fhir_import(
    *,
    actor: User,
    case: Case,
    result: MappingResult,
    version: int,
    accept: Sequence[str],
    bundle_sha256: str,
    confirm_patient: bool = False,
) -> Case:
    """Set the accepted facts on the case (if nobody saved it since `version`), with their sources.
    A bundle whose Patient has another NHS number than the case is refused (PatientMismatch) unless
    `confirm_patient`; the override is audited with both numbers."""
    offered = importable(result)
    for index, fact in enumerate(accept):
        if fact not in offered:
            raise InvalidChange(f"{fact!r} is not among the facts this bundle gives", ["accept", index])
    current = case_locked_for_edit(case, version)
    match = patient_match(result.patient, current.nhs_number)
    if match.state == "mismatch" and not confirm_patient:
        raise PatientMismatch(match)
    chosen = {fact: offered[fact] for fact in accept}
    profile = _checked({**current.profile, **chosen}, list(accept))
    changed = {
        fact: {"from": current.profile.get(fact), "to": profile.get(fact)}
        for fact in chosen
        if current.profile.get(fact) != profile.get(fact)
    }
    current.profile = profile
    current.fact_sources = {**current.fact_sources, **imported_sources(result, chosen, actor, bundle_sha256)}
    current.version += 1
    current.updated_by = actor
    current.save()
    _audit_import(actor, current, result, bundle_sha256, list(accept), changed, match)
    return current


@transaction.atomic
def case_create_from_fhir(
    *, actor: User, data: CaseCreate, result: MappingResult, bundle_sha256: str
) -> Case:
    """A new case holding the bundle's mapped facts (not its proposals), each with its source."""
    case = case_create(actor=actor, data=data)
    facts = {fact: value for fact, value in case.profile.items() if fact in result.profile}
    case.fact_sources = {**case.fact_sources, **imported_sources(result, facts, actor, bundle_sha256)}
    case.save(update_fields=["fact_sources"])
    changed = {fact: {"from": None, "to": value} for fact, value in facts.items()}
    _audit_import(actor, case, result, bundle_sha256, list(facts), changed)
    return case


def _audit_import(
    actor: User,
    case: Case,
    result: MappingResult,
    bundle_sha256: str,
    accepted: list[str],
    changed: dict[str, Any],
    match: PatientMatch | None = None,
) -> None:
    """One `case.fhir_import` event: the bundle by its SHA-256 (never its data), the facts changed,
    how the Patient matched the case and, when a clinician imported despite different NHS numbers,
    `patient_override` with both numbers."""
    payload: dict[str, Any] = {
        "bundle_sha256": bundle_sha256,
        "mapping_version": result.mapping_version,
        "accepted": accepted,
        "changed": changed,
    }
    if match is not None:
        payload["patient_match"] = match.state
        if match.state == "mismatch":
            payload["patient_override"] = {
                "bundle_nhs_number": match.bundle_nhs_number,
                "case_nhs_number": match.case_nhs_number,
            }
    audit_record(actor=actor, action="case.fhir_import", obj=case, payload=payload)


def imported_sources(
    result: MappingResult, facts: dict[str, Any], actor: User, bundle_sha256: str
) -> dict[str, dict[str, Any]]:
    """The provenance of each imported fact, stamped with who imported it, when, and from what.
    A proposal a clinician accepted is stored as `confirmed`."""
    stamp = {
        "mapping_version": result.mapping_version,
        "as_of": result.as_of.isoformat(),
        "imported_by": display_name(actor),
        "imported_at": timezone.now().isoformat(),
        "bundle_sha256": bundle_sha256,
    }
    out = {}
    for fact in facts:
        provenance = result.provenance.get(fact) or result.proposals[fact]
        level = "confirmed" if provenance["level"] == "proposed" else provenance["level"]
        out[fact] = {**provenance, **stamp, "level": level}
    return out


def _checked(profile: dict[str, Any], accepted: list[str]) -> dict[str, Any]:
    """The merged facts as a valid profile, or InvalidChange naming the accepted fact at fault."""
    try:
        return PatientProfile.model_validate(profile).known_facts()
    except ValidationError as exc:
        errors = error_list(exc)
        # Name the accepted fact at fault first: that is what the clinician can leave out.
        first = next((e for e in errors if e["loc"] and e["loc"][0] in accepted), errors[0])
        fact = str(first["loc"][0]) if first["loc"] else ""
        loc: list[str | int] = ["accept", accepted.index(fact)] if fact in accepted else ["profile", fact]
        raise InvalidChange(f"{fact}: {first['msg']}", loc) from None
