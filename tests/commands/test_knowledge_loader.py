"""`python manage.py load_knowledge_base`: the real file publishes once; every kind of mistake is
reported with the file, the modality, the rule id and the field, exits with code 2 and loads nothing;
a changed file needs a new version."""

from __future__ import annotations

import copy
import functools
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import KB_VERSION, KNOWLEDGE_BASE
from treatments.models import AuditEvent, RuleSet

pytestmark = pytest.mark.django_db

Data = dict[str, Any]


@functools.cache
def _real_data() -> Data:
    return yaml.load(KNOWLEDGE_BASE.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def real_data() -> Data:
    """The real knowledge base as data, to break one thing in."""
    return copy.deepcopy(_real_data())


def modality(data: Data, key: str) -> Data:
    return next(item for item in data["modalities"] if item["key"] == key)


def rule(data: Data, rule_id: str) -> Data:
    return next(item for entry in data["modalities"] for item in entry["rules"] if item["id"] == rule_id)


def write(tmp_path: Path, data: Data | str) -> Path:
    path = tmp_path / "knowledge_base.yaml"
    path.write_text(
        data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False), encoding="utf-8"
    )
    return path


@pytest.fixture(autouse=True)
def _debug(settings: Any) -> None:
    # Direct publication (--no-approval) is for development and demo seeding: DEBUG on.
    settings.DEBUG = True


