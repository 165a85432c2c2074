"""One `patient-view` call from the EHR's data to the cards (docs/cds-hooks.md, "Processing"):
gather the data, map it to facts (treatments/fhir/), evaluate with the published rules, keep the
answer, word it as cards.

Only facts the mapping calls `direct` or `derived` are evaluated: its proposals need a clinician's
confirmation, which an EHR call cannot give.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from datetime import datetime
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from pydantic import ValidationError

from .. import selectors
from ..fhir.mapping import MAPPING_VERSION, MappingResult, map_resources
from ..models import Case, CdsClient, nhs_number_is_valid
from ..rules.profile import PatientProfile, error_list
from ..services.cds import hook_evaluation_record
from . import prefetch
from .auth import JwtUse, use_jti
from .cards import build_cards
from .schemas import HookRequest

HOOK = "patient-view"
SERVICE_ID = "netcare-net-options"
# Cards are for clinicians: a patient or relative opening their own record gets none.
CLINICIAN_USERS = ("Practitioner/", "PractitionerRole/")
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
# The facts a NET Condition gives (confirmed, or provisional as a proposal): without any, the patient
# has no neuroendocrine neoplasm on record and the service stays silent.
NET_CONDITION_FACTS = frozenset({"primary_site", "differentiation", "who_grade"})


def no_cards() -> dict[str, Any]:
    return {"cards": []}


def patient_view(
    call: HookRequest, client: CdsClient, jwt_use: JwtUse, *, received_at: datetime, started: float
) -> dict[str, Any]:
    """The answer to one call. Raises NoPublishedRuleSet (503), prefetch.PrefetchMissing (412)
    and FhirInputError (400); everything else is an answer. A stored answer and the call's JWT id
    are committed together (CdsAuthFailed if the id was used meanwhile)."""
    compiled = selectors.published_ruleset()
    if not call.context.userId.startswith(CLINICIAN_USERS):
        return no_cards()
    gathered = prefetch.gather(call, client)
    if gathered.empty & set(prefetch.REQUIRED):
        return no_cards()  # the EHR holds no patient or no conditions: nothing to say
    linked_case = linked_case_for(gathered.patient(), call.context.patientId)
    mapping = _map(gathered.values, patient_id=call.context.patientId, now=received_at)
    if not has_net_condition(mapping) and linked_case is None:
        return no_cards()
    profile, dropped = usable_profile(mapping.profile)
    result = compiled.evaluate(profile)
    evaluation_id = uuid.uuid4()
    issues = [issue.as_json() for issue in mapping.issues] + gathered.issues + dropped
    cards, owners = build_cards(
        result,
        link_url=f"{settings.CDS_HOOKS_APP_URL}/cds/evaluations/{evaluation_id}/",
        app_url=settings.CDS_HOOKS_APP_URL,
        fact_sources=mapping.provenance,
        issues=issues,
        option_cards=settings.CDS_OPTION_CARDS,
    )
    with transaction.atomic():  # one commit: the answer kept and the JWT id used
        use_jti(jwt_use)
        hook_evaluation_record(
            evaluation_id=evaluation_id,
            client=client,
            hook=call.hook,
            hook_instance=call.hookInstance,
            context=call.context.model_dump(exclude_none=True),
            fhir_server=call.fhirServer or "",
            received_at=received_at,
            mapping_version=mapping.mapping_version,
            result=result,
            fact_sources=mapping.provenance,
            issues=issues,
            cards=cards,
            card_owners=owners,
            linked_case=linked_case,
            duration_ms=round((time.perf_counter() - started) * 1000),
        )
    return {"cards": cards}


class _Validated:
    """Digests of prefetch values (a Bundle or a resource, byte for byte) that passed the FHIR R4
    validation already, per process: the same chart opened again skips the costly check (about 25 ms
    for bundle 1), whose outcome for the same bytes cannot differ. At most MAX_VALIDATED are kept."""

    MAX_VALIDATED = 4096

    def __init__(self) -> None:
        self.digests: OrderedDict[bytes, None] = OrderedDict()
        self.lock = threading.Lock()

    def all_known(self, digests: list[bytes]) -> bool:
        with self.lock:
            return all(digest in self.digests for digest in digests)

    def remember(self, digests: list[bytes]) -> None:
        with self.lock:
            for digest in digests:
                self.digests[digest] = None
                self.digests.move_to_end(digest)
            while len(self.digests) > self.MAX_VALIDATED:
                self.digests.popitem(last=False)


_validated = _Validated()


def _map(values: list[dict[str, Any]], *, patient_id: str, now: datetime) -> MappingResult:
    """The FHIR mapping of the gathered values, validated as FHIR R4 unless exactly these values
    passed before (FhirInputError when they do not)."""
    digests = [hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).digest() for value in values]
    known = _validated.all_known(digests)
    resources: list[dict[str, Any] | None] = list(values)
    mapping = map_resources(
        resources,
        patient_id=patient_id,
        now=now,
        options=dataclasses.replace(selectors.fhir_options(), validate=not known),
    )
    if not known:
        _validated.remember(digests)
    return mapping


def has_net_condition(mapping: MappingResult) -> bool:
    """Whether the EHR records a neuroendocrine neoplasm (confirmed, or provisional: a suspected NET
    gets the "too little data" card that says what to obtain)."""
    named = set(mapping.profile) | set(mapping.proposals)
    if named & NET_CONDITION_FACTS:
        return True
    return any(issue.code == "unverified_condition" for issue in mapping.issues)


def usable_profile(facts: dict[str, Any]) -> tuple[PatientProfile, list[dict[str, str]]]:
    """The mapped facts as a profile; facts the contract refuses (out of bounds, contradicting each
    other) are left unknown, each with an issue, rather than failing the call."""
    facts = dict(facts)
    dropped: list[dict[str, str]] = []
    for _ in range(len(facts) + 1):
        try:
            return PatientProfile.model_validate(facts), dropped
        except ValidationError as exc:
            errors = error_list(exc)
            names = {str(error["loc"][0]) for error in errors if error["loc"] and error["loc"][0] in facts}
            if not names:
                break
            for error in errors:
                name = str(error["loc"][0]) if error["loc"] else ""
                if name in names and facts.pop(name, None) is not None:
                    dropped.append({"code": "fact_refused", "message": f"{name} not used: {error['msg']}"})
    return PatientProfile(), dropped


def linked_case_for(patient: dict[str, Any] | None, patient_id: str) -> Case | None:
    """The active case with the NHS number of the patient in context (valid check digit, exactly one
    case). A Patient resource with another id links nothing: it is not this call's patient."""
    if patient is None or patient.get("id") != patient_id:
        return None
    numbers = {
        str(identifier.get("value", "")).replace(" ", "")
        for identifier in patient.get("identifier") or []
        if isinstance(identifier, dict) and identifier.get("system") == NHS_NUMBER_SYSTEM
    }
    valid = [number for number in numbers if nhs_number_is_valid(number)]
    if len(valid) != 1:
        return None
    return selectors.case_for_nhs_number(valid[0])


def service_definition() -> dict[str, Any]:
    """The service as discovery describes it (CDS Hooks 2.0 §Discovery)."""
    definition: dict[str, Any] = {
        "hook": HOOK,
        "id": SERVICE_ID,
        "title": "NETcare: NET treatment options",
        "description": (
            "For patients with a neuroendocrine neoplasm: which treatment options the NET unit's "
            "published rules make candidates, which are not suitable, and which facts are missing."
        ),
        "prefetch": dict(prefetch.PREFETCH),
        "usageRequirements": (
            "Prefetch of 'patient' and 'conditions' (or fhirServer + fhirAuthorization with read access "
            "to the same resources) is required. The client must be registered with NETcare (iss, JWK "
            "Set). Advisory decision support for the NET MDT."
        ),
    }
    extension = {"uk.nhs.netcare.mappingVersion": MAPPING_VERSION}
    try:
        extension["uk.nhs.netcare.rulesetVersion"] = selectors.published_ruleset().info.version
    except selectors.NoPublishedRuleSet:
        pass
    definition["extension"] = extension
    return definition
