"""The EHR's data for one call: the prefetch it sent, and what was missing fetched from its FHIR
server with the access token it passed (CDS Hooks 2.0 §Prefetch Template, §FHIR Resource Access).

The token is used for this call only: it is never stored, and never written to a log (only the
prefetch key and the kind of failure are). Only FHIR servers on the client's allowlist are ever
called, so a forged fhirServer cannot make NETcare reach into the hospital network.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from ..models import CdsClient
from .schemas import HookRequest

logger = logging.getLogger("netcare.cds")

NETCARE_OBSERVATION = "https://netcare.example.nhs.uk/fhir/CodeSystem/netcare-observation"
_TUMOUR_CODES = ",".join(
    [
        "http://loinc.org|29593-1",
        "http://loinc.org|33732-9",
        "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl|C18000",
        "http://loinc.org|97509-4",
        "http://loinc.org|89247-1",
        "http://loinc.org|82810-3",
        "http://snomed.info/sct|399387003",
        "http://snomed.info/sct|371497001",
        "http://snomed.info/sct|399534004",
        "http://snomed.info/sct|371494008",
        f"{NETCARE_OBSERVATION}|sstr-imaging",
        f"{NETCARE_OBSERVATION}|krenning-score",
    ]
)
_LAB_CODES = ",".join(
    f"http://loinc.org|{code}"
    for code in (
        "98979-8",
        "62238-1",
        "33914-3",
        "69405-9",
        "777-3",
        "26515-7",
        "751-8",
        "26499-4",
        "1975-2",
        "14631-6",
        "42719-5",
        "54363-7",
    )
)
PATIENT = "{{context.patientId}}"
# The service's prefetch templates (discovery), key -> FHIR query relative to the EHR's server.
PREFETCH: dict[str, str] = {
    "patient": f"Patient/{PATIENT}",
    "conditions": f"Condition?patient={PATIENT}",
    "tumour": f"Observation?patient={PATIENT}&code={_TUMOUR_CODES}&_sort=-date&_count=100",
    "labs": f"Observation?patient={PATIENT}&code={_LAB_CODES}&_sort=-date&_count=100",
    "medsGiven": f"MedicationAdministration?patient={PATIENT}&_count=200",
    "medsOrdered": f"MedicationRequest?patient={PATIENT}&_count=200",
    "medsStated": f"MedicationStatement?patient={PATIENT}&_count=200",
    "procedures": f"Procedure?patient={PATIENT}&status=completed&_count=200",
    "assessments": (
        f"QuestionnaireResponse?patient={PATIENT}"
        "&questionnaire=https://netcare.example.nhs.uk/fhir/Questionnaire/netcare-mdt-assessment"
        "&_sort=-authored&_count=1"
    ),
}
# Without these NETcare cannot tell whether the patient has a NET at all (412 when absent).
REQUIRED = ("patient", "conditions")
MAX_PAGES = 3
MAX_PARALLEL = 4
MAX_RESPONSE_BYTES = 5_000_000
TOTAL_SECONDS = 3.0


class PrefetchMissing(Exception):
    """Required data is neither in the prefetch nor obtainable from the FHIR server (412)."""

    def __init__(self, keys: list[str]):
        super().__init__(
            f"prefetch {', '.join(keys)} missing, and no usable fhirServer with fhirAuthorization to fetch it"
        )
        self.keys = keys


@dataclass
class Gathered:
    # What the EHR sent or NETcare fetched, as sent: Bundles (searchsets) and single resources.
    values: list[dict[str, Any]] = field(default_factory=list)
    empty: set[str] = field(default_factory=set)  # keys the EHR sent as null: it holds no such data
    missing: set[str] = field(default_factory=set)
    issues: list[dict[str, str]] = field(default_factory=list)
    fetched: set[str] = field(default_factory=set)

    def patient(self) -> dict[str, Any] | None:
        for value in self.values:
            for resource in _resources_of(value) or []:
                if resource.get("resourceType") == "Patient":
                    return resource
        return None


def gather(call: HookRequest, client: CdsClient) -> Gathered:
    """Every resource of the call's prefetch, completed from the FHIR server where allowed."""
    gathered = Gathered()
    prefetch = call.prefetch or {}
    for key in PREFETCH:
        if key not in prefetch:
            gathered.missing.add(key)
        elif prefetch[key] is None:
            gathered.empty.add(key)
        else:
            if _resources_of(prefetch[key]) is None:
                gathered.missing.add(key)
                gathered.issues.append(
                    {"code": f"prefetch_failed:{key}", "message": f"prefetch {key} failed"}
                )
            else:
                gathered.values.append(prefetch[key])
    if gathered.missing:
        _fetch_missing(call, client, gathered)
    still = [key for key in REQUIRED if key in gathered.missing]
    if still:
        raise PrefetchMissing(still)
    for key in sorted(gathered.missing):
        gathered.issues.append({"code": f"prefetch_missing:{key}", "message": f"no {key} data was sent"})
    return gathered


