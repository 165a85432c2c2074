"""The contract form of an evaluation (contract.md section 4): one shape for the API, the CLI and
stored evaluations, so that a past MDT decision can be shown exactly as it was made.

Schema versions of the stored form: 1 (contract 1.1, no "schema_version" key) is
`{"ruleset", "options"}`; 2 (contract 1.2) adds "schema_version", the top-level "warnings" and each
option's "guideline_line". A result read from a version-1 snapshot is written back as version 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from itertools import chain
from typing import Any

import orjson

from .consistency import FactWarning
from .engine import (
    OUTCOME_WORDS,
    Caution,
    CompiledRule,
    EvaluationResult,
    GuidelineLine,
    ModalitySpec,
    Reason,
    RuleSetInfo,
    RuleSpec,
    Verdict,
)
from .profile import V1_BOOLEAN_VALUES, PatientProfile
from .vocabulary import MODALITY_KEYS_V1

_OUTCOMES = OUTCOME_WORDS


def result_to_dict(result: EvaluationResult) -> dict[str, Any]:
    """`{"schema_version": 2, "ruleset": {...}, "warnings": [...], "options": [...]}`: the answer to
    POST /api/v1/eligibility/ in contract 1.2 (a version-1 snapshot keeps its version-1 shape)."""
    if result.schema_version == 1:
        return {"ruleset": ruleset_to_dict(result.ruleset), "options": options_to_list(result)}
    return {
        "schema_version": result.schema_version,
        "ruleset": ruleset_to_dict(result.ruleset),
        "warnings": warnings_to_list(result),
        "options": options_to_list(result),
    }


def options_to_list(result: EvaluationResult) -> list[dict[str, Any]]:
    with_line = result.schema_version > 1
    return [verdict_to_dict(verdict, with_line=with_line) for verdict in result.verdicts]


def warnings_to_list(result: EvaluationResult) -> list[dict[str, Any]]:
    return [{"facts": list(warning.facts), "msg": warning.msg} for warning in result.warnings]


def guideline_line_to_dict(line: GuidelineLine | None) -> dict[str, str] | None:
    return None if line is None else {"label": line.label, "source": line.source}


def ruleset_to_dict(info: RuleSetInfo) -> dict[str, Any]:
    published_at = info.published_at.isoformat().replace("+00:00", "Z") if info.published_at else None
    return {"version": info.version, "published_at": published_at}


def verdict_to_dict(verdict: Verdict, *, with_line: bool = True) -> dict[str, Any]:
    modality = verdict.modality
    facts, decisive = verdict.facts, verdict.decisive
    option: dict[str, Any] = {
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
    if with_line:
        option["guideline_line"] = guideline_line_to_dict(verdict.guideline_line)
    return option


# --- the summary view: what a batch client needs, at most 5 kB per profile ------------------------

# Each option is one row of these columns (a table, not objects: named keys on 20 options of a
# profile with no facts, each needing data, came to 5.9 kB, the rows to 4.6 kB).
SUMMARY_COLUMNS = ("modality", "status", "deciding_rules", "missing_facts", "cautions")


def summary_to_dict(result: EvaluationResult) -> dict[str, Any]:
    """`?view=summary` of an eligibility answer: per option its status, the ids of the rules that
    decided it, the missing facts and the ids of the rules of its cautions - no rule texts (they are
    the same for every patient: GET /api/v2/modalities/ has them)."""
    return {
        "schema_version": result.schema_version,
        "view": "summary",
        "ruleset": ruleset_to_dict(result.ruleset),
        "warnings": warnings_to_list(result),
        "columns": list(SUMMARY_COLUMNS),
        "options": options_summary(result),
    }


def options_summary(result: EvaluationResult) -> list[list[Any]]:
    return [verdict_summary(verdict) for verdict in result.verdicts]


def verdict_summary(verdict: Verdict) -> list[Any]:
    """One option as a row of SUMMARY_COLUMNS."""
    return [
        verdict.modality.key,
        verdict.status,
        [rule.rule_id for position, rule in enumerate(verdict.rules) if position in verdict.decisive],
        list(verdict.missing_facts),
        [caution.rule.rule_id for caution in verdict.cautions],
    ]


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
    ruleset = orjson.dumps(ruleset_to_dict(result.ruleset))
    if result.schema_version == 1:
        parts = [b'{"ruleset":', ruleset, b',"options":']
    else:
        version = str(result.schema_version).encode()
        warnings = orjson.dumps(warnings_to_list(result)) if result.warnings else b"[]"
        parts = [b'{"schema_version":', version, b',"ruleset":', ruleset, b',"warnings":', warnings]
        parts.append(b',"options":')
    options_json(result, parts)
    parts.append(b"}")
    return b"".join(parts)


def options_json(result: EvaluationResult, parts: list[bytes]) -> None:
    """Append the JSON array of the result's options to `parts`."""
    # Every verdict of a result shares one mapping of facts: the profile's, or for a stored result
    # the values exactly as the snapshot holds them.
    values = _ValuesJson(result.verdicts[0].facts if result.verdicts else {})
    with_line = result.schema_version > 1
    parts.append(b"[")
    for number, verdict in enumerate(result.verdicts):
        if number:
            parts.append(b",")
        _verdict_json(verdict, values, parts, with_line)
    parts.append(b"]")


