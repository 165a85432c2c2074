"""A quick structural check of FHIR R4 JSON, built from the `fhir.resources` R4B models themselves.

Validating with the R4B models costs about 70 µs a resource (pydantic plus a Python validator per
element), which alone misses the input speed targets (docs/fhir.md, "Speed"). This module reads the
same models once — each element's JSON name, whether it repeats, its datatype (primitive pattern or
nested element), required elements and choice groups — and walks a resource's JSON against them
in a few µs.

It is **one-sided**: `certainly_valid` answers True only when every element is one it fully
understands and every check passes, so the R4B models would accept the resource too. Anything
else — an error, or simply something it does not judge (contained resources, primitive extensions
`_x`, leap seconds, unusual primitives) — answers False, and the caller validates with the R4B
models, whose errors (naming the element) are the only ones ever reported. So the check changes
the time taken, never the verdict (tests/fhir/test_fastcheck.py compares the two on mutated input).
"""

from __future__ import annotations

import math
import re
import types
import typing
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any, Final

from fhir_core import types as fhir_types

Check = typing.Callable[[Any], bool]

# Whole-string patterns; stricter than (or equal to) the ones fhir_core gives pydantic.
_CODE: Final = re.compile(r"[^\s]+( [^\s]+)*")
_ID: Final = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_NO_SPACE: Final = re.compile(r"\S+")
_FRACTION_MAX_DIGITS: Final = 6  # longer fractions of a second: leave them to the models


def _string(value: Any) -> bool:
    return type(value) is str and not value.isspace() and value != "" and len(value) <= 1_048_576


def _code(value: Any) -> bool:
    return type(value) is str and _CODE.fullmatch(value) is not None


def _id(value: Any) -> bool:
    return type(value) is str and _ID.fullmatch(value) is not None


def _uri(value: Any) -> bool:
    return type(value) is str and _NO_SPACE.fullmatch(value) is not None


def _boolean(value: Any) -> bool:
    return type(value) is bool


def _decimal(value: Any) -> bool:
    if type(value) is int:
        return True
    return (
        type(value) is float
        and math.isfinite(value)
        and fhir_types.Decimal.pattern.fullmatch(str(value)) is not None
    )


def _integer(low: int, high: int) -> Check:
    def check(value: Any) -> bool:
        return type(value) is int and low <= value <= high

    return check


def _date(value: Any) -> bool:
    if type(value) is not str or fhir_types.Date.pattern.fullmatch(value) is None:
        return False
    if len(value) < 10:
        return True  # YYYY or YYYY-MM: the pattern is the whole check
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _date_time(pattern: re.Pattern[str]) -> Check:
    def check(value: Any) -> bool:
        if type(value) is not str or pattern.fullmatch(value) is None:
            return False
        if "T" not in value:
            return _date(value)
        seconds = value[17:19]
        fraction = re.match(r"\.([0-9]+)", value[19:])
        if seconds == "60" or (fraction and len(fraction.group(1)) > _FRACTION_MAX_DIGITS):
            return False
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return False
        return parsed.tzinfo is not None

    return check


# The primitive annotations the check understands; any other (Url, Oid, Uuid, Time, base64, ...)
# makes `certainly_valid` answer False and the models decide.
_PRIMITIVES: Final[dict[type, Check]] = {
    fhir_types.String: _string,
    fhir_types.Markdown: _string,
    fhir_types.Xhtml: _string,
    fhir_types.Code: _code,
    fhir_types.Id: _id,
    fhir_types.Uri: _uri,
    fhir_types.Canonical: _uri,
    fhir_types.Date: _date,
    fhir_types.DateTime: _date_time(fhir_types.DateTime.pattern),
    fhir_types.Instant: _date_time(fhir_types.Instant.pattern),
}


def _never(value: Any) -> bool:
    return False


@dataclass
class _Spec:
    """What one model accepts: its elements by JSON name, required names, choice groups."""

    resource_type: str | None
    # JSON name -> (repeats, check of one value: a primitive check or a nested spec, resolved late)
    elements: dict[str, tuple[bool, _LazySpec]] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    choices: tuple[tuple[tuple[str, ...], bool], ...] = ()


