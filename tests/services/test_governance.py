"""Rule governance (docs/rule-governance.md, spec C.9): drafts, second-person review, golden runs,
impact reports and the six publication gates, through the services."""

from __future__ import annotations

import copy
import dataclasses
import io
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import KB_VERSION, KNOWLEDGE_BASE, make_user
from treatments import roles, selectors, services
from treatments.models import AuditEvent, Case, GoldenRun, ReadOnlyError, RuleSet
from treatments.rules.content import checksum_of
from treatments.rules.document import load_file
from treatments.selectors import governance as gov

pytestmark = pytest.mark.django_db


def rule(content: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for r in content["rules"] if r["rule_id"] == rule_id)


def draft_with(author: User, version: str, change: Any = None, note: str = "") -> RuleSet:
    """A clone of the published set under `version`, with `change(content)` applied."""
    draft = services.ruleset_draft_clone(actor=author, version=version, change_note=note)
    if change is not None:
        content = copy.deepcopy(draft.content)
        change(content)
        draft = services.ruleset_draft_set_content(draft=draft, content=content, actor=author)
    return draft


def raise_marrow(content: dict[str, Any]) -> None:
    """PRRT's platelet threshold from 75 to 100 (illustration only, not a proposal)."""
    rule(content, "prrt.marrow")["condition"] = {"fact": "platelets_10e9_l", "ge": 100}


def reword(content: dict[str, Any]) -> None:
    rule(content, "prrt.uptake")["reason"] = "Reworded, same meaning."


def make_case(user: User, reference: str, **profile: Any) -> Case:
    return Case.objects.create(
        hospital_reference=reference,
        referring_clinician="Dr Example",
        question="Options?",
        profile=profile,
        created_by=user,
        updated_by=user,
    )


GOLDEN_41 = "41_glucagonoma_private_low_platelets"
LOW_PLATELET_PRRT_CANDIDATE = {
    "primary_site": "small_intestine",
    "differentiation": "well",
    "who_grade": "G2",
    "ki67_percent": 8,
    "disease_extent": "metastatic",
    "disease_status": "progressive",
    "sstr_imaging": "positive",
    "krenning_score": 3,
    "prior_therapies": ["ssta"],
    "ecog": 1,
    "egfr_ml_min": 80,
    "platelets_10e9_l": 90,
    "neutrophils_10e9_l": 3,
    "bilirubin_umol_l": 10,
    "pregnant": False,
}


def ready(draft: RuleSet, reviewer: User, cso: User) -> None:
    """Collect the evidence every gate asks for."""
    services.ruleset_review(draft=draft, actor=reviewer, kind="approve", checksum=draft.checksum)
    services.ruleset_golden_run(rule_set=draft, actor=cso)
    report = services.ruleset_impact(draft=draft, actor=cso)
    services.ruleset_impact_acknowledge(report=report, actor=cso)


def failing(gates_failed: services.GatesFailed) -> dict[str, str]:
    return {gate.gate: gate.why for gate in gates_failed.gates if not gate.ok}


# --- lifecycle and roles --------------------------------------------------------------------------


def test_loading_the_file_makes_a_draft_with_the_checksum_the_loader_computes(
    no_knowledge_base: None,
) -> None:
    out = io.StringIO()
    call_command("load_knowledge_base", "--draft", stdout=out)

    draft = RuleSet.objects.get()
    assert draft.status == RuleSet.Status.DRAFT
    assert draft.checksum == load_file(KNOWLEDGE_BASE).checksum
    assert len(draft.tests) == len(list((KNOWLEDGE_BASE.parent / "golden").glob("*.yaml")))
    assert "Made draft rule set" in out.getvalue()


