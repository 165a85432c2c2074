"""The contract form of an evaluation (contract.md section 4): one shape for the API, the CLI and
stored evaluations, so that a past MDT decision can be shown exactly as it was made."""

from __future__ import annotations

from typing import Any

from .engine import OUTCOME_WORDS, Caution, EvaluationResult, Reason, RuleSetInfo, Verdict

_OUTCOMES = OUTCOME_WORDS


def result_to_dict(result: EvaluationResult) -> dict[str, Any]:
    """`{"ruleset": {...}, "options": [...]}` - the body of POST /api/v1/eligibility/."""
    return {"ruleset": ruleset_to_dict(result.ruleset), "options": options_to_list(result)}


def options_to_list(result: EvaluationResult) -> list[dict[str, Any]]:
    return [verdict_to_dict(verdict) for verdict in result.verdicts]


def ruleset_to_dict(info: RuleSetInfo) -> dict[str, Any]:
    published_at = info.published_at.isoformat().replace("+00:00", "Z") if info.published_at else None
    return {"version": info.version, "published_at": published_at}


def verdict_to_dict(verdict: Verdict) -> dict[str, Any]:
    modality = verdict.modality
    facts, decisive = verdict.facts, verdict.decisive
    return {
        "modality": modality.key,
        "name": modality.name,
        "category": modality.category,
        "status": verdict.status,
        "intent": list(modality.intents),
        "reasons": [
            {
                **rule.card,
                "outcome": _OUTCOMES[outcome],
                "decisive": position in decisive,
                "values": {name: facts[name] for name in rule.facts},
            }
            for position, (rule, outcome) in enumerate(zip(verdict.rules, verdict.outcomes, strict=True))
        ],
        "missing_facts": list(verdict.missing_facts),
        "cautions": [caution_to_dict(caution) for caution in verdict.cautions],
    }


def reason_to_dict(reason: Reason) -> dict[str, Any]:
    return {
        **reason.rule.card,
        "outcome": reason.outcome_word,
        "decisive": reason.decisive,
        "values": reason.values,
    }


def caution_to_dict(caution: Caution) -> dict[str, Any]:
    return {
        "rule_id": caution.rule.rule_id,
        "type": caution.kind,
        "facts": list(caution.facts),
        "text": caution.text,
    }
