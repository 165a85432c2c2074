"""pydantic models of the API's bodies, as /api/v2/ (contract 1.2) documents them.

Requests are validated with them and stay closed: every fact with its type, bounds and enum.
Responses are documented with them (drf-spectacular reads their JSON schema). A response value that
is expected to grow - modality keys, categories, intents, rule kinds, verifications, caution types,
fact names - is an OPEN string whose known values the description lists (docs/contract.md 4.2):
a client generated from the document must show a new value as text rather than fail. `status` and
`outcome` stay closed. /api/v1/ is described by its saved document (openapi/v1.yaml), not by these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal

from drf_spectacular.utils import OpenApiResponse
from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints

from treatments.rules.conditions import Status
from treatments.rules.profile import FACT_NAMES, PatientProfile
from treatments.rules.vocabulary import (
    CATEGORIES,
    CAUTION_TYPES,
    INTENTS,
    MODALITY_KEYS,
    RULE_KINDS,
    VERIFICATIONS,
    MdtRole,
    NextStep,
)

MAX_BATCH = 1000

_FORBID = ConfigDict(extra="forbid")


def _open(what: str, known: Iterable[str]) -> str:
    return f"{what}. Open: more values may come; known values: {', '.join(known)}."


MODALITY = _open("A modality key", MODALITY_KEYS)
FACT = _open("A fact name", FACT_NAMES)


class EligibilityRequest(BaseModel):
    """`{"profile": {...facts...}}`: every fact optional; absent or null = unknown."""

    model_config = _FORBID
    profile: PatientProfile


class BatchRequest(BaseModel):
    """`{"profiles": [{...facts...}, ...]}`: at most 1,000 profiles, answered in the order given."""

    model_config = _FORBID
    profiles: list[Any] = Field(
        max_length=MAX_BATCH,
        description=(
            "Each item is a patient profile with the facts of `PatientProfile` (as in "
            "POST /api/v2/eligibility/). Items are validated one by one: an invalid item gets its own "
            "`errors` entry in the results and never spoils the others."
        ),
    )


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(description='Path to the field, e.g. ["profile", "ki67_percent"].')
    msg: str


class RuleSetRef(BaseModel):
    version: str
    published_at: datetime | None


class Reason(BaseModel):
    rule_id: str
    kind: str = Field(description=_open("The rule's kind", RULE_KINDS))
    title: str
    outcome: Literal["met", "not_met", "unknown"]
    decisive: bool = Field(description="Whether this rule decided the option's status.")
    condition: str = Field(description="The rule's condition in plain English.")
    values: dict[str, Any] = Field(
        description="The patient's values of the facts the rule looked at (null = unknown)."
    )
    text: str = Field(description="Why the rule exists, in plain English.")
    source: str
    evidence: str
    verification: str = Field(
        description="recall / to_be_confirmed: check the source before release. "
        + _open("The rule's verification", VERIFICATIONS)
    )
    verification_note: str


class Caution(BaseModel):
    rule_id: str
    type: str = Field(
        description=_open("caution: a warning; not_checked: a fact it needs is unknown", CAUTION_TYPES)
    )
    facts: list[str] = Field(description=FACT)
    text: str


class GuidelineLine(BaseModel):
    label: str = Field(description='Where the option stands in the guideline sequence, e.g. "first line".')
    source: str


class Option(BaseModel):
    modality: str = Field(description=MODALITY)
    name: str
    category: str = Field(description=_open("The modality's category", CATEGORIES))
    status: Status
    intent: list[str] = Field(description=_open("Intents", INTENTS))
    reasons: list[Reason] = Field(
        description="Every rule of the modality, with its outcome for this patient."
    )
    missing_facts: list[str] = Field(description="Unknown facts whose value could change the status. " + FACT)
    cautions: list[Caution]
    guideline_line: GuidelineLine | None = Field(
        default=None,
        description="The option's place in the guideline sequence (a display aid, not a ranking); null "
        "when none applies. Absent from evaluations stored under contract 1.1.",
    )


class FactWarning(BaseModel):
    facts: list[str] = Field(description="The facts involved. " + FACT)
    msg: str = Field(description="A likely unit slip or unusual value: accepted, to be checked.")


class EligibilityResponse(BaseModel):
    schema_version: int = Field(description="2 for contract 1.2.")
    ruleset: RuleSetRef
    warnings: list[FactWarning] = Field(description="Show at the top of the result.")
    options: list[Option] = Field(description="One per modality: candidates first, then by display order.")


# An option in `?view=summary`: one row of SUMMARY_COLUMNS (rules/serialize.py).
OptionSummary = tuple[
    Annotated[str, Field(description=MODALITY)],
    Status,
    Annotated[list[str], Field(description="The ids of the rules that decided the status.")],
    Annotated[list[str], Field(description="Unknown facts whose value could change the status. " + FACT)],
    Annotated[list[str], Field(description="The ids of the rules that gave the option's cautions.")],
]
SUMMARY_ROW = (
    "One row per option, in the order of the full answer, with the `columns` modality, status, "
    "deciding_rules (rule ids), missing_facts and cautions (rule ids)."
)


class EligibilitySummary(BaseModel):
    """The answer with `?view=summary`: at most 5 kB per profile, for batch clients."""

    schema_version: int = Field(description="2 for contract 1.2.")
    view: Literal["summary"]
    ruleset: RuleSetRef
    warnings: list[FactWarning] = Field(description="Show at the top of the result.")
    columns: list[str] = Field(
        description='Always ["modality", "status", "deciding_rules", "missing_facts", "cautions"].'
    )
    options: list[OptionSummary] = Field(description=SUMMARY_ROW)


class EligibilityAnswer(RootModel[EligibilityResponse | EligibilitySummary]):
    """The full answer, or with `?view=summary` the summary."""


class BatchResult(BaseModel):
    index: int
    warnings: list[FactWarning] | None = Field(
        default=None, description="Present when the profile was valid."
    )
    options: list[Option] | list[OptionSummary] | None = Field(
        default=None,
        description="Present when the profile was valid; with `?view=summary`, rows of `columns`.",
    )
    errors: list[ErrorItem] | None = Field(default=None, description="Present when the profile was invalid.")


class BatchResponse(BaseModel):
    ruleset: RuleSetRef
    columns: list[str] | None = Field(
        default=None, description="With `?view=summary`: the columns of each option's row."
    )
    results: list[BatchResult]


class TokenRequest(BaseModel):
    model_config = _FORBID
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=4096)


class TokenResponse(BaseModel):
    token: str


class TokenRequestV2(TokenRequest):
    # No control characters (PostgreSQL refuses NUL in text); surrounding blanks are dropped.
    client: (
        Annotated[
            str,
            StringConstraints(
                strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$"
            ),
        ]
        | None
    ) = Field(
        default=None,
        description="A name for the client that will use the token (shown when listing or revoking it).",
    )


class TokenIssued(TokenResponse):
    token: str = Field(description="The secret: shown this once, stored by NETcare only as a hash.")
    client: str
    prefix: str = Field(description="The secret's first characters, which name the token in lists.")
    expires_at: datetime


# --- the MDT workflow -----------------------------------------------------------------------------


class LatestEvaluation(BaseModel):
    id: int
    created_at: datetime
    ruleset_version: str
    out_of_date: list[str] = Field(description="Why it no longer reflects the case; empty when current.")


class CaseOut(BaseModel):
    id: int
    hospital_reference: str
    nhs_number: str = Field(description="10 digits, or empty.")
    referring_clinician: str
    question: str
    clinical_summary: str
    profile: dict[str, Any] = Field(description="The known facts; a fact that is absent is unknown.")
    fact_sources: dict[str, Any] = Field(
        description="Where each fact came from: a FHIR import's provenance (source, date, code, level) "
        "or {level: manual, by, at}. A fact without an entry was recorded before sources were kept."
    )
    status: Literal["draft", "ready", "discussed", "closed"]
    archived: bool
    version: int = Field(description="Send it back when changing the case; a newer one is a conflict (409).")
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    latest_evaluation: LatestEvaluation | None


class CasePage(BaseModel):
    count: int
    page: int
    pages: int
    results: list[CaseOut]


class ReviewOut(BaseModel):
    modality: str = Field(description=MODALITY)
    decision: Literal["accept", "reject", "defer"]
    reason_code: str
    note: str
    version: int
    reviewed_by: str
    reviewed_at: datetime


class EvaluationOut(BaseModel):
    id: int
    case: int
    created_at: datetime
    created_by: str
    ruleset: dict[str, Any] = Field(description="version, published_at and checksum of the rule set used.")
    profile: dict[str, Any]
    fact_sources: dict[str, Any] = Field(description="Where each evaluated fact came from, frozen with it.")
    out_of_date: list[str]
    warnings: list[FactWarning] = Field(description="The evaluation's warnings (none before 1.2).")
    options: list[Option]
    reviews: list[ReviewOut]


class FactChangeOut(BaseModel):
    fact: str = Field(description=FACT)
    old: Any
    new: Any


class OutcomeChangeOut(BaseModel):
    rule_id: str
    old_outcome: Literal["met", "not_met", "unknown"] | None
    new_outcome: Literal["met", "not_met", "unknown"]


class StatusChangeOut(BaseModel):
    modality: str = Field(description=MODALITY)
    old_status: Status | None
    new_status: Status | None
    deciding_rules: list[str]
    outcome_changes: list[OutcomeChangeOut]


class EvaluationChangesOut(BaseModel):
    before: int
    after: int
    facts: list[FactChangeOut]
    options: list[StatusChangeOut]


class OutcomeOut(BaseModel):
    case: int
    evaluation: int
    chosen_modalities: list[str] = Field(description=MODALITY)
    next_steps: list[NextStep] = Field(default_factory=list, description="Coded next steps (contract 1.2).")
    plan: str
    statuses: dict[str, Status] = Field(description="Each chosen option's status in the evaluation shown.")
    concordant: bool | None = Field(
        description="Every chosen option was a candidate or trial only; null when none chosen."
    )
    version: int
    recorded_by: str
    recorded_at: datetime


class MeetingEntryOut(BaseModel):
    position: int
    case: int
    hospital_reference: str


class ConcordanceOut(BaseModel):
    concordant: int
    decided: int
    recorded: int
    percent: int | None


class MeetingOut(BaseModel):
    id: int
    title: str
    date: dt.date
    version: int = Field(description="Send it back when changing the meeting (edit conflicts).")
    created_by: str
    created_at: datetime
    cases: list[MeetingEntryOut]
    concordance: ConcordanceOut


class FactToObtainOut(BaseModel):
    fact: str = Field(description=FACT)
    modalities: list[str] = Field(description=MODALITY)


class NotNeededOut(BaseModel):
    fact: str
    reason: str
    waived_by: str
    waived_at: datetime


class NotNeededList(RootModel[list[NotNeededOut]]):
    """The facts marked not needed for a case, with why (v2)."""


class AttendeeOut(BaseModel):
    id: int
    name: str
    role: MdtRole
    recorded_by: str
    recorded_at: datetime


class AttendanceOut(BaseModel):
    """Who is present at a meeting, and whether every core MDT role is (v2)."""

    attendees: list[AttendeeOut]
    quorate: bool = Field(description="Every core MDT role is present.")
    core_roles_present: list[MdtRole]
    core_roles_missing: list[MdtRole]


class WorklistRowOut(BaseModel):
    position: int
    case: CaseOut
    evaluation: int | None
    ready: bool = Field(description="Prepared: evaluated, up to date, nothing left to obtain.")
    out_of_date: list[str]
    data_to_obtain: list[FactToObtainOut] = Field(description="Less the facts marked not needed.")
    not_needed: list[NotNeededOut] = Field(
        default_factory=list, description="Facts marked not needed for the case, with why (v2)."
    )
    outcome: OutcomeOut | None


class CaseSummaryOut(BaseModel):
    case: CaseOut
    evaluation: EvaluationOut | None
    data_to_obtain: list[FactToObtainOut]
    outcomes: list[OutcomeOut]


class PackRequest(BaseModel):
    """Prepare a meeting pack (v2)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    appendix: bool = Field(default=False, description="Each case sheet with the rules behind every option.")


