"""Error answers of the CDS service: a FHIR OperationOutcome (CDS Hooks 3.0's recommendation, harmless
in 2.0), never an HTML page or a traceback."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.http import JsonResponse

# HTTP status -> the OperationOutcome issue code (http://hl7.org/fhir/issue-type) that fits it.
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    404: "not-found",
    405: "not-supported",
    412: "required",
    413: "too-costly",
    415: "not-supported",
    429: "throttled",
    500: "exception",
    503: "transient",
}


def operation_outcome(
    status: int, diagnostics: str, *, expressions: Sequence[Sequence[str]] = ()
) -> JsonResponse:
    """An error answer; `expressions` name the body's fields at fault (one issue each)."""
    code = ISSUE_CODES.get(status, "processing")
    if expressions:
        issues = [
            {"severity": "error", "code": code, "diagnostics": diagnostics, "expression": [".".join(path)]}
            for path in expressions
        ]
    else:
        issues = [{"severity": "error", "code": code, "diagnostics": diagnostics}]
    response = JsonResponse({"resourceType": "OperationOutcome", "issue": issues}, status=status)
    response["Cache-Control"] = "no-store"
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="cds-hooks"'
    if status == 503:
        response["Retry-After"] = str(settings.NETCARE_RETRY_AFTER_SECONDS)
    return response


def is_cds_path(path: str) -> bool:
    return path == "/cds-hooks" or path.startswith("/cds-hooks/")
