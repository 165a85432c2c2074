"""The contract form of an evaluation (contract.md section 4): one shape for the API, the CLI and
stored evaluations, so that a past MDT decision can be shown exactly as it was made."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from itertools import chain
from typing import Any

import orjson

from .engine import (
    OUTCOME_WORDS,
    Caution,
    CompiledRule,
    EvaluationResult,
    ModalitySpec,
    Reason,
    RuleSetInfo,
    RuleSpec,
    Verdict,
)
from .profile import PatientProfile

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
                **rule.reason_template,
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
        **reason.rule.reason_template,
        "outcome": reason.outcome_word,
        "decisive": reason.decisive,
        "values": reason.values,
    }


# --- the same, straight to JSON bytes --------------------------------------------------------------
#
# An answer explains every rule (about 140), and most of its 100 kB is the rules' own text, which is
# the same for every patient. result_to_json() encodes that text once per rule set and splices in the
# per-patient parts, so the API does not rebuild and re-encode it on every request. It returns
# exactly orjson.dumps(result_to_dict(result)) (tests/test_serialize.py checks that).

_TRUE, _FALSE = b"true", b"false"
_OUTCOME_BYTES = {outcome: orjson.dumps(word) for outcome, word in OUTCOME_WORDS.items()}


def result_to_json(result: EvaluationResult) -> bytes:
    """The body of POST /api/v1/eligibility/ as JSON bytes."""
    parts = [b'{"ruleset":', orjson.dumps(ruleset_to_dict(result.ruleset)), b',"options":']
    options_json(result, parts)
    parts.append(b"}")
    return b"".join(parts)


def options_json(result: EvaluationResult, parts: list[bytes]) -> None:
    """Append the JSON array of the result's options to `parts`."""
    values = _ValuesJson(result.profile.__dict__)
    parts.append(b"[")
    for number, verdict in enumerate(result.verdicts):
        if number:
            parts.append(b",")
        _verdict_json(verdict, values, parts)
    parts.append(b"]")


def _verdict_json(verdict: Verdict, values: _ValuesJson, parts: list[bytes]) -> None:
    # Everything but the values, missing facts and cautions follows from the rule outcomes. The rule
    # texts are encoded once per rule (in each of its few outcome variants); a verdict's layout -
    # which variant each rule takes - is kept per (modality, outcomes) as references to them, so
    # answering splices shared bytes around the patient's values without building anything.
    layouts = _layouts(verdict.modality)
    layout = layouts.get(verdict.outcomes)
    if layout is None:
        layout = _layout(verdict)
        if len(layouts) < _LAYOUTS_PER_MODALITY:
            layouts[verdict.outcomes] = layout
    head, heads, fact_names, tails = layout
    parts.append(head)
    parts += chain.from_iterable(zip(heads, map(values.__getitem__, fact_names), tails, strict=True))
    parts += (
        b'],"missing_facts":',
        orjson.dumps(list(verdict.missing_facts)),
        b',"cautions":',
        orjson.dumps([caution_to_dict(caution) for caution in verdict.cautions])
        if verdict.cautions
        else b"[]",
        b"}",
    )


# (option head, each reason's part up to its values, the facts of each reason, each reason's tail)
_Layout = tuple[bytes, tuple[bytes, ...], tuple[tuple[str, ...], ...], tuple[bytes, ...]]
_LAYOUTS_PER_MODALITY = 20_000  # a layout is a few references (about 300 bytes), not a copy of the texts
_TAIL_KEYS = ("text", "source", "evidence", "verification", "verification_note")


def _layouts(modality: ModalitySpec) -> dict[tuple[Any, ...], _Layout]:
    if not modality.json_parts:
        modality.json_parts.append({})
    return modality.json_parts[0]  # type: ignore[no-any-return]


def _layout(verdict: Verdict) -> _Layout:
    modality = verdict.modality
    head = orjson.dumps(
        {
            "modality": modality.key,
            "name": modality.name,
            "category": modality.category,
            "status": verdict.status,
            "intent": list(modality.intents),
        }
    )
    heads = []
    for position, (rule, outcome) in enumerate(zip(verdict.rules, verdict.outcomes, strict=True)):
        variants, _ = _rule_parts(rule)
        heads.append(variants[outcome, position in verdict.decisive, position == 0])
    tails = tuple(_rule_parts(rule)[1] for rule in verdict.rules)
    return head[:-1] + b',"reasons":[', tuple(heads), tuple(rule.facts for rule in verdict.rules), tails


