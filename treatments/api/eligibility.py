"""API v1 views: validate, call a selector or service, serialize. No clinical logic here."""

from __future__ import annotations

from typing import Any

import orjson
from django.contrib.auth import authenticate
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from pydantic import ValidationError
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from treatments import selectors
from treatments.rules.document import CATEGORY_LABELS
from treatments.rules.engine import CompiledRuleSet
from treatments.rules.profile import PatientProfile, error_list
from treatments.rules.serialize import options_json, result_to_json, ruleset_to_dict

from .exceptions import InvalidCredentials, InvalidInput, validated
from .permissions import capability
from .schemas import (
    BatchRequest,
    BatchResponse,
    EligibilityRequest,
    EligibilityResponse,
    TokenRequest,
    TokenResponse,
)
from .serializers import ModalitySerializer, RuleSetSerializer


class TokenView(APIView):
    """Exchange a username and password for an API token (send it as `Authorization: Token <token>`)."""

    # Token authentication only so that a 401 names its scheme (WWW-Authenticate: Token).
    authentication_classes = [TokenAuthentication]
    permission_classes = [AllowAny]

    @extend_schema(request=TokenRequest, responses={200: TokenResponse}, auth=[], tags=["auth"])
    def post(self, request: Request) -> Response:
        body = validated(TokenRequest, request.data)
        user = authenticate(request._request, username=body.username, password=body.password)
        if user is None:
            raise InvalidCredentials()
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


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


_CATALOGUE_PARAMETERS = [
    OpenApiParameter(
        "category", OpenApiTypes.STR, enum=list(CATEGORY_LABELS), description="Keep one category."
    ),
    OpenApiParameter(
        "search", OpenApiTypes.STR, description="Words to find in names, descriptions and rules."
    ),
]


class ModalityListView(APIView):
    """The catalogue of the published rule set: every modality with its rules and sources."""

    permission_classes = [capability("view_catalogue")]

    @extend_schema(
        parameters=_CATALOGUE_PARAMETERS, responses={200: ModalitySerializer(many=True)}, tags=["catalogue"]
    )
    def get(self, request: Request) -> Response:
        category = request.query_params.get("category")
        if category is not None and category not in CATEGORY_LABELS:
            raise InvalidInput(
                [{"loc": ["query", "category"], "msg": f"must be one of: {', '.join(CATEGORY_LABELS)}"}]
            )
        search = request.query_params.get("search", "")
        if len(search) > 200:
            raise InvalidInput([{"loc": ["query", "search"], "msg": "must be at most 200 characters"}])
        modalities = selectors.catalogue(category=category, search=search)
        return Response(ModalitySerializer(modalities, many=True).data)


class ModalityDetailView(APIView):
    """One modality of the published rule set, with its rules."""

    permission_classes = [capability("view_catalogue")]

    @extend_schema(responses={200: ModalitySerializer}, tags=["catalogue"])
    def get(self, request: Request, key: str) -> Response:
        modality = selectors.modality_detail(key)
        if modality is None:
            raise NotFound(f"No modality {key!r} in the rule set in force.")
        return Response(ModalitySerializer(modality).data)


class CurrentRuleSetView(APIView):
    """The rule set in force: version, publication time and checksum of its content."""

    permission_classes = [capability("view_catalogue")]

    @extend_schema(responses={200: RuleSetSerializer}, tags=["catalogue"])
    def get(self, request: Request) -> Response:
        rule_set = selectors.current_ruleset()
        if rule_set is None:
            raise selectors.NoPublishedRuleSet()
        return Response(RuleSetSerializer(rule_set).data)