class MeetingPackOut(BaseModel):
    """A meeting pack prepared in the background: its state and progress; the PDF once `ready`."""

    id: int
    status: Literal["queued", "running", "ready", "failed"]
    cases: int = Field(description="Cases in the pack.")
    done: int = Field(description="Case sheets made so far.")
    appendix: bool
    created_at: datetime
    finished_at: datetime | None
    error: str = Field(description="Why it failed, in words (empty unless `failed`).")
    pdf: str | None = Field(
        description="When ready: where to GET the PDF (with `Accept: application/pdf`); else null."
    )


class ConflictResponse(BaseModel):
    detail: str
    errors: list[ErrorItem]
    current: dict[str, Any] | None = Field(description="What the other person saved (null if removed).")


class EvaluationPage(BaseModel):
    """A page of a case's evaluations, newest first (20 a page)."""

    count: int
    page: int
    pages: int
    results: list[EvaluationOut]


class MeetingPage(BaseModel):
    """A page of MDT meetings, newest first (50 a page)."""

    count: int
    page: int
    pages: int
    results: list[MeetingOut]


class Worklist(RootModel[list[WorklistRowOut]]):
    """A meeting's cases in order, with their readiness."""


CONFLICT_RESPONSE = {
    409: OpenApiResponse(ConflictResponse, description="Someone saved a newer version first.")
}


