"""Eligibility over the API: one profile, or a batch of up to 1,000, against the rule set in force.

Validate, call the engine, answer with pre-encoded JSON. No clinical logic here. `?view=summary`
(v2) answers each option by its status, deciding rule ids, missing facts and caution ids, built by
rules/serialize.py next to the full answer. A batch answer is capped in bytes
(API_BATCH_MAX_RESPONSE_BYTES): past it the request is refused with 413, so that one call cannot
hold a worker's memory (security review F9).
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from pydantic import BaseModel, ConfigDict, ValidationError
from rest_framework import exceptions, status
from rest_framework.request import Request

from treatments import selectors
from treatments.rules.engine import CompiledRuleSet, EvaluationResult
from treatments.rules.profile import PatientProfile, error_list
from treatments.rules.serialize import (
    SUMMARY_COLUMNS,
    options_json,
    options_summary,
    result_to_json,
    ruleset_to_dict,
    summary_to_dict,
    warnings_to_list,
)

from . import v1
from .exceptions import InvalidInput, query_params
from .permissions import capability
from .schemas import (
    BatchRequest,
    BatchResponse,
    EligibilityAnswer,
    EligibilityRequest,
)
from .versions import ApiVersion, VersionedView

View = Literal["full", "summary"]


class ViewQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    view: View = "full"


VIEW_PARAMETER = OpenApiParameter(
    "view",
    str,
    enum=["full", "summary"],
    description=(
        "`summary`: each option as its `modality`, `status`, `deciding_rules` (rule ids), "
        "`missing_facts` and `cautions` (rule ids), at most 5 kB per profile, for batch clients; "
        "the rules' texts are in GET /api/v2/modalities/. Default `full`."
    ),
)


class AnswerTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "answer_too_large"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.errors = [{"loc": ["profiles"], "msg": detail}]


class EligibilityView(VersionedView):
    """Which treatment options is this patient eligible for, and why?

    Every fact is optional: an absent or null fact is unknown, never false, and options that hinge
    on it are `needs_data` with the fact named in `missing_facts`.
    """

    permission_classes = [capability("check_eligibility")]

    @extend_schema(
        request=EligibilityRequest,
        parameters=[VIEW_PARAMETER],
        responses={200: EligibilityAnswer},
        tags=["eligibility"],
    )
    def post(self, request: Request) -> HttpResponse:
        view = self.requested_view(request)
        body = self.validated(EligibilityRequest, request.data, "EligibilityRequestRequest")
        result = selectors.eligibility(body.profile)
        if self.is_v1:
            return _json(orjson.dumps(v1.eligibility_dict(result)))
        return _json(orjson.dumps(summary_to_dict(result)) if view == "summary" else result_to_json(result))

    def requested_view(self, request: Request) -> View:
        view: View = query_params(ViewQuery, request).view
        if self.is_v1 and view != "full":
            msg = "the summary view is served by /api/v2/ only"
            raise InvalidInput([{"loc": ["query", "view"], "msg": msg}])
        return view


class EligibilityBatchView(EligibilityView):
    """Up to 1,000 profiles in one call, answered in the order given; a bad item gets its own errors.

    An answer larger than the server's limit (10 MB by default, about 100 full answers or every
    summary of a full batch) is refused with 413 naming the limit: send fewer profiles, or ask
    for `?view=summary`."""

    @extend_schema(
        request=BatchRequest,
        parameters=[VIEW_PARAMETER],
        responses={200: BatchResponse},
        tags=["eligibility"],
    )
    def post(self, request: Request) -> HttpResponse:
        view = self.requested_view(request)
        body = self.validated(BatchRequest, request.data, "BatchRequestRequest")
        ruleset = selectors.published_ruleset()
        limit: int = settings.NETCARE_API_BATCH_MAX_RESPONSE_BYTES
        parts = [b'{"ruleset":', orjson.dumps(ruleset_to_dict(ruleset.info))]
        if view == "summary":
            parts += (b',"columns":', orjson.dumps(SUMMARY_COLUMNS))
        parts.append(b',"results":[')
        size = sum(map(len, parts))
        for index, item in enumerate(body.profiles):
            start = len(parts)
            parts.append(b'{"index":%d,' % index if index == 0 else b',{"index":%d,' % index)
            _batch_item(ruleset, index, item, parts, self.api_version, view)
            parts.append(b"}")
            size += sum(map(len, parts[start:]))
            if size + 2 > limit:
                raise AnswerTooLarge(_too_large(limit, index, view))
        parts.append(b"]}")
        return _json(b"".join(parts))


def _too_large(limit: int, index: int, view: View) -> str:
    advice = "send fewer profiles per request" + (" or ask for ?view=summary" if view == "full" else "")
    return (
        f"The answer would be larger than {limit} bytes (API_BATCH_MAX_RESPONSE_BYTES): {advice}; "
        f"the first {index} profiles fit."
    )


def _batch_item(
    ruleset: CompiledRuleSet, index: int, item: Any, parts: list[bytes], version: ApiVersion, view: View
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
    _options(result, parts, view)


def _options(result: EvaluationResult, parts: list[bytes], view: View) -> None:
    if view == "summary":
        parts.append(orjson.dumps(options_summary(result)))
    else:
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
