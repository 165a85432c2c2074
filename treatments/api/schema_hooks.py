"""OpenAPI post-processing: document the error responses every operation can give, in one shape."""

from __future__ import annotations

from typing import Any

from treatments.rules.profile import V1_BOOLEAN_VALUES

ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
_ALWAYS = {
    "401": "Not authenticated: send `Authorization: Token <token>` or log in.",
    "403": "Your role does not allow this.",
    "405": "Method not allowed.",
    "406": "Only application/json responses are available.",
    "429": "Too many requests: slow down (see Retry-After).",
}
_WITH_BODY = {
    "400": "Invalid input: `errors` lists each field path and message.",
    "413": "The request body is too large.",
    "415": "Send the body as application/json.",
}
# The one error shape of the API (api/exceptions.py), declared once for every operation.
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["detail", "errors"],
    "properties": {
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {
                    "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
}


# FHIR endpoints answer a caller that asks for application/fhir+json with an OperationOutcome.
OUTCOME_REF = {"$ref": "#/components/schemas/OperationOutcome"}
_OUTCOME_SCHEMA = {
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
        "issue": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"type": "string"},
                    "code": {"type": "string"},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}


def only_v2(endpoints: list[Any], **kwargs: Any) -> list[Any]:
    """The generated document describes /api/v2/ only: v1 is served from its saved document."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v2/")]


def document_v1_booleans(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Facts that were booleans in contract 1.1 still accept a boolean (profile.V1_BOOLEAN_VALUES):
    the document says so, so that what the server accepts and what it documents agree."""
    facts = result.get("components", {}).get("schemas", {}).get("PatientProfile", {}).get("properties", {})
    for name in V1_BOOLEAN_VALUES:  # the fact's description (profile.py) says how a boolean reads
        if name in facts and "anyOf" in facts[name]:
            facts[name]["anyOf"].insert(-1, {"type": "boolean"})
    return result


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorResponse"] = _ERROR_SCHEMA
    schemas["OperationOutcome"] = _OUTCOME_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            extra = dict(_ALWAYS)
            if method in ("post", "put", "patch"):
                extra.update(_WITH_BODY)
            if method == "get":
                extra["400"] = "Invalid query parameter."
            if "{" in path:
                extra["404"] = "Not found."
            if "/eligibility/" in path or path.endswith("/rulesets/current/"):
                extra["503"] = "No rule set has been published yet."
            if "auth/token" in path:
                extra.pop("403", None)
                extra["401"] = "Username and password do not match an active user."
            content: dict[str, Any] = {"application/json": {"schema": ERROR_REF}}
            if "/fhir" in path:
                content["application/fhir+json"] = {"schema": OUTCOME_REF}
            for code, description in extra.items():
                entry = responses.setdefault(code, {"description": description})
                entry.setdefault("content", dict(content))
    return result