# --- the rule editor (docs/rule-governance.md): one rule or modality of a draft ---------------------
# Loose on purpose: the knowledge-base loader decides what a rule or modality may hold and answers
# 400 with its own messages by field, as the editor page does.


class RuleEditIn(BaseModel):
    """A rule's fields; `condition` is the condition as JSON (fixtures/README.md)."""

    model_config = _FORBID

    kind: str = Field(description=_open("indication, requirement, ...", RULE_KINDS))
    title: str
    condition: dict[str, Any]
    reason: str
    source: str
    evidence: str
    verification: str = Field(description=_open("How the rule was checked", VERIFICATIONS))
    verification_note: str = ""
    if_unknown: Literal["hold", "note"] = "hold"


class RuleChangeIn(RuleEditIn):
    based_on: str = Field(
        default="",
        description="The rule's `fingerprint` as you read it: if the rule has changed since, 409 and nothing "
        "is saved. Empty: no check.",
    )


class RuleCreateIn(RuleEditIn):
    rule_id: str = Field(description="Lower case with dots, e.g. prrt.albumin_low; unique in the modality.")


class ModalityEditIn(BaseModel):
    model_config = _FORBID

    name: str
    category: str = Field(description=_open("The modality's category", CATEGORIES))
    intents: list[str] = Field(description=_open("Intents", INTENTS))
    display_order: int
    description: str
    agents: str
    hospital_page: str = ""
    patient_summary: str = Field(
        default="", description="For patients, in plain English (the options sheet)."
    )
    patient_page_url: str = Field(default="", description="The unit's patient-information page (https).")
    notes: str = ""


