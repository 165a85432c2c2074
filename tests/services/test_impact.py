"""Impact analysis (spec C.6, C.9): what publishing a draft would change for the stored cases."""

from __future__ import annotations

import copy
import io
from collections import Counter
from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.conftest import make_user
from tests.services.test_governance import LOW_PLATELET_PRRT_CANDIDATE
from treatments import roles, selectors, services
from treatments.models import Case, Evaluation, MeetingCase, RuleSet
from treatments.rules.content import compile_content
from treatments.rules.profile import PatientProfile
from treatments.selectors.governance import compare_results

pytestmark = pytest.mark.django_db

PLATELETS_90 = LOW_PLATELET_PRRT_CANDIDATE


@pytest.fixture
def demo(published: RuleSet, settings: Any) -> list[Case]:
    """The demo cases and meeting of fixtures/demo_cases.yaml, plus one case whose PRRT depends on
    the threshold, on the demo meeting."""
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    clinician = (
        User.objects.get(username="dr_hughes") if User.objects.filter(username="dr_hughes").exists() else None
    )
    clinician = clinician or make_user("dr_extra", roles.CLINICIAN)
    case = Case.objects.create(
        hospital_reference="DEMO-T-90",
        referring_clinician="Dr Example",
        question="PRRT?",
        profile=PLATELETS_90,
        created_by=clinician,
        updated_by=clinician,
    )
    meeting = MeetingCase.objects.filter(meeting__date__gte=date.today()).first()
    assert meeting is not None, "seed_demo makes an upcoming meeting"
    services.meeting_add_case(actor=clinician, meeting=meeting.meeting, case=case)
    return list(Case.objects.order_by("pk"))


@pytest.fixture
def draft(published: RuleSet) -> RuleSet:
    draft = services.ruleset_draft_clone(actor=None, version="2.0.0")
    content = copy.deepcopy(draft.content)
    rule = next(r for r in content["rules"] if r["rule_id"] == "prrt.marrow")
    rule["condition"] = {"fact": "platelets_10e9_l", "ge": 100}
    return services.ruleset_draft_set_content(draft=draft, content=content, actor=None)


def test_the_report_lists_exactly_the_cases_whose_options_change(
    demo: list[Case], draft: RuleSet, published: RuleSet
) -> None:
    report = services.ruleset_impact(draft=draft, actor=None)

    before, after = compile_content(published.content), compile_content(draft.content)
    expected: dict[int, dict[str, tuple[str, str]]] = {}
    for case in demo:
        if case.archived_at is not None:
            continue
        profile = PatientProfile.model_validate(case.profile)
        old, new = before.evaluate(profile).statuses(), after.evaluate(profile).statuses()
        moved = {key: (old[key], new[key]) for key in old if old[key] != new[key]}
        if moved:
            expected[case.pk] = moved
    listed = {
        case["case_id"]: {
            c["modality"]: (c["from"], c["to"]) for c in case["changes"] if c["from"] != c["to"]
        }
        for case in report.changes["cases"]
    }
    assert expected and listed == expected
    counts = Counter((m, a, b) for moves in expected.values() for m, (a, b) in moves.items())
    assert {(t["modality"], t["from"], t["to"]): t["count"] for t in report.changes["transitions"]} == counts
    on_meeting = set(
        MeetingCase.objects.filter(meeting__date__gte=date.today()).values_list("case_id", flat=True)
    )
    for case in report.changes["cases"]:
        assert (case["upcoming_meeting"] is not None) == (case["case_id"] in on_meeting)
    assert report.changes["cases_evaluated"] == sum(1 for case in demo if case.archived_at is None)


def test_the_same_inputs_give_the_same_hash_and_archived_cases_count_only_in_scope_all(
    demo: list[Case], draft: RuleSet
) -> None:
    first = services.ruleset_impact(draft=draft, actor=None)
    second = services.ruleset_impact(draft=draft, actor=None)
    assert first.report_hash == second.report_hash

    changed = Case.objects.get(hospital_reference="DEMO-T-90")
    Case.objects.filter(pk=changed.pk).update(archived_at=timezone.now())
    active = services.ruleset_impact(draft=draft, actor=None, scope="active")
    everything = services.ruleset_impact(draft=draft, actor=None, scope="all")

    assert changed.pk not in {case["case_id"] for case in active.changes["cases"]}
    assert changed.pk in {case["case_id"] for case in everything.changes["cases"]}
    assert active.report_hash != first.report_hash


def test_publishing_writes_nothing_to_cases_and_their_evaluations_show_out_of_date(
    demo: list[Case], draft: RuleSet, published: RuleSet
) -> None:
    clinician = make_user("dr_page", roles.CLINICIAN)
    reviewer = make_user("rev", roles.RULE_REVIEWER)
    cso = make_user("cso", roles.CLINICAL_SAFETY_OFFICER)
    case = Case.objects.get(hospital_reference="DEMO-T-90")
    services.case_evaluate(actor=clinician, case=case)
    evaluations, cases = (
        Evaluation.objects.count(),
        list(Case.objects.values_list("pk", "version", "profile")),
    )

    services.ruleset_review(draft=draft, actor=reviewer, kind="approve", checksum=draft.checksum)
    services.ruleset_golden_run(rule_set=draft, actor=cso)
    report = services.ruleset_impact(draft=draft, actor=cso)
    services.ruleset_impact_acknowledge(report=report, actor=cso)
    services.ruleset_publish_draft(draft=draft, actor=cso)
    selectors.forget_published_ruleset()

    assert Evaluation.objects.count() == evaluations
    assert list(Case.objects.values_list("pk", "version", "profile")) == cases
    client = Client()
    client.force_login(clinician)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Out of date" in page
    assert "Rule set 2.0.0 has been published since" in page
    assert "Rule set 2.0.0 changes Peptide-receptor radionuclide therapy" in page
    assert "for this patient: candidate → not suitable" in page


def test_the_comparison_lists_only_what_differs_and_each_option_dropped(published: RuleSet) -> None:
    """compare_results' quick path (same status, missing facts as a set, cautions by rule id) and
    its full answer for an option the draft no longer has."""
    content = copy.deepcopy(published.content)
    profile = PatientProfile.model_validate(PLATELETS_90)
    same = compile_content(content).evaluate(profile)
    content["modalities"] = [m for m in content["modalities"] if m["key"] != "interferon"]
    content["rules"] = [r for r in content["rules"] if r["modality"] != "interferon"]
    content["version"] = "9.9.9"
    without = compile_content(content).evaluate(profile)

    assert compare_results(same, compile_content(published.content).evaluate(profile)) == []
    (dropped,) = compare_results(same, without)
    was = next(v.status for v in same.verdicts if v.modality.key == "interferon")
    assert dropped == {"modality": "interferon", "from": was, "to": None, "deciding_rules": [], "facts": {}}