def _resources_of(value: Any) -> list[dict[str, Any]] | None:
    """A prefetch value's resources: a Bundle's entries or one resource; None for a failure
    (an OperationOutcome in place of the data, or something that is not a resource)."""
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        return None
    if value["resourceType"] == "OperationOutcome":
        return None
    if value["resourceType"] == "Bundle":
        entries = value.get("entry") or []
        return [
            entry["resource"]
            for entry in entries
            if isinstance(entry, dict)
            and isinstance(entry.get("resource"), dict)
            and entry["resource"].get("resourceType") != "OperationOutcome"
        ]
    return [value]


# --- fetching what is missing ------------------------------------------------------------------------


def server_allowed(server: str, client: CdsClient) -> bool:
    """On the client's allowlist (prefix match), and https unless in development."""
    if not (server.startswith("https://") or (settings.DEBUG and server.startswith("http://"))):
        return False
    base = server.rstrip("/") + "/"
    return any(base.startswith(prefix.rstrip("/") + "/") for prefix in client.fhir_server_allowlist)


def _fetch_missing(call: HookRequest, client: CdsClient, gathered: Gathered) -> None:
    auth, server = call.fhirAuthorization, call.fhirServer
    if auth is None or not server:
        return
    if not server_allowed(server, client):
        gathered.issues.append(
            {
                "code": "fhir_server_not_allowed",
                "message": "the EHR's FHIR server is not on NETcare's allowlist",
            }
        )
        logger.warning("cds: fhirServer not on the allowlist of %s; nothing fetched", client.iss)
        return
    if auth.patient is not None and auth.patient != call.context.patientId:
        gathered.issues.append(
            {"code": "token_patient_mismatch", "message": "the access token is for another patient"}
        )
        return
    patient = urllib.parse.quote(call.context.patientId, safe="")
    base = server.rstrip("/")
    keys = sorted(gathered.missing)
    deadline = time.monotonic() + TOTAL_SECONDS
    with ThreadPoolExecutor(max_workers=MAX_PARALLEL) as pool:
        answers = pool.map(
            lambda key: (
                key,
                _query(base, PREFETCH[key].replace(PATIENT, patient), auth.access_token, deadline),
            ),
            keys,
        )
        for key, pages in answers:
            if pages is None:
                gathered.issues.append(
                    {"code": f"fetch_failed:{key}", "message": f"{key} could not be fetched"}
                )
                continue
            gathered.missing.discard(key)
            gathered.fetched.add(key)
            gathered.values += pages


def _query(base: str, query: str, token: str, deadline: float) -> list[dict[str, Any]] | None:
    """The pages a query returns (following `next` links on the same server, a few pages);
    None on any failure (logged without the token)."""
    url: str | None = f"{base}/{query}"
    pages: list[dict[str, Any]] = []
    while url is not None and len(pages) < MAX_PAGES:
        body = _get(url, token, deadline)
        if body is None or _resources_of(body) is None:
            return None
        pages.append(body)
        url = _next_link(body, base)
    return pages


def _get(url: str, token: str, deadline: float) -> Any:
    timeout = min(settings.CDS_HOOKS_FHIR_TIMEOUT_SECONDS, deadline - time.monotonic())
    if timeout <= 0:
        return None
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read(MAX_RESPONSE_BYTES + 1)
        if len(raw) > MAX_RESPONSE_BYTES:
            raise ValueError("response too large")
        return json.loads(raw)
    except (OSError, ValueError) as exc:
        # The failure's kind only: an HTTPError's text could echo the request, token included.
        logger.warning("cds: FHIR query failed (%s)", type(exc).__name__)
        return None


def _next_link(bundle: Any, base: str) -> str | None:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return None
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            # Only on the same server: a next link elsewhere would take the token with it.
            if isinstance(url, str) and url.startswith(base + "/"):
                return url
    return None
