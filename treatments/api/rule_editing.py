"""The rule editor over the API (/api/v2/ only; v1 is frozen, ADR 0007): edit or add one rule or one
modality of a draft rule set, and read any rule set as knowledge-base YAML.

The same services as the editor pages: the loader validates, a refusal is 400 with its messages by
field (`loc` = the field), a published or retired rule set is 409.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from treatments import services
from treatments.models import RuleSet
from treatments.rules.authoring import GENERAL, content_to_yaml, rule_fingerprint
from treatments.selectors.governance import ruleset_get

from .exceptions import InvalidInput, found, service_call, validated
from .permissions import acting_user, capability
from .schemas import (
    DraftModalityOut,
    DraftRuleOut,
    ModalityCreateIn,
    ModalityEditIn,
    RuleChangeIn,
    RuleCreateIn,
)
from .versions import VersionedView

TAGS = ["rule sets"]


def _errors(errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    return [
        {"loc": [] if name == GENERAL else name.split("."), "msg": message}
        for name, messages in errors.items()
        for message in messages
    ]


def _call(call: Any) -> RuleSet:
    try:
        return call()  # type: ignore[no-any-return]
    except services.RuleEditInvalid as exc:
        raise InvalidInput(_errors(exc.errors), detail=exc.sentence) from exc


def _rule_out(rule_set: RuleSet, key: str, rule_id: str) -> dict[str, Any]:
    rules = rule_set.content["rules"]
    rule = next(r for r in rules if r["modality"] == key and r["rule_id"] == rule_id)
    fingerprint = rule_fingerprint(rule_set.content, modality=key, rule_id=rule_id)
    return {
        "version": rule_set.version,
        "checksum": rule_set.checksum,
        "rule": rule,
        "fingerprint": fingerprint,
    }


def _modality_out(rule_set: RuleSet, key: str) -> dict[str, Any]:
    modality = next(m for m in rule_set.content["modalities"] if m["key"] == key)
    return {"version": rule_set.version, "checksum": rule_set.checksum, "modality": modality}


class DraftRuleView(VersionedView):
    """PUT: replace the fields of one rule of a draft (its id stays)."""

    permission_classes = [capability("draft_ruleset")]

    @extend_schema(request=RuleChangeIn, responses={200: DraftRuleOut}, tags=TAGS)
    def put(self, request: Request, version: str, key: str, rule_id: str) -> Response:
        draft = found(ruleset_get(version))
        data = validated(RuleChangeIn, request.data)
        edited = service_call(
            lambda: _call(
                lambda: services.ruleset_rule_edit(
                    rule_set=draft,
                    modality=key,
                    rule_id=rule_id,
                    fields=data.model_dump(exclude={"based_on"}),
                    actor=acting_user(request),
                    based_on=data.based_on,
                )
            )
        )
        return Response(_rule_out(edited, key, rule_id))


class DraftRulesView(VersionedView):
    """POST: add a rule at the end of a draft's modality."""

    permission_classes = [capability("draft_ruleset")]

    @extend_schema(request=RuleCreateIn, responses={201: DraftRuleOut}, tags=TAGS)
    def post(self, request: Request, version: str, key: str) -> Response:
        draft = found(ruleset_get(version))
        data = validated(RuleCreateIn, request.data)
        fields = data.model_dump(exclude={"rule_id"})
        edited = service_call(
            lambda: _call(
                lambda: services.ruleset_rule_add(
                    rule_set=draft,
                    modality=key,
                    rule_id=data.rule_id,
                    fields=fields,
                    actor=acting_user(request),
                )
            )
        )
        return Response(_rule_out(edited, key, data.rule_id), status=status.HTTP_201_CREATED)


class DraftModalityView(VersionedView):
    """PUT: replace the descriptive fields of one modality of a draft (its rules are edited one by one)."""

    permission_classes = [capability("draft_ruleset")]

    @extend_schema(request=ModalityEditIn, responses={200: DraftModalityOut}, tags=TAGS)
    def put(self, request: Request, version: str, key: str) -> Response:
        draft = found(ruleset_get(version))
        data = validated(ModalityEditIn, request.data)
        edited = service_call(
            lambda: _call(
                lambda: services.ruleset_modality_edit(
                    rule_set=draft, key=key, fields=data.model_dump(), actor=acting_user(request)
                )
            )
        )
        return Response(_modality_out(edited, key))


class DraftModalitiesView(VersionedView):
    """POST: add a modality to a draft, with its first indication rule."""

    permission_classes = [capability("draft_ruleset")]

    @extend_schema(request=ModalityCreateIn, responses={201: DraftModalityOut}, tags=TAGS)
    def post(self, request: Request, version: str) -> Response:
        draft = found(ruleset_get(version))
        data = validated(ModalityCreateIn, request.data)
        fields = data.model_dump(exclude={"key", "indication"})
        edited = service_call(
            lambda: _call(
                lambda: services.ruleset_modality_add(
                    rule_set=draft,
                    key=data.key,
                    fields=fields,
                    indication=data.indication.model_dump(),
                    actor=acting_user(request),
                )
            )
        )
        return Response(_modality_out(edited, data.key), status=status.HTTP_201_CREATED)


class RuleSetYamlView(VersionedView):
    """GET: any rule set as a knowledge-base YAML file; loading it gives the rule set's checksum."""

    permission_classes = [capability("view_rulesets")]

    @extend_schema(
        responses={(200, "application/yaml"): OpenApiResponse(description="The knowledge-base YAML file.")},
        tags=TAGS,
    )
    def get(self, request: Request, version: str) -> HttpResponse:
        rule_set = found(ruleset_get(version))
        response = HttpResponse(
            content_to_yaml(rule_set.content), content_type="application/yaml; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="knowledge_base_{rule_set.version}.yaml"'
        return response
