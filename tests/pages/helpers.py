"""Helpers for the page tests: golden profiles as form posts, and what a result page shows."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

from treatments.rules.profile import V1_BOOLEAN_VALUES

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "golden"


def golden(name: str) -> dict[str, Any]:
    """A golden case (title, profile, expect, ...) by file name or stem."""
    path = GOLDEN / (name if name.endswith(".yaml") else f"{name}.yaml")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def form_data(profile: dict[str, Any]) -> dict[str, Any]:
    """A profile as the patient form posts it; facts left out stay at the form's "unknown"."""
    data: dict[str, Any] = {}
    for name, value in profile.items():
        if name == "prior_therapies":
            data["prior_therapies_known"] = "given" if value else "none"
            data["prior_therapies"] = list(value)
        elif name == "prior_therapy_details":
            for row, detail in enumerate(value):
                for part, item in detail.items():
                    if isinstance(item, bool):
                        item = "yes" if item else "no"
                    data[f"prior_therapy_details_{row}_{part}"] = str(item)
        elif name in V1_BOOLEAN_VALUES and isinstance(value, bool):  # a 1.1 profile: its 1.2 value
            data[name] = V1_BOOLEAN_VALUES[name][value]
        elif isinstance(value, bool):
            data[name] = "yes" if value else "no"
        else:
            data[name] = str(value)
    return data


class ShownOption:
    def __init__(self, group: str | None, status: str):
        self.group = group  # the status section the card sits in
        self.status = status  # the card's data-status
        self.label = ""  # the status words shown on the card


class _ResultParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.section: str | None = None
        self.options: dict[str, ShownOption] = {}
        self.card: ShownOption | None = None
        self.in_status = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "section" and "status-group" in classes:
            self.section = (attributes.get("id") or "").removeprefix("status-")
        elif tag == "article" and "option" in classes:
            self.card = ShownOption(self.section, attributes.get("data-status") or "")
            self.options[attributes.get("data-modality") or ""] = self.card
        elif tag == "p" and "option-status" in classes:
            self.in_status = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.in_status = False
        elif tag == "article":
            self.card = None
        elif tag == "section" and self.card is None:
            self.section = None

    def handle_data(self, data: str) -> None:
        if self.in_status and self.card is not None:
            self.card.label = " ".join((self.card.label + " " + data).split()).removeprefix("Status: ")


def shown_options(html: str) -> dict[str, ShownOption]:
    """Modality key -> where its card is shown and what status it says, from a result page."""
    parser = _ResultParser()
    parser.feed(html)
    return parser.options