class ModalityCreateIn(ModalityEditIn):
    key: str = Field(description=_open("A modality key of the contract", MODALITY_KEYS))
    indication: RuleCreateIn = Field(
        description="The modality's first indication rule (kind is set to indication)."
    )


class DraftRuleOut(BaseModel):
    version: str
    checksum: str = Field(
        description="The draft's new checksum: approvals made for the old one no longer count."
    )
    rule: dict[str, Any] = Field(description="The rule as the draft stores it.")
    fingerprint: str = Field(description="Send it back as `based_on` when you change this rule.")


class DraftModalityOut(BaseModel):
    version: str
    checksum: str
    modality: dict[str, Any] = Field(description="The modality as the draft stores it (without its rules).")


# --- rule governance (/api/v2/ only; docs/rule-governance.md) --------------------------------------


class RuleSetOut(BaseModel):
    """One version of the knowledge base and where it stands."""

    version: str
    title: str
    status: Literal["draft", "published", "retired"]
    review_state: Literal["editing", "in_review", "changes_requested", "approved", "published", "retired"]
    checksum: str
    created_at: datetime
    created_by: str | None
    published_at: datetime | None
    published_by: str | None
    based_on: str | None
    restores: str | None
    change_note: str
    required_bump: str
    rules: int
    golden_cases: int


class RuleSetList(RootModel[list[RuleSetOut]]):
    """Every version of the knowledge base, newest first."""


class GateOut(BaseModel):
    gate: Literal["status", "approval", "golden", "impact", "version", "verification"]
    ok: bool
    why: str
    evidence: int | None


class RuleSetDetailOut(RuleSetOut):
    """A version with its content (the normalised document, golden cases in `tests`), its evidence
    and, for a draft, the publication gates as they stand for the caller."""

    content: dict[str, Any]
    authors: list[str]
    latest_golden_run: int | None
    latest_impact_report: int | None
    reviews: list[int]
    gates: list[GateOut]


