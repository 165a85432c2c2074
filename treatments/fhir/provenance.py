"""Where a fact came from, in words: for pages, the PDF summary and the command line.

A case stores, per fact, either a FHIR provenance (level, rule, sources with reference, date and
code) or `{"level": "manual", "by", "at"}` (docs/fhir.md section 6). Pure Python: no Django.
"""

from __future__ import annotations

from typing import Any

LEVEL_WORDS = {
    "direct": "from FHIR",
    "derived": "derived from FHIR",
    "confirmed": "proposed from FHIR, confirmed",
    "proposed": "proposed from FHIR (to confirm)",
    "manual": "entered",
}
SYSTEM_NAMES = {
    "http://loinc.org": "LOINC",
    "http://snomed.info/sct": "SNOMED CT",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://terminology.hl7.org/CodeSystem/icd-o-3": "ICD-O-3",
    "http://www.whocc.no/atc": "ATC",
}


def source_date(source: dict[str, Any]) -> str | None:
    """The date that matters for the fact: the clinical date of its (first) source, or when it was
    entered by hand."""
    if source.get("level") == "manual":
        at = source.get("at")
        return str(at)[:10] if at else None
    sources = source.get("sources") or []
    return str(sources[0]["effective"]) if sources and sources[0].get("effective") else None


def code_words(code: str | None) -> str:
    """'http://loinc.org|98979-8' -> 'LOINC 98979-8'."""
    if not code:
        return ""
    system, _, value = code.partition("|")
    if not value:
        return code
    return f"{SYSTEM_NAMES.get(system, system.rsplit('/', 1)[-1])} {value}"


def describe(source: dict[str, Any] | None) -> str:
    """One line: "from FHIR Observation/egfr (LOINC 98979-8), 2026-11-10" or "entered by Dr Hughes,
    2026-11-30"; empty when nothing is known about the source."""
    if not source:
        return ""
    level = str(source.get("level", ""))
    when = source_date(source)
    if level == "manual":
        who = source.get("by") or "someone"
        return f"entered by {who}" + (f", {when}" if when else "")
    sources = source.get("sources") or []
    if not sources:
        return LEVEL_WORDS.get(level, level)
    first = sources[0]
    code = code_words(first.get("code"))
    text = f"{LEVEL_WORDS.get(level, level)} {first.get('ref')}" + (f" ({code})" if code else "")
    if len(sources) > 1:
        text += f" and {len(sources) - 1} more"
    if when:
        text += f", {when}"
    if level == "confirmed" and source.get("imported_by"):
        text += f" (by {source['imported_by']})"
    return text
