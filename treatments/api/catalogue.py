"""The catalogue over the API: the modalities of the rule set in force with their rules, and the
rule set itself.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from treatments import selectors
from treatments.inputs import SearchText, control_character_problem
from treatments.rules.vocabulary import CATEGORIES, CATEGORIES_V1, MODALITY_KEYS_V1

from .exceptions import InvalidInput
from .permissions import capability
from .serializers import ModalitySerializer, RuleSetSerializer
from .versions import VersionedView

_CATALOGUE_PARAMETERS = [
    OpenApiParameter("category", OpenApiTypes.STR, enum=list(CATEGORIES), description="Keep one category."),
    OpenApiParameter(
        "search", OpenApiTypes.STR, description="Words to find in names, descriptions and rules."
    ),
]


_SEARCH: TypeAdapter[str] = TypeAdapter(SearchText)


def _search(request: Request) -> str:
    """?search=: at most 200 characters and MAX_SEARCH_WORDS words, no control characters."""
    search = request.query_params.get("search", "")
    if len(search) > 200:
        raise InvalidInput([{"loc": ["query", "search"], "msg": "must be at most 200 characters"}])
    try:
        return _SEARCH.validate_python(search)
    except PydanticValidationError as exc:
        raise InvalidInput.from_pydantic(exc, ("query", "search")) from exc


class ModalityListView(VersionedView):
    """The catalogue of the published rule set: every modality with its rules and sources."""

    permission_classes = [capability("view_catalogue")]

    @extend_schema(
        parameters=_CATALOGUE_PARAMETERS, responses={200: ModalitySerializer(many=True)}, tags=["catalogue"]
    )
    def get(self, request: Request) -> Response:
        category = request.query_params.get("category")
        categories = CATEGORIES_V1 if self.is_v1 else CATEGORIES
        if category is not None and category not in categories:
            raise InvalidInput(
                [{"loc": ["query", "category"], "msg": f"must be one of: {', '.join(categories)}"}]
            )
        modalities = selectors.catalogue(category=category, search=_search(request))
        if self.is_v1:
            modalities = [modality for modality in modalities if modality.key in MODALITY_KEYS_V1]
        return Response(ModalitySerializer(modalities, many=True).data)


class ModalityDetailView(VersionedView):
    """One modality of the published rule set, with its rules."""

    permission_classes = [capability("view_catalogue")]

    @extend_schema(responses={200: ModalitySerializer}, tags=["catalogue"])
    def get(self, request: Request, key: str) -> Response:
        problem = control_character_problem(key)
        if problem:
            raise InvalidInput([{"loc": ["path", "key"], "msg": problem}])
        modality = selectors.modality_detail(key)
        if modality is None or (self.is_v1 and key not in MODALITY_KEYS_V1):
            raise NotFound(f"No modality {key!r} in the rule set in force.")
        return Response(ModalitySerializer(modality).data)


class CurrentRuleSetView(VersionedView):
    """The rule set in force: version, publication time and checksum of its content."""

    permission_classes = [capability("view_catalogue")]

    @extend_schema(responses={200: RuleSetSerializer}, tags=["catalogue"])
    def get(self, request: Request) -> Response:
        rule_set = selectors.current_ruleset()
        if rule_set is None:
            raise selectors.NoPublishedRuleSet()
        data = RuleSetSerializer(rule_set).data
        if self.is_v1:  # the counts of what v1 lists under /modalities/
            v1_modalities = rule_set.modalities.filter(key__in=MODALITY_KEYS_V1)
            data["modality_count"] = v1_modalities.count()
            data["rule_count"] = rule_set.rules.filter(modality__in=v1_modalities).count()
        return Response(data)
