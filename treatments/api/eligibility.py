"""Eligibility over the API: one profile, or a batch of up to 1,000, against the rule set in force.

Validate, call the engine, answer with pre-encoded JSON. No clinical logic here."""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from pydantic import ValidationError
from rest_framework.request import Request
from rest_framework.views import APIView

from treatments import selectors
from treatments.rules.engine import CompiledRuleSet
from treatments.rules.profile import PatientProfile, error_list
from treatments.rules.serialize import options_json, result_to_json, ruleset_to_dict

from .exceptions import validated
from .permissions import capability
from .schemas import (
    BatchRequest,
    BatchResponse,
    EligibilityRequest,
    EligibilityResponse,
)


class EligibilityView(APIView):
    """Which treatment options is this patient eligible for, and why?

    Every fact is optional: an absent or null fact is unknown, never false, and options that hinge
    on it are `needs_data` with the fact named in `missing_facts`.
    """

    permission_classes = [capability("check_eligibility")]

    @extend_schema(request=EligibilityRequest, responses={200: EligibilityResponse}, tags=["eligibility"])
    def post(self, request: Request) -> HttpResponse:
        body = validated(EligibilityRequest, request.data)
        return _json(result_to_json(selectors.eligibility(body.profile)))


class EligibilityBatchView(APIView):
    """Up to 1,000 profiles in one call, answered in the order given; a bad item gets its own errors."""

    permission_classes = [capability("check_eligibility")]

    @extend_schema(request=BatchRequest, responses={200: BatchResponse}, tags=["eligibility"])
    def post(self, request: Request) -> HttpResponse:
        body = validated(BatchRequest, request.data)
        ruleset = selectors.published_ruleset()
        parts = [b'{"ruleset":', orjson.dumps(ruleset_to_dict(ruleset.info)), b',"results":[']
        for index, item in enumerate(body.profiles):
            parts.append(b'{"index":%d,' % index if index == 0 else b',{"index":%d,' % index)
            _batch_item(ruleset, index, item, parts)
            parts.append(b"}")
        parts.append(b"]}")
        return _json(b"".join(parts))


def _batch_item(ruleset: CompiledRuleSet, index: int, item: Any, parts: list[bytes]) -> None:
    if not isinstance(item, dict):
        errors = [{"loc": ["profiles", index], "msg": "must be an object of facts"}]
        parts += (b'"errors":', orjson.dumps(errors))
        return
    try:
        profile = PatientProfile.model_validate(item)
    except ValidationError as exc:
        parts += (b'"errors":', orjson.dumps(error_list(exc, ("profiles", index))))
        return
    parts.append(b'"options":')
    options_json(ruleset.evaluate(profile), parts)


def _json(body: bytes) -> HttpResponse:
    # Pre-encoded (see rules/serialize.py); DRF has already negotiated application/json.
    return HttpResponse(body, content_type="application/json")
