"""One way to page a list over the API: `?page=N` (from 1) and
`{"count": ..., "page": ..., "pages": ..., "results": [...]}` (security review F9: no unbounded list).

v1 published its evaluation and meeting lists as arrays; it keeps them, capped at the newest page.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter
from pydantic import BaseModel, ConfigDict, Field
from rest_framework.request import Request

from .exceptions import query_params

PAGE_SIZE = 50
# An evaluation answers every option with every rule (about 100 kB of JSON), so its pages are shorter.
EVALUATION_PAGE_SIZE = 20
MAX_PAGE = 100_000

T = TypeVar("T")


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    page: int = Field(default=1, ge=1, le=MAX_PAGE)


PAGE_PARAMETER = OpenApiParameter(
    "page",
    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
    description="The page, from 1 (newest first); past the last page, `results` is empty.",
)


def requested_page(request: Request) -> int:
    """The `page` query parameter, or 400 at ["query", "page"]."""
    return int(query_params(PageQuery, request).page)


def page_of(
    rows: QuerySet[Any] | Sequence[T], page: int, size: int, out: Callable[[Any], dict[str, Any]]
) -> dict[str, Any]:
    """One page of `rows` as the API's page object, each row shown by `out`."""
    count = rows.count() if isinstance(rows, QuerySet) else len(rows)
    return {
        "count": count,
        "page": page,
        "pages": max(1, math.ceil(count / size)),
        "results": [out(row) for row in rows[(page - 1) * size : page * size]],
    }
