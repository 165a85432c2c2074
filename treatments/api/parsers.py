"""A strict JSON parser: a size limit (413), no NaN/Infinity, no crash on deep nesting or bad UTF-8."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import yaml
from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


class JSONParser(BaseParser):
    media_type = "application/json"

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        limit = settings.NETCARE_API_MAX_BODY_BYTES
        request = (parser_context or {}).get("request")
        declared = _content_length(request)
        if declared is not None and declared > limit:
            raise RequestTooLarge(f"The request body is larger than {limit:,} bytes.")
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit:,} bytes.")
        try:
            # orjson rejects NaN and Infinity, invalid UTF-8 and nesting deeper than 1024 levels,
            # each as a JSONDecodeError (never a RecursionError).
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"The body is not valid JSON: {exc}") from exc


def _content_length(request: Any) -> int | None:
    if request is None:
        return None
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


class YAMLParser(BaseParser):
    """A knowledge-base document as YAML (`Content-Type: application/yaml`), for draft uploads only:
    the same size limit, safe loading, and a parse error rather than a traceback."""

    media_type = "application/yaml"
    media_types = ("application/yaml", "application/x-yaml", "text/yaml")

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        limit = settings.NETCARE_API_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(f"The request body is larger than {limit:,} bytes.")
        try:
            return yaml.safe_load(raw.decode("utf-8"))
        except (UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ParseError(f"The body is not valid YAML: {str(exc)[:300]}") from exc
        except RecursionError:
            raise ParseError("The body is not valid YAML: nested too deeply") from None
