"""Template context shared by every page: the rule set in force (shown in the footer)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .models import RuleSet


def netcare(request: HttpRequest) -> dict[str, Any]:
    def ruleset() -> RuleSet | None:
        return RuleSet.objects.published().only("version", "published_at").first()

    # Lazy: the query runs only when a template shows the footer (PDFs and partials do not).
    return {"current_ruleset": ruleset}