class DraftCreated(BaseModel):
    version: str
    checksum: str
    problems: list[str]


class DraftRequest(BaseModel):
    """A knowledge-base document (the YAML file's structure, as JSON) and the change note. The same
    document may be sent as YAML with `Content-Type: application/yaml` (change note: `?change_note=`)."""

    model_config = _FORBID
    document: dict[str, Any] = Field(description="The knowledge base: version, title, modalities, tests, ...")
    change_note: str = Field(default="", max_length=20_000)


class CloneRequest(BaseModel):
    """A draft made from the version in force, to edit in the app."""

    model_config = _FORBID
    version: str = Field(default="", max_length=40, pattern=r"^$|^[0-9A-Za-z][0-9A-Za-z._+-]*$")
    change_note: str = Field(default="", max_length=20_000)


class RuleComment(BaseModel):
    model_config = _FORBID
    modality: str = Field(default="", max_length=40)
    rule_id: str = Field(default="", max_length=80)
    text: str = Field(min_length=1, max_length=4000)


class RuleSetReviewRequest(BaseModel):
    model_config = _FORBID
    kind: Literal["comment", "approve", "request_changes"]
    checksum: str = Field(min_length=64, max_length=64, description="The draft checksum you reviewed.")
    summary: str = Field(default="", max_length=4000)
    comments: list[RuleComment] = Field(default_factory=list, max_length=200)


class RuleSetReviewOut(BaseModel):
    id: int
    kind: Literal["comment", "approve", "request_changes"]
    checksum: str
    reviewer: str
    summary: str
    comments: list[dict[str, Any]]
    created_at: datetime


class GoldenRunOut(BaseModel):
    id: int
    version: str
    checksum: str
    current: bool = Field(description="Made for the version's current checksum.")
    passed: bool
    results: list[dict[str, Any]] = Field(
        description="Per golden case: statuses, mismatches (expected vs actual)."
    )
    engine_version: str
    run_by: str | None
    run_at: datetime


class ImpactRequest(BaseModel):
    model_config = _FORBID
    scope: str = Field(
        default="active",
        pattern=r"^(active|all|meeting:[0-9]{1,18})$",
        description="active (not archived cases), all, or meeting:<id>.",
    )


class ImpactReportOut(BaseModel):
    """Case ids appear only for readers who may see cases; others see pseudonyms and facts."""

    id: int
    draft: str
    draft_checksum: str
    baseline: str
    baseline_checksum: str
    scope: str
    current: bool = Field(description="Made for the draft's current checksum and the version in force.")
    summary: dict[str, Any]
    report: dict[str, Any]
    report_hash: str
    generated_by: str | None
    generated_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None


class PublishRequest(BaseModel):
    model_config = _FORBID
    checksum: str = Field(min_length=64, max_length=64, description="The draft checksum you checked.")
    impact_report: int | None = Field(default=None, ge=1, le=10**18)


class RollbackRequest(BaseModel):
    model_config = _FORBID
    to_version: str = Field(min_length=1, max_length=40)
    reason: str = Field(min_length=1, max_length=4000)


class GoldenCaseRequest(BaseModel):
    """A new golden case for a draft: a profile and the statuses the author confirms."""

    model_config = _FORBID
    id: str = Field(min_length=1, max_length=100, pattern=r"^[0-9A-Za-z][0-9A-Za-z_.-]*$")
    title: str = Field(min_length=1, max_length=200)
    profile: dict[str, Any]
    expect: dict[str, Status] = Field(min_length=1)
    why: str = Field(default="", max_length=4000)


class GatesFailedResponse(BaseModel):
    detail: str
    errors: list[ErrorItem]
    gates: list[GateOut]


GATES_RESPONSE = {
    409: OpenApiResponse(GatesFailedResponse, description="A gate failed: each gate, and why it failed.")
}
# --- FHIR input (docs/fhir.md) ------------------------------------------------------------------


class FhirBundle(RootModel[dict[str, Any]]):
    """A FHIR R4 Bundle (`resourceType` "Bundle"; type collection, searchset, transaction, batch or
    document), sent as application/fhir+json or application/json. It is validated against the FHIR
    R4 (R4B) models: an unknown element or a wrong type is a 400 naming the element."""


