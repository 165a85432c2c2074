"""Is a bundle about a case's patient? Compared by NHS number, the one identifier both carry
(docs/fhir.md section 6, hazard H-11). Pure: the case's number is passed in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

MatchState = Literal["matched", "mismatch", "not_matched"]


@dataclass(frozen=True)
class PatientMatch:
    """`matched`: same NHS number; `mismatch`: both present and different (the import is refused
    unless a clinician confirms); `not_matched`: one side has none, so nothing could be compared."""

    state: MatchState
    bundle_nhs_number: str | None
    case_nhs_number: str | None

    @property
    def message(self) -> str:
        if self.state == "matched":
            return f"The Patient's NHS number {self.bundle_nhs_number} is the case's."
        if self.state == "mismatch":
            return (
                f"the Bundle's Patient has NHS number {self.bundle_nhs_number}, "
                f"but the case has {self.case_nhs_number}"
            )
        missing = "the Bundle's Patient" if not self.bundle_nhs_number else "the case"
        return f"Not matched: {missing} has no NHS number; check the patient by other means."

    def as_json(self) -> dict[str, Any]:
        return {
            "match": self.state,
            "bundle_nhs_number": self.bundle_nhs_number,
            "case_nhs_number": self.case_nhs_number,
        }


def patient_match(patient: dict[str, Any], case_nhs_number: str | None) -> PatientMatch:
    """The mapped Patient (`MappingResult.patient`) against the case's NHS number."""
    theirs = _digits(patient.get("nhs_number"))
    ours = _digits(case_nhs_number)
    if not theirs or not ours:
        return PatientMatch("not_matched", theirs, ours)
    return PatientMatch("matched" if theirs == ours else "mismatch", theirs, ours)


def _digits(value: Any) -> str | None:
    text = "".join(str(value or "").split())
    return text or None
