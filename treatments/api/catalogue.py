"""The catalogue over the API: the modalities of the rule set in force with their rules, and the
rule set itself.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from treatments import selectors
from treatments.rules.document import CATEGORY_LABELS

from .exceptions import InvalidInput
from .permissions import capability
from .serializers import ModalitySerializer, RuleSetSerializer

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
