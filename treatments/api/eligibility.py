"""Eligibility over the API: one profile, or a batch of up to 1,000, against the rule set in force.

Validate, call the engine, answer with pre-encoded JSON. No clinical logic here."""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from pydantic import ValidationError
from rest_framework.request import Request

from treatments import selectors
from treatments.rules.engine import CompiledRuleSet
from treatments.rules.profile import PatientProfile, error_list
from treatments.rules.serialize import options_json, result_to_json, ruleset_to_dict, warnings_to_list

from . import v1
from .permissions import capability
from .schemas import (
    BatchRequest,
    BatchResponse,
    EligibilityRequest,
    EligibilityResponse,
)
from .versions import ApiVersion, VersionedView


class EligibilityView(VersionedView):
    """Which treatment options is this patient eligible for, and why?

    Every fact is optional: an absent or null fact is unknown, never false, and options that hinge
    on it are `needs_data` with the fact named in `missing_facts`.
    """

    permission_classes = [capability("check_eligibility")]

    @extend_schema(request=EligibilityRequest, responses={200: EligibilityResponse}, tags=["eligibility"])
    def post(self, request: Request) -> HttpResponse:
        body = self.validated(EligibilityRequest, request.data, "EligibilityRequestRequest")
        result = selectors.eligibility(body.profile)
        return _json(orjson.dumps(v1.eligibility_dict(result)) if self.is_v1 else result_to_json(result))


class EligibilityBatchView(VersionedView):
    """Up to 1,000 profiles in one call, answered in the order given; a bad item gets its own errors."""

    permission_classes = [capability("check_eligibility")]

    @extend_schema(request=BatchRequest, responses={200: BatchResponse}, tags=["eligibility"])
    def post(self, request: Request) -> HttpResponse:
        body = self.validated(BatchRequest, request.data, "BatchRequestRequest")
        ruleset = selectors.published_ruleset()
        parts = [b'{"ruleset":', orjson.dumps(ruleset_to_dict(ruleset.info)), b',"results":[']
        for index, item in enumerate(body.profiles):
            parts.append(b'{"index":%d,' % index if index == 0 else b',{"index":%d,' % index)
            _batch_item(ruleset, index, item, parts, self.api_version)
            parts.append(b"}")
        parts.append(b"]}")
        return _json(b"".join(parts))


def _batch_item(
    ruleset: CompiledRuleSet, index: int, item: Any, parts: list[bytes], version: ApiVersion
) -> None:
    profile, errors = _item_profile(index, item, version)
    if profile is None:
        parts += (b'"errors":', orjson.dumps(errors))
        return
    result = ruleset.evaluate(profile)
    if version == "v1":
        parts += (b'"options":', orjson.dumps(v1.eligibility_dict(result)["options"]))
        return
    parts += (b'"warnings":', orjson.dumps(warnings_to_list(result)), b',"options":')
    options_json(result, parts)


def _item_profile(index: int, item: Any, version: ApiVersion) -> tuple[PatientProfile | None, list[Any]]:
    loc = ("profiles", index)
    if not isinstance(item, dict):
        return None, [{"loc": list(loc), "msg": "must be an object of facts"}]
    extra = v1.request_errors("PatientProfile", item, loc) if version == "v1" else []
    try:
        profile = PatientProfile.model_validate(item)
    except ValidationError as exc:
        return None, v1.combined(error_list(exc, loc), extra)
    return (None, extra) if extra else (profile, [])


def _json(body: bytes) -> HttpResponse:
    # Pre-encoded (see rules/serialize.py); DRF has already negotiated application/json.
    return HttpResponse(body, content_type="application/json")
