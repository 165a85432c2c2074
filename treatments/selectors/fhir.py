"""Reads over FHIR input: the mapping options from settings, a bundle mapped (nothing stored) and
the preview of an import into a case (docs/fhir.md). The mapping itself is the pure
`treatments.fhir` package; this module only gives it the settings and the case."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import orjson
from django.conf import settings

from ..fhir.identity import PatientMatch, patient_match
from ..fhir.mapping import DEFAULT_MAX_AGE_DAYS, FhirInputError, MappingOptions, MappingResult, map_bundle
from ..models import Case
from ..rules.profile import FACT_NAMES, fact_label


def fhir_options() -> MappingOptions:
    """The mapping's policy as the settings give it (freshness windows, limits, conflict rules)."""
    return MappingOptions(
        max_age_days={**DEFAULT_MAX_AGE_DAYS, **settings.NETCARE_FHIR_MAX_AGE_DAYS},
        max_entries=settings.NETCARE_FHIR_MAX_ENTRIES,
        old_pathology_years=settings.NETCARE_FHIR_OLD_PATHOLOGY_YEARS,
        combination_window_days=settings.NETCARE_FHIR_COMBINATION_WINDOW_DAYS,
        new_diagnosis_days=settings.NETCARE_FHIR_NEW_DIAGNOSIS_DAYS,
        ki67_band_limits=tuple(settings.NETCARE_FHIR_KI67_BAND_LIMITS),
        procedure_codes=settings.NETCARE_FHIR_PROCEDURE_CODES,
    )


def fhir_load(raw: bytes) -> dict[str, Any]:
    """A FHIR JSON body as a dict: at most NETCARE_FHIR_MAX_BYTES, valid JSON, an object."""
    limit: int = settings.NETCARE_FHIR_MAX_BYTES
    if len(raw) > limit:
        raise FhirInputError(
            "too_large",
            f"the bundle is larger than {limit:,} bytes",
            [{"loc": ["bundle"], "msg": f"at most {limit:,} bytes"}],
        )
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise FhirInputError(
            "invalid", f"the file is not valid JSON: {error}", [{"loc": ["bundle"], "msg": "not valid JSON"}]
        ) from None
    if not isinstance(data, dict):
        raise FhirInputError(
            "not_a_bundle", "expected a FHIR Bundle", [{"loc": ["bundle"], "msg": "must be a JSON object"}]
        )
    return data


def bundle_sha256(bundle: dict[str, Any]) -> str:
    """The SHA-256 of a bundle's canonical JSON: the audit trail names the input by it, not its data."""
    return hashlib.sha256(orjson.dumps(bundle, option=orjson.OPT_SORT_KEYS)).hexdigest()


def fhir_map(bundle: dict[str, Any], *, as_of: date | None = None) -> MappingResult:
    """The bundle mapped to facts with sources, proposals and issues, as of a day (default today)."""
    day = as_of or datetime.now(UTC).date()
    return map_bundle(bundle, now=datetime.combine(day, time(12), tzinfo=UTC), options=fhir_options())


@dataclass(frozen=True)
class ImportRow:
    """One fact of an import preview: the case's value now and the imported one, with its source."""

    fact: str
    label: str
    current: Any
    imported: Any
    level: str
    provenance: dict[str, Any]

    @property
    def same(self) -> bool:
        return self.current == self.imported

    @property
    def proposed(self) -> bool:
        return self.level == "proposed"

    def as_json(self) -> dict[str, Any]:
        return {
            "fact": self.fact,
            "current": self.current,
            "imported": self.imported,
            "level": self.level,
            "provenance": self.provenance,
        }


def fhir_import_preview(case: Case, result: MappingResult) -> list[ImportRow]:
    """What an import would change on the case: every mapped fact and proposal, in contract order."""
    rows = []
    for fact in FACT_NAMES:
        found = result.provenance.get(fact) or result.proposals.get(fact)
        if found is None:
            continue
        imported = result.profile.get(fact, found["value"])
        rows.append(
            ImportRow(fact, fact_label(fact), case.profile.get(fact), imported, str(found["level"]), found)
        )
    return rows


def fhir_patient_match(case: Case, result: MappingResult) -> PatientMatch:
    """The bundle's Patient against the case, by NHS number (matched, mismatch, not_matched)."""
    return patient_match(result.patient, case.nhs_number)