def _rule_parts(rule: CompiledRule) -> tuple[dict[tuple[Any, bool, bool], bytes], bytes]:
    """({(outcome, decisive, first): the reason's JSON up to its values}, the JSON after them)."""
    if not rule.json_parts:
        template = rule.reason_template
        start = (
            orjson.dumps({key: template[key] for key in ("rule_id", "kind", "title")})[:-1] + b',"outcome":'
        )
        condition = b',"condition":' + orjson.dumps(template["condition"]) + b',"values":'
        variants = {
            (outcome, decisive, first): (b"" if first else b",")
            + start
            + word
            + b',"decisive":'
            + (_TRUE if decisive else _FALSE)
            + condition
            for outcome, word in _OUTCOME_BYTES.items()
            for decisive in (True, False)
            for first in (True, False)
        }
        tail = b"," + orjson.dumps({key: template[key] for key in _TAIL_KEYS})[1:]
        rule.json_parts[:] = [variants, tail]
    return rule.json_parts[0], rule.json_parts[1]


class _ValuesJson(dict[tuple[str, ...], bytes]):
    """The patient's values as JSON objects, by the tuple of facts a rule looks at; each tuple is
    encoded once per answer (a dict with __missing__, so that lookups stay in C)."""

    def __init__(self, facts: dict[str, Any]):
        super().__init__()
        self._facts = facts

    def __missing__(self, names: tuple[str, ...]) -> bytes:
        facts = self._facts
        encoded = self[names] = orjson.dumps({name: facts[name] for name in names})
        return encoded


def caution_to_dict(caution: Caution) -> dict[str, Any]:
    return {
        "rule_id": caution.rule.rule_id,
        "type": caution.kind,
        "facts": list(caution.facts),
        "text": caution.text,
    }


# --- back from the contract form ------------------------------------------------------------------


def result_from_dict(data: Mapping[str, Any], profile: PatientProfile) -> EvaluationResult:
    """An EvaluationResult rebuilt from a stored contract-form answer and the profile it answered.

    A stored evaluation is shown exactly as it was made - the statuses, outcomes, deciding rules,
    missing facts, cautions and rule texts of the snapshot - with the same templates and summaries
    as a fresh one. The rebuilt result is for reading: its rules keep their conditions in words only
    and cannot be evaluated again.
    """
    ruleset = data["ruleset"]
    published_at = ruleset.get("published_at")
    info = RuleSetInfo(
        str(ruleset["version"]),
        datetime.fromisoformat(published_at.replace("Z", "+00:00")) if published_at else None,
        str(ruleset.get("checksum", "")),
    )
    facts = profile.__dict__
    verdicts = tuple(
        _verdict_from_dict(option, order, facts) for order, option in enumerate(data["options"], start=1)
    )
    return EvaluationResult(info, profile, verdicts)


def _verdict_from_dict(option: Mapping[str, Any], order: int, facts: Mapping[str, Any]) -> Verdict:
    modality = ModalitySpec(
        option["modality"], option["name"], option["category"], tuple(option["intent"]), order
    )
    rules = tuple(_rule_from_dict(reason, modality.key) for reason in option["reasons"])
    by_id = {rule.rule_id: rule for rule in rules}
    outcomes = tuple(_OUTCOME_VALUES[reason["outcome"]] for reason in option["reasons"])
    decisive = frozenset(i for i, reason in enumerate(option["reasons"]) if reason["decisive"])
    cautions = tuple(
        Caution(by_id[caution["rule_id"]], caution["type"], tuple(caution["facts"]))
        for caution in option["cautions"]
    )
    return Verdict(
        modality, option["status"], rules, outcomes, decisive, tuple(option["missing_facts"]), cautions, facts
    )


def _rule_from_dict(reason: Mapping[str, Any], modality: str) -> CompiledRule:
    spec = RuleSpec(
        rule_id=reason["rule_id"],
        modality=modality,
        kind=reason["kind"],
        title=reason["title"],
        condition=None,  # type: ignore[arg-type]  # a snapshot keeps the condition's words, not its tree
        reason=reason["text"],
        source=reason["source"],
        evidence=reason["evidence"],
        verification=reason["verification"],
        verification_note=reason["verification_note"],
    )
    template = {**reason, "outcome": None, "decisive": None, "values": None}
    return CompiledRule(spec, tuple(reason["values"]), reason["condition"], template)


_OUTCOME_VALUES = {word: outcome for outcome, word in OUTCOME_WORDS.items()}
