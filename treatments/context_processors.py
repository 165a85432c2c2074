"""Template context shared by every page: the rule set in force (shown in the footer)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .models import RuleSet


def netcare(request: HttpRequest) -> dict[str, Any]:
    def ruleset() -> RuleSet | None:
        return RuleSet.objects.published().only("version", "published_at").first()

    # Lazy: pages that do not show the footer (e.g. the health check) pay nothing.
    return {"current_ruleset": ruleset}