def _line_json(line: GuidelineLine | None) -> bytes:
    if line is None:
        return b"null"
    if not line.json_parts:
        line.json_parts.append(orjson.dumps(guideline_line_to_dict(line)))
    return line.json_parts[0]  # type: ignore[no-any-return]


def _verdict_json(verdict: Verdict, values: _ValuesJson, parts: list[bytes], with_line: bool) -> None:
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
    )
    if with_line:
        parts += (b',"guideline_line":', _line_json(verdict.guideline_line))
    parts.append(b"}")


# (option head, each reason's part up to its values, the facts of each reason, each reason's tail)
_Layout = tuple[bytes, tuple[bytes, ...], tuple[tuple[str, ...], ...], tuple[bytes, ...]]
# Per modality and process, for the rule set's life. A layout holds only its own reason heads: the
# option head (one per status), the facts and the tails are shared by all layouts of the modality.
_LAYOUTS_PER_MODALITY = 4_096
_TAIL_KEYS = ("text", "source", "evidence", "verification", "verification_note")


def _layouts(modality: ModalitySpec) -> dict[tuple[Any, ...], _Layout]:
    if not modality.json_parts:
        modality.json_parts.extend(({}, {}))  # layouts by outcomes; shared parts by status
    return modality.json_parts[0]  # type: ignore[no-any-return]


def _layout(verdict: Verdict) -> _Layout:
    heads = []
    for position, (rule, outcome) in enumerate(zip(verdict.rules, verdict.outcomes, strict=True)):
        variants, _ = _rule_parts(rule)
        heads.append(variants[outcome, position in verdict.decisive, position == 0])
    head, fact_names, tails = _shared_parts(verdict)
    return head, tuple(heads), fact_names, tails


def _shared_parts(verdict: Verdict) -> tuple[bytes, tuple[tuple[str, ...], ...], tuple[bytes, ...]]:
    """The parts of a layout that depend on the modality and the status only, made once."""
    shared: dict[str, Any] = verdict.modality.json_parts[1]
    if verdict.status not in shared:
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
        tails = tuple(_rule_parts(rule)[1] for rule in verdict.rules)
        facts = tuple(rule.facts for rule in verdict.rules)
        shared[verdict.status] = (head[:-1] + b',"reasons":[', facts, tails)
    return shared[verdict.status]  # type: ignore[no-any-return]


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

    def __init__(self, facts: Mapping[str, Any]):
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


# --- contract 1.1, as /api/v1/ published it ------------------------------------------------------