def load(*args: str) -> tuple[str, str]:
    """Run the command publishing directly (DEBUG on); (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    if "--check" not in args and "--draft" not in args:
        args = (*args, "--no-approval")
    call_command("load_knowledge_base", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def load_refused(path: Path) -> list[str]:
    """Run the command on a bad file: it must exit with code 2; the problems it printed."""
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was loaded") as caught:
        call_command(
            "load_knowledge_base", "--file", str(path), "--no-approval", stdout=io.StringIO(), stderr=err
        )
    assert caught.value.returncode == 2
    return err.getvalue().splitlines()


# --- the real file --------------------------------------------------------------------------------


def test_loading_the_real_knowledge_base_publishes_it(knowledge_base: Any, no_knowledge_base: None) -> None:
    out, _ = load()
    assert (
        f"Published rule set {knowledge_base.version} without review ({len(knowledge_base.modalities)} "
        f"modalities, {len(knowledge_base.rules)} rules, {len(knowledge_base.content['tests'])} golden cases)"
        in out
    )
    rule_set = RuleSet.objects.get()
    assert (rule_set.version, rule_set.status) == (knowledge_base.version, RuleSet.Status.PUBLISHED)
    assert rule_set.rules.count() == len(knowledge_base.rules)


def test_loading_the_same_file_again_publishes_nothing_and_says_so() -> None:
    load()
    out, _ = load()
    assert "already published with this content; nothing to do" in out
    assert RuleSet.objects.count() == 1
    assert AuditEvent.objects.count() == 1


def test_check_validates_the_file_without_publishing(knowledge_base: Any, no_knowledge_base: None) -> None:
    out, _ = load("--check")
    assert f"Knowledge base {knowledge_base.version} is valid" in out
    assert RuleSet.objects.count() == 0


def test_check_reports_a_bad_file_like_a_load(tmp_path: Path) -> None:
    data = real_data()
    rule(data, "prrt.uptake")["when"] = {"fact": "krenning", "ge": 3}
    err = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("load_knowledge_base", "--check", "--file", str(write(tmp_path, data)), stderr=err)
    assert caught.value.returncode == 2
    assert "rule prrt.uptake, field when: 'krenning' is not a fact of the contract" in err.getvalue()


# --- each kind of mistake -------------------------------------------------------------------------


def _not_yaml(data: Data) -> str:
    return "version: '1.2.0'\nmodalities:\n  - key: ssta\n    name: [unclosed\n"


def _not_a_mapping(data: Data) -> str:
    return "- ssta\n- everolimus\n"


def _missing_modality(data: Data) -> None:
    data["modalities"].remove(modality(data, "interferon"))


def _duplicate_modality(data: Data) -> None:
    data["modalities"].append({**copy.deepcopy(modality(data, "ssta")), "display_order": 99, "rules": []})


def _unknown_fact(data: Data) -> None:
    rule(data, "prrt.uptake")["when"] = {"fact": "krenning", "ge": 3}


def _bad_enum_value(data: Data) -> None:
    rule(data, "evero.well_diff")["when"] = {"fact": "differentiation", "eq": "moderate"}


def _wrong_operator(data: Data) -> None:
    rule(data, "suni.pnet_progressive")["when"] = {"all": [{"fact": "primary_site", "ge": "pancreas"}]}


def _unknown_set(data: Data) -> None:
    rule(data, "stz.pnet_progressive")["when"] = {"fact": "primary_site", "in": "PANCREATIC"}


def _duplicate_rule_id(data: Data) -> None:
    modality(data, "sunitinib")["rules"].append({**rule(data, "suni.g3"), "title": "Copy"})


def _no_indication(data: Data) -> None:
    entry = modality(data, "folfox_folfiri")
    entry["rules"] = [item for item in entry["rules"] if item["kind"] != "indication"]


def _missing_reason(data: Data) -> None:
    del rule(data, "olt.burden")["reason"]


def _bad_kind(data: Data) -> None:
    rule(data, "abl.extrahepatic")["kind"] = "warning"


def _note_on_an_indication(data: Data) -> None:
    rule(data, "ssta.antiproliferative")["if_unknown"] = "note"


def _duplicate_display_order(data: Data) -> None:
    modality(data, "interferon")["display_order"] = modality(data, "ssta")["display_order"]


def _common_rule_unknown_fact(data: Data) -> None:
    data["common_rules"][0]["when"] = {"fact": "pregnancy", "eq": True}


# (how to break the file, the problem it must report: modality, rule id, field, message)
MISTAKES: list[tuple[Callable[[Data], Any], str, str, str, str]] = [
    (_not_yaml, "", "", "", "not valid YAML (line 5, column 1)"),
    (_not_a_mapping, "", "", "", "the file must hold a mapping"),
    (_missing_modality, "interferon", "", "", "modality is missing"),
    (_duplicate_modality, "ssta", "", "", "modality appears more than once"),
    (_unknown_fact, "prrt_lu177", "prrt.uptake", "when", "'krenning' is not a fact of the contract"),
    (
        _bad_enum_value,
        "everolimus",
        "evero.well_diff",
        "when",
        "'moderate' is not a value of 'differentiation'",
    ),
    (_wrong_operator, "sunitinib", "suni.pnet_progressive", "when.all[0]", "operator 'ge' does not apply"),
    (_unknown_set, "streptozocin_5fu", "stz.pnet_progressive", "when", "unknown set 'PANCREATIC'"),
    (_duplicate_rule_id, "sunitinib", "suni.g3", "id", "duplicate rule id in this modality"),
    (_no_indication, "folfox_folfiri", "", "rules", "a modality needs at least one indication rule"),
    (_missing_reason, "liver_transplant", "olt.burden", "reason", "Field required"),
    (
        _bad_kind,
        "thermal_ablation",
        "abl.extrahepatic",
        "kind",
        "Input should be 'indication', 'requirement'",
    ),
    (_note_on_an_indication, "ssta", "ssta.antiproliferative", "if_unknown", "only for requirements"),
    (_duplicate_display_order, "interferon", "", "display_order", "display_order must be unique"),
    (_common_rule_unknown_fact, "everolimus", "common.pregnancy", "when", "'pregnancy' is not a fact"),
]


@pytest.mark.parametrize(
    ("mistake", "modality_key", "rule_id", "field", "message"),
    MISTAKES,
    ids=[mistake.__name__.strip("_") for mistake, *_ in MISTAKES],
)
def test_a_mistake_is_reported_where_it_is_and_nothing_is_loaded(
    published: RuleSet,
    tmp_path: Path,
    mistake: Callable[[Data], Any],
    modality_key: str,
    rule_id: str,
    field: str,
    message: str,
) -> None:
    data = real_data()
    text = mistake(data)
    path = write(tmp_path, text if isinstance(text, str) else data)
    where = [str(path)]
    where += [f"modality {modality_key}"] if modality_key else []
    where += [f"rule {rule_id}"] if rule_id else []
    where += [f"field {field}"] if field else []
    problems = load_refused(path)
    assert any(line.startswith(", ".join(where) + ": ") and message in line for line in problems), problems
    assert list(RuleSet.objects.values_list("version", "status")) == [(published.version, "published")]


@pytest.mark.parametrize(
    "mistakes",
    [(_unknown_fact, _wrong_operator, _missing_modality), (_bad_kind, _missing_reason)],
    ids=["rules", "document shape"],
)
def test_every_problem_of_a_kind_is_reported_at_once(
    tmp_path: Path, mistakes: tuple[Callable[[Data], Any], ...]
) -> None:
    # The shape of the document is checked first; its conditions and modalities once it has one.
    data = real_data()
    for mistake in mistakes:
        mistake(data)
    assert len(load_refused(write(tmp_path, data))) == len(mistakes)


def test_a_file_that_cannot_be_read_is_reported(tmp_path: Path) -> None:
    (problem,) = load_refused(tmp_path / "missing.yaml")
    assert problem.startswith(f"{tmp_path / 'missing.yaml'}: cannot read the file")


# --- versions -------------------------------------------------------------------------------------


def test_a_changed_file_under_the_published_version_must_bump_the_version(
    published: RuleSet, tmp_path: Path
) -> None:
    data = real_data()
    rule(data, "prrt.uptake")["reason"] = "Reworded without a new version."
    with pytest.raises(CommandError, match="bump `version`") as caught:
        load("--file", str(write(tmp_path, data)))
    assert caught.value.returncode == 2
    assert RuleSet.objects.count() == 1


def test_a_changed_file_with_a_new_version_is_published_and_the_old_one_retired(
    published: RuleSet, tmp_path: Path
) -> None:
    data = real_data()
    data["version"] = "9.8.7"
    rule(data, "prrt.uptake")["reason"] = "Reworded."
    out, _ = load("--file", str(write(tmp_path, data)))
    assert "Published rule set 9.8.7" in out
    assert dict(RuleSet.objects.values_list("version", "status")) == {
        KB_VERSION: "retired",
        "9.8.7": "published",
    }
    new = RuleSet.objects.published().get()
    assert new.rules.get(rule_id="prrt.uptake").reason == "Reworded."