def test_without_debug_the_loader_refuses_to_publish_directly(published: RuleSet, tmp_path: Path) -> None:
    data = yaml.safe_load(KNOWLEDGE_BASE.read_text(encoding="utf-8"))
    data["version"] = "9.0.0"
    (tmp_path / "knowledge_base.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    shutil.copytree(KNOWLEDGE_BASE.parent / "golden", tmp_path / "golden")

    with pytest.raises(CommandError, match="only when DEBUG is on") as refused:
        call_command("load_knowledge_base", "--file", str(tmp_path / "knowledge_base.yaml"), "--no-approval")

    assert refused.value.returncode == 2
    assert RuleSet.objects.published().get().version == KB_VERSION


def test_loading_a_file_whose_golden_case_fails_does_not_publish_even_with_debug(
    published: RuleSet, tmp_path: Path, settings: Any
) -> None:
    settings.DEBUG = True
    data = yaml.safe_load(KNOWLEDGE_BASE.read_text(encoding="utf-8"))
    data["version"] = "9.0.0"
    (tmp_path / "knowledge_base.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    shutil.copytree(KNOWLEDGE_BASE.parent / "golden", tmp_path / "golden")
    case = tmp_path / "golden" / f"{GOLDEN_41}.yaml"
    case.write_text(case.read_text().replace("prrt_lu177: not_suitable", "prrt_lu177: candidate"))

    with pytest.raises(CommandError, match=f"{GOLDEN_41}: prrt_lu177 expected candidate, got not_suitable"):
        call_command("load_knowledge_base", "--file", str(tmp_path / "knowledge_base.yaml"), "--no-approval")

    assert RuleSet.objects.published().get().version == KB_VERSION


def test_a_published_set_never_becomes_a_draft_and_a_retired_one_never_published_again(
    published: RuleSet, author: User, reviewer: User, cso: User
) -> None:
    draft = draft_with(author, "1.2.2", reword)
    ready(draft, reviewer, cso)
    services.ruleset_publish_draft(draft=draft, actor=cso)
    retired = RuleSet.objects.get(pk=published.pk)

    retired.status = RuleSet.Status.PUBLISHED
    with pytest.raises(ReadOnlyError):
        retired.save()
    now = RuleSet.objects.get(pk=draft.pk)
    now.status = RuleSet.Status.DRAFT
    with pytest.raises(ReadOnlyError):
        now.save()


def test_an_author_may_not_approve_or_publish_their_own_draft(
    published: RuleSet, author: User, reviewer: User
) -> None:
    both = make_user("author_and_cso", roles.RULE_AUTHOR, roles.RULE_REVIEWER, roles.CLINICAL_SAFETY_OFFICER)
    draft = draft_with(both, "1.2.2", reword)

    with pytest.raises(services.NotAllowed, match="you are an author"):
        services.ruleset_review(draft=draft, actor=both, kind="approve", checksum=draft.checksum)
    services.ruleset_review(draft=draft, actor=reviewer, kind="approve", checksum=draft.checksum)
    with pytest.raises(services.NotAllowed, match="you are an author"):
        services.ruleset_publish_draft(draft=draft, actor=both)
    with pytest.raises(services.NotAllowed, match="clinical safety officer"):
        services.ruleset_publish_draft(draft=draft, actor=reviewer)


def test_a_later_uploader_becomes_an_author_too(published: RuleSet, author: User, reviewer: User) -> None:
    draft = draft_with(author, "1.2.2")
    draft = services.ruleset_draft_set_content(
        draft=draft, content={**draft.content, "notes": "edited"}, actor=reviewer
    )

    with pytest.raises(services.NotAllowed):
        services.ruleset_review(draft=draft, actor=reviewer, kind="approve", checksum=draft.checksum)
    assert set(draft.authors.all()) == {author, reviewer}


def test_revising_a_draft_voids_its_approvals_golden_runs_and_impact_reports(
    published: RuleSet, author: User, reviewer: User, cso: User
) -> None:
    draft = draft_with(author, "1.2.2", reword)
    ready(draft, reviewer, cso)
    assert gov.review_state(draft) == "approved"
    assert all(gate.ok for gate in services.ruleset_gates(draft, cso))

    def reword_again(content: dict[str, Any]) -> None:
        rule(content, "prrt.uptake")["reason"] = "Reworded twice."

    draft = draft_with(author, "1.2.3", reword_again)  # noqa: F841 - another draft does not matter
    revised = services.ruleset_draft_set_content(
        draft=RuleSet.objects.get(version="1.2.2"),
        content={**RuleSet.objects.get(version="1.2.2").content, "notes": "changed"},
        actor=author,
    )

    assert gov.review_state(revised) == "editing"
    assert gov.latest_golden_run(revised) is None and gov.latest_impact_report(revised) is None
    assert set(failing_gates(revised, cso)) == {"approval", "golden", "impact"}
    with pytest.raises(services.StaleChecksum):
        services.ruleset_review(draft=revised, actor=reviewer, kind="approve", checksum=published.checksum)


def failing_gates(draft: RuleSet, actor: User) -> dict[str, str]:
    return {gate.gate: gate.why for gate in services.ruleset_gates(draft, actor) if not gate.ok}


# --- gates ----------------------------------------------------------------------------------------


def test_publishing_without_an_approval_names_the_approval_gate(
    published: RuleSet, author: User, cso: User
) -> None:
    draft = draft_with(author, "1.2.2", reword)
    services.ruleset_golden_run(rule_set=draft, actor=cso)
    services.ruleset_impact_acknowledge(report=services.ruleset_impact(draft=draft, actor=cso), actor=cso)

    with pytest.raises(services.GatesFailed) as refused:
        services.ruleset_publish_draft(draft=draft, actor=cso)

    assert set(failing(refused.value)) == {"approval"}
    assert [gate.gate for gate in refused.value.gates] == list(services.governance.GATE_NAMES)


def test_a_failing_golden_case_fails_the_run_and_publication_names_case_and_modality(
    published: RuleSet, author: User, reviewer: User, cso: User
) -> None:
    draft = draft_with(author, "2.0.0", raise_marrow)
    content = copy.deepcopy(draft.content)
    case = next(c for c in content["tests"] if c["id"] == "01_si_g2_progressive_nhs")
    case["profile"]["platelets_10e9_l"] = 90
    draft = services.ruleset_draft_set_content(draft=draft, content=content, actor=author)

    run = services.ruleset_golden_run(rule_set=draft, actor=author)
    services.ruleset_review(draft=draft, actor=reviewer, kind="approve", checksum=draft.checksum)
    with pytest.raises(services.GatesFailed) as refused:
        services.ruleset_publish_draft(draft=draft, actor=cso)

    assert run.passed is False
    (failed,) = run.failed_cases
    assert failed["id"] == "01_si_g2_progressive_nhs"
    assert {
        "modality": "prrt_lu177",
        "what": "status",
        "expected": "candidate",
        "actual": "not_suitable",
    } in failed["mismatches"]
    assert (
        "01_si_g2_progressive_nhs: prrt_lu177 expected candidate, got not_suitable"
        in failing(refused.value)["golden"]
    )


def test_dropping_a_baseline_golden_case_needs_removed_golden_in_the_change_note(
    published: RuleSet, author: User, reviewer: User, cso: User
) -> None:
    def drop(content: dict[str, Any]) -> None:
        content["tests"] = [c for c in content["tests"] if c["id"] != GOLDEN_41]

    draft = draft_with(author, "1.2.2", drop)
    ready(draft, reviewer, cso)
    assert GOLDEN_41 in failing_gates(draft, cso)["golden"]

    draft = services.ruleset_draft_revise(
        draft=draft,
        knowledge_base=_kb_of(draft),
        actor=author,
        change_note=f"Case 41 duplicated case 57.\nremoved_golden: {GOLDEN_41}",
    )
    assert "golden" not in failing_gates(draft, cso)


def _kb_of(draft: RuleSet) -> Any:
    """The draft's own content as a knowledge base (same checksum: a revision of the note only)."""

    class Same:
        version, title, notes, content, checksum = (
            draft.version,
            draft.title,
            draft.notes,
            draft.content,
            draft.checksum,
        )

    return Same()


def test_an_impact_report_against_an_older_baseline_is_stale(
    published: RuleSet, author: User, reviewer: User, cso: User
) -> None:
    first = draft_with(author, "1.2.2", reword)
    second = draft_with(author, "1.2.3", reword)
    ready(second, reviewer, cso)
    ready(first, reviewer, cso)
    services.ruleset_publish_draft(draft=first, actor=cso)

    with pytest.raises(services.GatesFailed) as refused:
        services.ruleset_publish_draft(draft=second, actor=cso)

    assert "impact report is stale" in failing(refused.value)["impact"]


def test_a_change_from_candidate_to_not_suitable_needs_a_major_version(
    published: RuleSet, author: User, reviewer: User, cso: User, clinician: User
) -> None:
    make_case(clinician, "T-1", **LOW_PLATELET_PRRT_CANDIDATE)
    draft = draft_with(author, "1.3.0", raise_marrow)
    ready(draft, reviewer, cso)

    with pytest.raises(services.GatesFailed) as refused:
        services.ruleset_publish_draft(draft=draft, actor=cso)

    assert "version must be at least major" in failing(refused.value)["version"]


def test_a_text_only_change_is_published_as_a_patch(
    published: RuleSet, author: User, reviewer: User, cso: User
) -> None:
    draft = draft_with(author, "1.2.2", reword)
    assert draft.required_bump == "patch"
    ready(draft, reviewer, cso)

    assert services.ruleset_publish_draft(draft=draft, actor=cso).status == RuleSet.Status.PUBLISHED


def test_all_gates_green_publishes_retires_the_old_version_and_audits_the_evidence(
    published: RuleSet, author: User, reviewer: User, cso: User
) -> None:
    draft = draft_with(author, "1.2.2", reword)
    ready(draft, reviewer, cso)
    old_cached = selectors.published_ruleset().info.version

    services.ruleset_publish_draft(draft=draft, actor=cso, checksum=draft.checksum)

    assert dict(RuleSet.objects.filter(pk__in=[published.pk, draft.pk]).values_list("version", "status")) == {
        KB_VERSION: "retired",
        "1.2.2": "published",
    }
    event = AuditEvent.objects.get(action="ruleset.publish", object_id=str(draft.pk))
    run = GoldenRun.objects.get(rule_set=draft)
    report = gov.latest_impact_report(draft)
    assert report is not None
    assert event.payload["golden_run"] == run.pk and event.payload["impact_report"] == report.pk
    assert event.payload["approval"] == draft.reviews.get(kind="approve").pk
    assert event.actor == cso
    selectors.forget_published_ruleset()  # the on_commit hook; the test's transaction never commits
    assert (old_cached, selectors.published_ruleset().info.version) == (KB_VERSION, "1.2.2")


def test_a_draft_clone_takes_the_next_patch_and_a_withdrawn_one_frees_it(
    published: RuleSet, author: User, reviewer: User
) -> None:
    draft = services.ruleset_draft_clone(actor=author)
    assert draft.version == "1.2.2" and draft.based_on == published
    with pytest.raises(services.NotAllowed):
        services.ruleset_withdraw(draft=draft, actor=reviewer)
    services.ruleset_withdraw(draft=draft, actor=author)
    assert AuditEvent.objects.filter(action="ruleset.withdraw").count() == 1
    assert services.ruleset_draft_clone(actor=author).version == "1.2.2"


# --- rollback -------------------------------------------------------------------------------------

KB_1_1_1 = Path(__file__).parents[1] / "data" / "knowledge_base_1.1.1.yaml"


def test_rolling_back_1_2_1_to_1_1_1_publishes_1_2_2_with_the_old_content(
    no_knowledge_base: None, author: User, reviewer: User, cso: User, clinician: User
) -> None:
    old = services.ruleset_publish(knowledge_base=load_file(KB_1_1_1))
    faulty = services.ruleset_publish(knowledge_base=load_file(KNOWLEDGE_BASE))
    assert old is not None and faulty is not None and faulty.version == "1.2.1"
    selectors.forget_published_ruleset()
    evaluation = services.case_evaluate(
        actor=clinician, case=make_case(clinician, "T-9", **LOW_PLATELET_PRRT_CANDIDATE)
    )

    draft = services.ruleset_rollback(to_version="1.1.1", actor=cso, reason="a faulty threshold")
    with pytest.raises(services.GatesFailed) as refused:
        services.ruleset_publish_draft(draft=draft, actor=cso)
    assert set(failing(refused.value)) == {"approval"}
    services.ruleset_review(
        draft=draft, actor=cso, kind="approve", checksum=draft.checksum
    )  # the actor's own
    assert "approval" in failing_gates(draft, cso)  # ... does not count
    services.ruleset_review(draft=draft, actor=reviewer, kind="approve", checksum=draft.checksum)
    published = services.ruleset_publish_draft(draft=draft, actor=cso)

    assert published.version == "1.2.2" and published.restores == old
    same = {key: value for key, value in published.content.items() if key not in ("version", "notes")}
    assert same == {key: value for key, value in old.content.items() if key not in ("version", "notes")}
    assert RuleSet.objects.get(pk=old.pk).status == RuleSet.Status.RETIRED
    assert RuleSet.objects.get(pk=faulty.pk).status == RuleSet.Status.RETIRED
    assert AuditEvent.objects.filter(action="ruleset.rollback", object_id=str(published.pk)).count() == 1
    assert list(faulty.evaluations.values_list("pk", flat=True)) == [evaluation.pk]  # the incident list


def test_a_version_published_before_golden_cases_travelled_is_the_same_content(
    no_knowledge_base: None, settings: Any
) -> None:
    """A database that published this file before its golden cases joined the content (checksum
    without `tests`) is not asked for a new version: the loader finds nothing to do."""
    settings.DEBUG = True
    knowledge_base = load_file(KNOWLEDGE_BASE)
    content = {key: value for key, value in knowledge_base.content.items() if key != "tests"}
    old = dataclasses.replace(knowledge_base, content=content, checksum=checksum_of(content))
    services.ruleset_publish(knowledge_base=old)
    out = io.StringIO()

    call_command("load_knowledge_base", "--no-approval", stdout=out)

    assert "already published with this content; nothing to do" in out.getvalue()
    assert RuleSet.objects.count() == 1