def as_contract_1_1(result: EvaluationResult) -> EvaluationResult:
    """The result in the shape /api/v1/ published: the 15 v1 modalities, no schema_version,
    warnings or guideline lines, and facts that were booleans in 1.1 as booleans in the reasons'
    values. Missing facts and cautions may still name 1.2 facts: hiding them would turn unknown
    into silence, so the API edge must decide how v1 shows them."""
    facts = _v1_values(result.verdicts[0].facts) if result.verdicts else {}
    verdicts = tuple(
        _with_facts(verdict, facts) for verdict in result.verdicts if verdict.modality.key in MODALITY_KEYS_V1
    )
    return replace(result, verdicts=verdicts, warnings=(), schema_version=1)


def _v1_values(facts: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(facts)
    for name, meaning in V1_BOOLEAN_VALUES.items():
        if isinstance(values.get(name), str):  # a stored 1.1 boolean is already what v1 shows
            values[name] = values[name] != meaning[False]
    return values


def _with_facts(verdict: Verdict, facts: Mapping[str, Any]) -> Verdict:
    return Verdict(
        verdict.modality,
        verdict.status,
        verdict.rules,
        verdict.outcomes,
        verdict.decisive,
        verdict.missing_facts,
        verdict.cautions,
        facts,
        verdict.rank,
        verdict.guideline_line,
    )


# --- back from the contract form ------------------------------------------------------------------


def result_from_dict(
    data: Mapping[str, Any], profile: PatientProfile | Mapping[str, Any]
) -> EvaluationResult:
    """An EvaluationResult rebuilt from a stored contract-form answer and the profile it answered.

    A stored evaluation is shown exactly as it was made - the statuses, outcomes, deciding rules,
    missing facts, cautions, warnings, guideline lines, rule texts and the patient's values of the
    snapshot - with the same templates and summaries as a fresh one. The rebuilt result is for
    reading: its rules keep their conditions in words only and cannot be evaluated again.

    `profile` may be the stored facts as data: they are then read without the consistency checks
    of contract 1.2, which an old profile need not pass (PatientProfile.from_stored).
    """
    if not isinstance(profile, PatientProfile):
        profile = PatientProfile.from_stored(profile)
    ruleset = data["ruleset"]
    published_at = ruleset.get("published_at")
    info = RuleSetInfo(
        str(ruleset["version"]),
        datetime.fromisoformat(published_at.replace("Z", "+00:00")) if published_at else None,
        str(ruleset.get("checksum", "")),
    )
    facts = _stored_values(data["options"], profile)
    verdicts = tuple(
        _verdict_from_dict(option, order, facts) for order, option in enumerate(data["options"], start=1)
    )
    warnings = tuple(FactWarning("", tuple(item["facts"]), item["msg"]) for item in data.get("warnings", ()))
    return EvaluationResult(info, profile, verdicts, warnings, int(data.get("schema_version", 1)))


def _stored_values(options: Sequence[Mapping[str, Any]], profile: PatientProfile) -> dict[str, Any]:
    """The profile's facts, overlaid with the values the snapshot's reasons hold.

    They differ where a fact has changed meaning since (a v1 portal-vein thrombosis `true` is read
    as "branch" today): the snapshot shows what the rules saw then.
    """
    facts = dict(profile.__dict__)
    for option in options:
        for reason in option["reasons"]:
            facts.update(reason["values"])
    return facts


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
    line = option.get("guideline_line")
    guideline_line = None if line is None else _line_from_dict(line, modality.key)
    return Verdict(
        modality,
        option["status"],
        rules,
        outcomes,
        decisive,
        tuple(option["missing_facts"]),
        cautions,
        facts,
        guideline_line=guideline_line,
    )


def _line_from_dict(line: Mapping[str, str], modality: str) -> GuidelineLine:
    # Like a rule of a snapshot, the line keeps its words, not its condition.
    return GuidelineLine(modality, None, line["label"], line["source"])  # type: ignore[arg-type]


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
