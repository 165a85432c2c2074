"""A stable fingerprint of a profile's known facts: how a stored evaluation tells that its case has
changed since (the same facts in any order, or details in any order, give the same fingerprint).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel


def facts_fingerprint(facts: Mapping[str, Any]) -> str:
    """SHA-256 of known facts, so that a changed profile can be told from an unchanged one.

    Unknown (null) facts are left out and the order of prior therapies does not matter.
    """
    canonical = {name: _canonical(value) for name, value in facts.items() if value is not None}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def _canonical(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    if all(isinstance(item, str) for item in value):
        return sorted(value)  # as before 1.2, so that stored fingerprints still match
    # A list of details (objects) has no natural order either: sort by its JSON text.
    return sorted(value, key=lambda item: json.dumps(_plain_data(item), sort_keys=True))


def _plain_data(item: Any) -> Any:
    return item.model_dump(mode="json") if isinstance(item, BaseModel) else item