def _unwrap(annotation: Any) -> tuple[bool, Any]:
    """(repeats, the annotation of one value) for Optional[...] / List[...] / X | None."""
    many = False
    while True:
        origin = typing.get_origin(annotation)
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if origin in (typing.Union, types.UnionType) and len(args) == 1:
            annotation = args[0]
        elif origin is list and len(args) == 1 and not many:
            many = True
            annotation = args[0]
        else:
            return many, annotation


def _value_check(annotation: Any) -> Check | _Spec:
    if annotation is bool:
        return _boolean
    if typing.get_origin(annotation) is typing.Annotated:
        base, *metadata = typing.get_args(annotation)
        for meta in metadata:
            if isinstance(meta, fhir_types.Integer) and base is int:
                return _integer(meta.min_length, meta.max_length)
            if isinstance(meta, fhir_types.Decimal) or meta is fhir_types.Decimal:
                return _decimal
            check = _PRIMITIVES.get(type(meta))
            if check is not None:
                return check
        return _never
    if isinstance(annotation, type) and issubclass(annotation, fhir_types.FhirBase):
        if issubclass(annotation, fhir_types.FhirElementOrResourceBase):
            return _never  # a polymorphic Resource / Element (contained, ...): the models judge it
        return _spec(annotation.get_model_klass())
    return _never


@cache
def _spec(model: Any) -> _Spec:
    """The spec of a model class, built once (nested specs are filled lazily via the cache)."""
    has_resource = bool(getattr(model, "has_resource_base", lambda: False)())
    spec = _Spec(resource_type=model.get_resource_type() if has_resource else None)
    required = []
    groups: dict[str, list[str]] = {}
    group_required: dict[str, bool] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if name.endswith("__ext") or name == "fhir_comments":
            spec.elements[key] = (False, _LazySpec(None, _never))  # `_x`, comments: the models judge
            continue
        many, one = _unwrap(info.annotation)
        spec.elements[key] = (many, _LazySpec(one))
        if info.is_required() or extra.get("element_required"):
            required.append(key)
        if extra.get("one_of_many"):
            prefix = str(extra["one_of_many"])
            groups.setdefault(prefix, []).append(key)
            group_required[prefix] = bool(extra.get("one_of_many_required"))
    spec.required = tuple(required)
    spec.choices = tuple((tuple(keys), group_required[prefix]) for prefix, keys in groups.items())
    return spec


class _LazySpec:
    """A value check resolved on first use: element types refer to each other recursively."""

    __slots__ = ("annotation", "resolved")

    def __init__(self, annotation: Any, resolved: Check | _Spec | None = None) -> None:
        self.annotation = annotation
        self.resolved = resolved

    def get(self) -> Check | _Spec:
        if self.resolved is None:
            self.resolved = _value_check(self.annotation)
        return self.resolved


def _value_ok(value: Any, check: Check | _Spec) -> bool:
    if isinstance(check, _Spec):
        return type(value) is dict and _object_ok(value, check, root=False)
    return check(value)


def _object_ok(data: dict[str, Any], spec: _Spec, *, root: bool) -> bool:
    if not data:
        return False  # an empty element: let the models say what they make of it
    elements = spec.elements
    for key, value in data.items():
        if key == "resourceType":
            if not root or value != spec.resource_type:
                return False
            continue
        found = elements.get(key)
        if found is None or value is None:
            return False
        many, lazy = found
        check = lazy.get()
        if many:
            if type(value) is not list or not value:
                return False
            for item in value:
                if item is None or not _value_ok(item, check):
                    return False
        elif type(value) is list or not _value_ok(value, check):
            return False
    for key in spec.required:
        if key not in data:
            return False
    for keys, required in spec.choices:
        present = sum(1 for key in keys if key in data)
        if present > 1 or (required and present == 0):
            return False
    return True


def certainly_valid(resource: Any, model: Any) -> bool:
    """True only if the R4B `model` would accept this JSON resource (or element) as it is; False
    means "not sure": validate with the model to get the verdict and the errors."""
    if type(resource) is not dict:
        return False
    spec = _spec(model)
    if spec.resource_type is not None and resource.get("resourceType") != spec.resource_type:
        return False
    return _object_ok(resource, spec, root=True)