class FhirSource(BaseModel):
    ref: str = Field(description='The resource a value came from, e.g. "Observation/egfr".')
    effective: dt.date | None = Field(description="Its clinically relevant date (null: none given).")
    fullUrl: str | None = None
    code: str | None = Field(default=None, description='The code that was read, as "system|code".')
    original: Any = Field(default=None, description="The value as sent (number, unit, code).")


class FhirProvenance(BaseModel):
    level: Literal["direct", "derived", "proposed"] = Field(
        description="direct: a standard code states it; derived: a documented rule over standard data; "
        "proposed: plausible, a clinician must confirm it."
    )
    derived: bool
    rule: str = Field(description='The mapping rule, e.g. "fhir.lab.egfr_ml_min".')
    value: Any
    sources: list[FhirSource]
    considered: list[dict[str, Any]] = Field(description="Sources seen and not used (older values).")


class FhirIssue(BaseModel):
    severity: Literal["error", "warning", "information"]
    code: str = Field(
        description="Open: e.g. conflict, stale, unit_missing, unsupported_unit, unsupported_quantity, "
        "status_ignored, data_absent, subject_mismatch, unverified_condition, out_of_range, old_pathology."
    )
    message: str
    fact: str | None = Field(default=None, description=FACT)
    resource: str | None = None


class FhirMapping(BaseModel):
    """The facts a bundle gives, each with its provenance; proposals to confirm; issues found."""

    profile: dict[str, Any] = Field(description="Direct and derived facts only: a valid PatientProfile.")
    provenance: dict[str, FhirProvenance] = Field(description="One entry per fact of `profile`.")
    proposals: dict[str, FhirProvenance] = Field(
        description="Values a clinician must confirm; never evaluated until confirmed."
    )
    issues: list[FhirIssue]
    patient: dict[str, Any] = Field(description="ref, nhs_number and identifiers of the Patient.")
    mapping_version: str
    as_of: dt.date


class FhirEligibilityAnswer(BaseModel):
    mapping: FhirMapping
    eligibility: EligibilityResponse = Field(description="The eligibility answer for `mapping.profile`.")


class FhirImportRow(BaseModel):
    fact: str = Field(description=FACT)
    current: Any = Field(description="The case's value now (null = unknown).")
    imported: Any
    level: Literal["direct", "derived", "proposed"]
    provenance: FhirProvenance


class FhirPatientMatch(BaseModel):
    """The bundle's Patient against the case, by NHS number. `mismatch`: applying is refused (409)
    unless `confirm_patient` is true; `not_matched`: one side has no NHS number."""

    match: Literal["matched", "mismatch", "not_matched"]
    bundle_nhs_number: str | None
    case_nhs_number: str | None


class FhirImportPreview(BaseModel):
    """What an import would change; nothing is stored. Send back `version` with the facts to accept."""

    case: int
    version: int
    patient: FhirPatientMatch
    changes: list[FhirImportRow]
    issues: list[FhirIssue]
    proposals: dict[str, FhirProvenance]
    mapping_version: str
    as_of: dt.date


class FhirImportApply(BaseModel):
    """Apply an import: the bundle again, the case `version` you previewed and the facts to accept."""

    model_config = _FORBID
    bundle: dict[str, Any] = Field(description="The FHIR R4 Bundle previewed.")
    version: int = Field(ge=1, le=2**31 - 1)
    accept: list[str] = Field(min_length=1, max_length=60, description="Fact names to set. " + FACT)
    as_of: dt.date | None = Field(
        default=None, description="The day the data are read as of (default today)."
    )
    confirm_patient: bool = Field(
        default=False,
        description="Import although the Patient's NHS number differs from the case's (audited).",
    )


class FhirImportResult(BaseModel):
    id: int
    version: int
    profile: dict[str, Any]
    fact_sources: dict[str, Any]


class FhirImportRequest(RootModel[FhirImportApply | FhirBundle]):
    """A Bundle (resourceType "Bundle"): preview, nothing stored. `{"bundle", "version", "accept"}`:
    apply the accepted facts, with the case's edit-conflict rules (409 if saved since `version`)."""


class FhirImportAnswer(RootModel[FhirImportPreview | FhirImportResult]):
    """The preview (a Bundle was sent), or the case's facts and sources after the import."""
