"""python manage.py evaluate PROFILE [--json]

PROFILE is a JSON file holding one profile, a JSON-lines file with one profile per line, or `-` for
standard input. A profile is the object of facts (contract 1.2), or the API's body `{"profile": {...}}`.

A profile that is not valid, or whose facts contradict each other, is reported on standard error as
`line N: fact: message`, once for every fact involved; the other profiles are still answered and the
exit code is 2. Values that are usually a slip of unit are answered with their warnings: a
"Warnings:" block under the table, or the `warnings` key of the JSON answer.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from pydantic import ValidationError

from treatments import selectors
from treatments.rules.engine import EvaluationResult, Verdict
from treatments.rules.profile import PatientProfile, error_list
from treatments.rules.serialize import result_to_dict


class Command(BaseCommand):
    help = "Evaluate patient profiles against the published rule set."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("profile", help="JSON file, JSON-lines file, or - for standard input")
        parser.add_argument(
            "--json",
            action="store_true",
            help="one line per valid profile: the engine's answer of contract 1.2 (options with their "
            "guideline_line, and the warnings)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        text = self._read(options["profile"])
        try:
            ruleset = selectors.published_ruleset()
        except selectors.NoPublishedRuleSet as exc:
            raise CommandError(str(exc)) from exc
        invalid = 0
        for line, data in _profiles(text):
            profile = self._profile(line, data)
            if profile is None:
                invalid += 1
                continue
            result = ruleset.evaluate(profile)
            if options["json"]:
                self.stdout.write(json.dumps(result_to_dict(result), ensure_ascii=False))
            else:
                self.stdout.write(render_table(result, line))
        if invalid:
            raise CommandError(f"{invalid} invalid profile(s); the others were answered.", returncode=2)

    def _read(self, name: str) -> str:
        try:
            if name == "-":
                return sys.stdin.read()
            with open(name, encoding="utf-8") as handle:
                return handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {name}: {exc}", returncode=2) from exc

    def _profile(self, line: int, data: Any) -> PatientProfile | None:
        if isinstance(data, _BadJson):
            self.stderr.write(f"line {line}: not valid JSON: {data.message}")
            return None
        prefix: tuple[str, ...] = ()
        if isinstance(data, dict) and set(data) == {"profile"}:
            data, prefix = data["profile"], ("profile",)
        if not isinstance(data, dict):
            self.stderr.write(f"line {line}: a profile must be a JSON object of facts")
            return None
        try:
            return PatientProfile.model_validate(data)
        except ValidationError as exc:
            for error in error_list(exc, prefix):
                path = ".".join(str(part) for part in error["loc"])
                self.stderr.write(f"line {line}: {path}: {error['msg']}")
            return None


class _BadJson:
    def __init__(self, message: str):
        self.message = message


def _profiles(text: str) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) for a whole-file JSON document or for each JSON line."""
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        yield 1, _BadJson("the input is empty")
        return
    try:
        yield lines[0][0], _parse(text)
        return
    except ValueError as whole_error:
        parsed = [(number, _parse_or_error(line)) for number, line in lines]
        # JSON lines when any line is a profile on its own, so that a bad first line does not
        # spoil the others; otherwise report the document's own error where it happened.
        if not any(isinstance(value, dict) for _, value in parsed):
            yield getattr(whole_error, "lineno", lines[0][0]), _BadJson(_message(whole_error))
            return
    yield from parsed


def _parse(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _parse_or_error(line: str) -> Any:
    try:
        return _parse(line)
    except ValueError as exc:
        return _BadJson(_message(exc))


def _message(exc: ValueError) -> str:
    return getattr(exc, "msg", None) or str(exc)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def render_table(result: EvaluationResult, line: int) -> str:
    """A readable table: modality, status, deciding reason, missing facts."""
    rows = [
        (v.modality.key, v.status, _deciding(v), ", ".join(v.missing_facts) or "-") for v in result.verdicts
    ]
    headers = ("Modality", "Status", "Deciding reason", "Missing facts")
    widths = [max(len(headers[i]), *(len(row[i]) for row in rows)) for i in (0, 1)]
    reason_width = 60
    out = [f"Profile on line {line} (rule set {result.ruleset.version})"]
    out.append(
        f"{headers[0]:<{widths[0]}}  {headers[1]:<{widths[1]}}  {headers[2]:<{reason_width}}  {headers[3]}"
    )
    out.append(f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * reason_width}  {'-' * len(headers[3])}")
    for key, status, reason, missing in rows:
        wrapped = textwrap.wrap(reason, reason_width) or [""]
        out.append(f"{key:<{widths[0]}}  {status:<{widths[1]}}  {wrapped[0]:<{reason_width}}  {missing}")
        for more in wrapped[1:]:
            out.append(f"{'':<{widths[0]}}  {'':<{widths[1]}}  {more}")
    out += render_warnings(result)
    return "\n".join(out) + "\n"


def render_warnings(result: EvaluationResult) -> list[str]:
    """The "Warnings:" block: each likely unit slip with the facts it names (none: no block)."""
    if not result.warnings:
        return []
    lines = ["", "Warnings:"]
    for warning in result.warnings:
        facts = ", ".join(warning.facts)
        wrapped = textwrap.wrap(
            f"{facts}: {warning.msg}", 100, initial_indent="  - ", subsequent_indent="    "
        )
        lines += wrapped
    return lines


def _deciding(verdict: Verdict) -> str:
    reasons = verdict.deciding_reasons
    if not reasons:
        return ""
    words = {"met": "met", "not_met": "not met", "unknown": "unknown"}
    return "; ".join(
        f"{r.rule.kind.replace('_', ' ')} {words[r.outcome_word]}: {r.rule.spec.title} ({r.rule.rule_id})"
        for r in reasons
    )
