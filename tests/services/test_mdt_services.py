"""The MDT workflow's rules, at the service layer: snapshots, conflicts, no data loss, audit."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models.deletion import ProtectedError

from tests.conftest import KNOWLEDGE_BASE, make_user
from tests.personas import SI_NET
from tests.rules.test_golden_cases import KNOWLEDGE_BASE_1_1_1
from treatments import selectors, services
from treatments.inputs import CaseChange, CaseCreate, MeetingInput, OutcomeInput, ReviewInput
from treatments.models import (
    AuditEvent,
    Case,
    Evaluation,
    Meeting,
    Outcome,
    ReadOnlyError,
    Review,
    nhs_number_is_valid,
)
from treatments.rules.document import load_file, parse_data
from treatments.rules.vocabulary import MODALITY_KEYS


def new_case(actor: User, reference: str = "RFH-0001", profile: dict[str, Any] | None = None) -> Case:
    data = CaseCreate.model_validate(
        {
            "hospital_reference": reference,
            "referring_clinician": "Dr Ada Lovelace",
            "question": "Is PRRT an option?",
            "profile": SI_NET if profile is None else profile,
        }
    )
    return services.case_create(actor=actor, data=data)


def actions(obj: Any = None) -> list[str]:
    events = AuditEvent.objects.order_by("id")
    if obj is not None:
        events = events.filter(object_type=obj._meta.model_name, object_id=str(obj.pk))
    return list(events.values_list("action", flat=True))


# --- NHS numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["9434765919", "4010232137", "9990001235"])
def test_a_valid_nhs_number_passes_its_modulus_11_check(number: str) -> None:
    assert nhs_number_is_valid(number)


@pytest.mark.parametrize("number", ["9434765918", "123456789", "12345678901", "943476591X", "1111111110"])
def test_an_nhs_number_with_a_wrong_check_digit_or_length_fails(number: str) -> None:
    assert not nhs_number_is_valid(number)


def test_an_nhs_number_is_stored_as_ten_digits(db: None, coordinator: User) -> None:
    data = CaseCreate.model_validate(
        {
            "hospital_reference": "R1",
            "nhs_number": "943 476 5919",
            "referring_clinician": "x",
            "question": "q",
        }
    )
    assert services.case_create(actor=coordinator, data=data).nhs_number == "9434765919"


# --- cases ------------------------------------------------------------------------------------------


def test_creating_a_case_keeps_the_known_facts_and_records_who(db: None, coordinator: User) -> None:
    case = new_case(coordinator, profile={"primary_site": "pancreas", "resectable": None})

    assert case.profile == {"primary_site": "pancreas", "funding": "nhs"}
    assert case.created_by == coordinator and case.updated_by == coordinator
    assert actions(case) == ["case.create"]


def test_a_hospital_reference_is_unique(db: None, coordinator: User) -> None:
    new_case(coordinator, "RFH-1")
    with pytest.raises(services.WorkflowError, match="already exists"):
        new_case(coordinator, "RFH-1")


def test_an_edit_from_a_stale_version_is_refused_and_loses_nothing(
    db: None, coordinator: User, clinician: User
) -> None:
    case = new_case(coordinator)
    services.case_update(
        actor=clinician, case=case, data=CaseChange(version=1, question="PRRT or everolimus?")
    )

    with pytest.raises(services.EditConflict, match="Clara Hughes") as conflict:
        services.case_update(actor=coordinator, case=case, data=CaseChange(version=1, question="Surgery?"))

    assert conflict.value.current.question == "PRRT or everolimus?"  # type: ignore[union-attr]
    case.refresh_from_db()
    assert (case.question, case.version) == ("PRRT or everolimus?", 2)


def test_an_edit_records_what_changed(db: None, coordinator: User) -> None:
    case = new_case(coordinator)
    services.case_update(actor=coordinator, case=case, data=CaseChange(version=1, status="ready"))

    event = AuditEvent.objects.filter(action="case.update").get()
    assert event.payload["changed"] == {"status": {"from": "draft", "to": "ready"}}
    assert event.actor == coordinator


def test_a_case_with_evaluations_is_archived_not_deleted(published: Any, coordinator: User) -> None:
    case = new_case(coordinator)
    services.case_evaluate(actor=coordinator, case=case)

    with pytest.raises(ReadOnlyError, match="archive"):
        case.delete()
    with pytest.raises((ProtectedError, ReadOnlyError)):
        Case.objects.filter(pk=case.pk).delete()
    services.case_archive(actor=coordinator, case=case)

    case.refresh_from_db()
    assert case.is_archived
    assert Evaluation.objects.filter(case=case).count() == 1
    assert case not in selectors.case_list()
    assert case in selectors.case_list(archived=True)


def test_an_archived_case_can_no_longer_be_changed_or_evaluated(published: Any, coordinator: User) -> None:
    case = services.case_archive(actor=coordinator, case=new_case(coordinator))

    with pytest.raises(services.WorkflowError, match="archived"):
        services.case_evaluate(actor=coordinator, case=case)
    with pytest.raises(services.WorkflowError, match="archived"):
        services.case_update(
            actor=coordinator, case=case, data=CaseChange(version=case.version, question="x")
        )


# --- evaluations ------------------------------------------------------------------------------------


def test_an_evaluation_is_an_immutable_snapshot_of_facts_verdicts_and_rule_set(
    published: Any, coordinator: User
) -> None:
    case = new_case(coordinator)
    evaluation = services.case_evaluate(actor=coordinator, case=case)

    assert evaluation.rule_set == published
    assert (evaluation.ruleset_version, evaluation.ruleset_checksum) == (
        published.version,
        published.checksum,
    )
    assert evaluation.profile == case.profile
    assert len(evaluation.result["options"]) == len(MODALITY_KEYS)
    prrt = next(option for option in evaluation.result["options"] if option["modality"] == "prrt_lu177")
    assert prrt["status"] == "candidate"
    with pytest.raises(ReadOnlyError):
        evaluation.save()
    with pytest.raises(ReadOnlyError):
        evaluation.delete()
    with pytest.raises(ReadOnlyError):
        Evaluation.objects.filter(pk=evaluation.pk).update(profile={})
    assert actions(evaluation) == ["evaluation.create"]


def test_a_stored_evaluation_reads_back_exactly_as_made(published: Any, coordinator: User) -> None:
    evaluation = services.case_evaluate(actor=coordinator, case=new_case(coordinator))

    result = selectors.evaluation_result(evaluation)

    assert {v.modality.key: v.status for v in result.verdicts} == {
        option["modality"]: option["status"] for option in evaluation.result["options"]
    }
    assert result.ruleset.version == published.version


def test_an_evaluation_is_flagged_out_of_date_when_the_facts_change(
    published: Any, coordinator: User
) -> None:
    case = new_case(coordinator)
    evaluation = services.case_evaluate(actor=coordinator, case=case)
    assert selectors.evaluation_staleness(evaluation, case) == []

    case = services.case_update(
        actor=coordinator,
        case=case,
        data=CaseChange.model_validate({"version": 1, "profile": {**SI_NET, "ecog": 1}}),
    )

    assert selectors.evaluation_staleness(evaluation, case) == [
        "the patient's facts have changed since this evaluation"
    ]


def test_reordering_prior_therapies_does_not_make_an_evaluation_out_of_date(
    published: Any, coordinator: User
) -> None:
    case = new_case(coordinator, profile={**SI_NET, "prior_therapies": ["ssta", "everolimus"]})
    evaluation = services.case_evaluate(actor=coordinator, case=case)
    case = services.case_update(
        actor=coordinator,
        case=case,
        data=CaseChange.model_validate(
            {"version": 1, "profile": {**SI_NET, "prior_therapies": ["everolimus", "ssta"]}}
        ),
    )

    assert selectors.evaluation_staleness(evaluation, case) == []


def test_an_evaluation_is_flagged_out_of_date_when_a_newer_rule_set_is_published(
    published: Any, coordinator: User
) -> None:
    case = new_case(coordinator)
    evaluation = services.case_evaluate(actor=coordinator, case=case)
    content = yaml.safe_load(KNOWLEDGE_BASE.read_text(encoding="utf-8"))
    content["version"] = "99.0.0"
    services.ruleset_publish(knowledge_base=parse_data(content))

    assert selectors.evaluation_staleness(evaluation, case) == [
        f"rule set 99.0.0 has been published since (this evaluation used {published.version})"
    ]


def test_what_changed_between_two_evaluations_names_the_fact_and_the_option(
    published: Any, coordinator: User
) -> None:
    case = new_case(coordinator, profile={**SI_NET, "sstr_imaging": None})
    first = services.case_evaluate(actor=coordinator, case=case)
    case = services.case_update(
        actor=coordinator, case=case, data=CaseChange.model_validate({"version": 1, "profile": SI_NET})
    )
    second = services.case_evaluate(actor=coordinator, case=case)

    changes = selectors.evaluation_changes(first, second)

    assert [(change.fact, change.old, change.new) for change in changes.facts] == [
        ("sstr_imaging", None, "positive")
    ]
    prrt = next(change for change in changes.options if change.modality.key == "prrt_lu177")
    assert (prrt.old_status, prrt.new_status) == ("needs_data", "candidate")
    assert "prrt.sstr_positive" in {change.reason.rule.rule_id for change in prrt.outcome_changes}


# --- reviews ----------------------------------------------------------------------------------------


def review(actor: User, evaluation: Evaluation, version: int | None, **fields: Any) -> Review:
    data = ReviewInput.model_validate(
        {"decision": "accept", "reason_code": "clinically_appropriate", **fields}
    )
    data.version = version
    return services.option_review(actor=actor, evaluation=evaluation, modality="prrt_lu177", data=data)


def test_a_clinician_reviews_an_option_and_can_change_the_review(published: Any, clinician: User) -> None:
    evaluation = services.case_evaluate(actor=clinician, case=new_case(clinician))

    first = review(clinician, evaluation, None)
    second = review(clinician, evaluation, first.version, decision="defer", reason_code="awaiting_data")

    assert (second.pk, second.version, second.decision) == (first.pk, 2, "defer")
    events = AuditEvent.objects.filter(action="review.save").order_by("id")
    assert [event.payload["after"]["decision"] for event in events] == ["accept", "defer"]
    assert events.last().payload["before"]["decision"] == "accept"  # type: ignore[union-attr]


def test_the_second_of_two_clinicians_saving_the_same_review_gets_a_conflict_and_sees_the_first(
    published: Any, clinician: User
) -> None:
    other = make_user("dr_okafor", "clinician", first_name="Ngozi", last_name="Okafor")
    evaluation = services.case_evaluate(actor=clinician, case=new_case(clinician))
    review(clinician, evaluation, None)

    with pytest.raises(services.EditConflict, match="Clara Hughes saved a review") as conflict:
        review(other, evaluation, None, decision="reject", reason_code="comorbidity")

    assert conflict.value.current.decision == "accept"  # type: ignore[union-attr]
    assert Review.objects.get().decision == "accept"


def test_a_review_from_a_stale_version_is_refused(published: Any, clinician: User) -> None:
    evaluation = services.case_evaluate(actor=clinician, case=new_case(clinician))
    first = review(clinician, evaluation, None)
    review(clinician, evaluation, first.version, decision="reject", reason_code="comorbidity")

    with pytest.raises(services.EditConflict):
        review(clinician, evaluation, first.version, decision="defer", reason_code="awaiting_data")
    assert Review.objects.get().decision == "reject"


def test_reviewing_an_option_the_evaluation_does_not_have_is_refused(published: Any, clinician: User) -> None:
    evaluation = services.case_evaluate(actor=clinician, case=new_case(clinician))
    data = ReviewInput(decision="accept", reason_code="clinically_appropriate")

    with pytest.raises(services.WorkflowError, match="no option"):
        services.option_review(actor=clinician, evaluation=evaluation, modality="homeopathy", data=data)


@pytest.mark.django_db(transaction=True)
def test_two_clinicians_saving_a_new_review_at_the_same_moment_lose_nothing(published: Any) -> None:
    first = make_user("dr_one", "clinician")
    second = make_user("dr_two", "clinician")
    evaluation = services.case_evaluate(actor=first, case=new_case(first))
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def save(user: User, decision: str) -> None:
        try:
            barrier.wait()
            data = ReviewInput.model_validate(
                {"decision": decision, "reason_code": "other", "note": user.username}
            )
            services.option_review(actor=user, evaluation=evaluation, modality="prrt_lu177", data=data)
            outcomes[user.username] = "saved"
        except services.EditConflict:
            outcomes[user.username] = "conflict"
        except Exception as exc:  # anything else is a failure of the test, reported below
            outcomes[user.username] = f"error: {exc!r}"
        finally:
            connection.close()

    threads = [
        threading.Thread(target=save, args=(first, "accept")),
        threading.Thread(target=save, args=(second, "reject")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["conflict", "saved"], outcomes
    saved = next(name for name, result in outcomes.items() if result == "saved")
    assert Review.objects.get().note == saved


# --- meetings and outcomes ------------------------------------------------------------------------------


def meeting_with(coordinator: User, *cases: Case) -> Meeting:
    meeting = services.meeting_create(
        actor=coordinator, data=MeetingInput.model_validate({"title": "NET MDT", "date": "2026-12-03"})
    )
    for case in cases:
        services.meeting_add_case(actor=coordinator, meeting=meeting, case=case)
    return meeting


def test_the_coordinator_adds_removes_and_reorders_cases(db: None, coordinator: User) -> None:
    a, b, c = (new_case(coordinator, f"R{i}") for i in range(3))
    meeting = meeting_with(coordinator, a, b, c)

    services.meeting_reorder(actor=coordinator, meeting=meeting, case_ids=[c.pk, a.pk, b.pk])
    services.meeting_remove_case(actor=coordinator, meeting=meeting, case=a)

    assert [row.case for row in selectors.meeting_worklist(meeting)] == [c, b]
    assert list(meeting.entries.values_list("position", flat=True)) == [1, 2]
    assert actions(meeting)[-2:] == ["meeting.reorder", "meeting.remove_case"]


def test_a_case_is_on_a_meeting_once(db: None, coordinator: User) -> None:
    case = new_case(coordinator)
    meeting = meeting_with(coordinator, case)

    with pytest.raises(services.WorkflowError, match="already"):
        services.meeting_add_case(actor=coordinator, meeting=meeting, case=case)


def test_a_reorder_must_name_every_case_once(db: None, coordinator: User) -> None:
    a, b = new_case(coordinator, "R1"), new_case(coordinator, "R2")
    meeting = meeting_with(coordinator, a, b)

    for order in ([a.pk], [a.pk, a.pk], [a.pk, b.pk, 999]):
        with pytest.raises(services.WorkflowError) as refused:
            services.meeting_reorder(actor=coordinator, meeting=meeting, case_ids=order)
        assert refused.value.loc == ["cases"]


def test_the_worklist_shows_what_each_case_still_needs(published: Any, coordinator: User) -> None:
    ready = new_case(coordinator, "READY")
    missing = new_case(
        coordinator, "MISSING", profile={**SI_NET, "krenning_score": None, "funding": "private"}
    )
    never = new_case(coordinator, "NEVER")
    for case in (ready, missing):
        services.case_evaluate(actor=coordinator, case=case)
    meeting = meeting_with(coordinator, ready, missing, never)

    rows = {row.case.hospital_reference: row for row in selectors.meeting_worklist(meeting)}

    assert rows["NEVER"].stale == ["not evaluated yet"] and not rows["NEVER"].ready
    krenning = next(item for item in rows["MISSING"].to_obtain if item.fact == "krenning_score")
    assert "prrt_lu177" in [modality.key for modality in krenning.modalities]
    assert rows["MISSING"].stale == []


def test_an_outcome_records_the_choice_and_its_concordance_with_the_evaluation_shown(
    published: Any, coordinator: User, clinician: User
) -> None:
    a, b = new_case(coordinator, "A"), new_case(coordinator, "B")
    evaluations = [services.case_evaluate(actor=coordinator, case=case) for case in (a, b)]
    meeting = meeting_with(coordinator, a, b)

    concordant = services.outcome_record(
        actor=clinician,
        meeting=meeting,
        case=a,
        data=OutcomeInput(chosen_modalities=["prrt_lu177"], plan="PRRT x4"),
    )
    off_guideline = services.outcome_record(
        actor=clinician,
        meeting=meeting,
        case=b,
        data=OutcomeInput(chosen_modalities=["prrt_lu177", "platinum_etoposide"], plan="Both"),
    )

    assert (concordant.concordant, concordant.statuses) == (True, {"prrt_lu177": "candidate"})
    assert concordant.evaluation == evaluations[0] and concordant.recorded_by == clinician
    assert off_guideline.concordant is False
    assert off_guideline.statuses["platinum_etoposide"] == "not_indicated"
    assert selectors.meeting_concordance(meeting) == (1, 2, 2)
    assert selectors.meeting_concordance(meeting).percent == 50


def test_an_outcome_that_chooses_no_option_has_no_concordance(
    published: Any, coordinator: User, clinician: User
) -> None:
    case = new_case(coordinator)
    services.case_evaluate(actor=coordinator, case=case)
    meeting = meeting_with(coordinator, case)

    outcome = services.outcome_record(
        actor=clinician,
        meeting=meeting,
        case=case,
        data=OutcomeInput(plan="Surveillance; rescan in 6 months"),
    )

    assert outcome.concordant is None
    assert selectors.meeting_concordance(meeting).percent is None


def test_an_outcome_needs_an_evaluation_and_a_case_on_the_list(
    published: Any, coordinator: User, clinician: User
) -> None:
    case = new_case(coordinator)
    meeting = meeting_with(coordinator, case)
    elsewhere = new_case(coordinator, "ELSEWHERE")

    with pytest.raises(services.WorkflowError, match="no evaluation"):
        services.outcome_record(actor=clinician, meeting=meeting, case=case, data=OutcomeInput(plan="x"))
    with pytest.raises(services.WorkflowError, match="not on this meeting"):
        services.outcome_record(actor=clinician, meeting=meeting, case=elsewhere, data=OutcomeInput(plan="x"))


def test_a_recorded_outcome_keeps_its_case_on_the_list_and_its_meeting(
    published: Any, coordinator: User, clinician: User
) -> None:
    case = new_case(coordinator)
    services.case_evaluate(actor=coordinator, case=case)
    meeting = meeting_with(coordinator, case)
    services.outcome_record(actor=clinician, meeting=meeting, case=case, data=OutcomeInput(plan="Watch"))

    with pytest.raises(services.WorkflowError, match="outcome"):
        services.meeting_remove_case(actor=coordinator, meeting=meeting, case=case)
    with pytest.raises(ProtectedError), transaction.atomic():
        meeting.delete()
    assert Outcome.objects.count() == 1


def test_the_audit_trail_cannot_be_rewritten(published: Any, coordinator: User) -> None:
    case = new_case(coordinator)
    event = AuditEvent.objects.get(action="case.create", object_id=str(case.pk))

    with pytest.raises(ReadOnlyError):
        event.save()
    with pytest.raises(ReadOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        coordinator.delete()


def test_a_case_stored_before_1_2_with_contradicting_facts_still_reads_but_is_not_evaluated(
    published: Any, coordinator: User
) -> None:
    case = new_case(coordinator)
    # As saved under contract 1.1, which did not yet refuse a grade lower than Ki-67 implies.
    Case.objects.filter(pk=case.pk).update(profile={"who_grade": "G1", "ki67_percent": 22})
    case.refresh_from_db()

    assert case.facts.who_grade == "G1"  # the case page can still show what was entered
    with pytest.raises(services.FactsContradict, match="who_grade") as refused:
        services.case_evaluate(actor=coordinator, case=case)
    assert refused.value.status == 409
    assert not case.evaluations.exists()


def test_a_case_re_evaluated_under_1_2_keeps_its_1_1_1_snapshot_and_shows_what_changed_and_why(
    no_knowledge_base: None, coordinator: User
) -> None:
    # The pregnant SI-NET of the clinical review: embolisation was a candidate under 1.1.1.
    old = services.ruleset_publish(knowledge_base=load_file(KNOWLEDGE_BASE_1_1_1))
    assert old is not None and old.version == "1.1.1"
    probe = KNOWLEDGE_BASE.parents[1] / "fixtures" / "probes" / "a01_pregnant_si_liver_dominant.json"
    case = new_case(coordinator, profile=json.loads(probe.read_text(encoding="utf-8")))
    before = services.case_evaluate(actor=coordinator, case=case)
    services.ruleset_publish(knowledge_base=load_file(KNOWLEDGE_BASE))
    selectors.forget_published_ruleset()
    after = services.case_evaluate(actor=coordinator, case=case)

    assert before.option_statuses()["liver_embolisation"] == "candidate"  # the snapshot is unchanged
    assert selectors.evaluation_result(before).ruleset.version == "1.1.1"
    changes = {change.modality.key: change for change in selectors.evaluation_changes(before, after).options}
    embolisation = changes["liver_embolisation"]
    assert (embolisation.old_status, embolisation.new_status) == ("candidate", "not_suitable")
    assert "common.pregnancy" in [reason.rule.rule_id for reason in embolisation.reasons]
    assert changes["telotristat"].old_status is None  # an option 1.1.1 did not have


def test_evaluations_under_1_1_1_and_1_2_side_by_side_keep_every_option_of_both(
    no_knowledge_base: None, coordinator: User
) -> None:
    services.ruleset_publish(knowledge_base=load_file(KNOWLEDGE_BASE_1_1_1))
    case = new_case(coordinator)
    before = services.case_evaluate(actor=coordinator, case=case)
    services.ruleset_publish(knowledge_base=load_file(KNOWLEDGE_BASE))
    selectors.forget_published_ruleset()
    after = services.case_evaluate(actor=coordinator, case=case)

    rows = {row.modality.key: row for row in selectors.evaluation_changes(before, after).side_by_side}

    assert set(rows) == set(before.option_keys()) | set(after.option_keys())
    assert rows["telotristat"].before is None and rows["telotristat"].changed
    assert {key for key, row in rows.items() if row.changed} == {
        change.modality.key for change in selectors.evaluation_changes(before, after).options
    }


# --- a patient check saved as a case ------------------------------------------------------------


def check_case(reference: str = "RFH-0101") -> CaseCreate:
    return CaseCreate.model_validate(
        {
            "hospital_reference": reference,
            "nhs_number": "943 476 5919",
            "referring_clinician": "Dr Ada Lovelace",
            "question": "Is PRRT an option?",
            "profile": SI_NET,
        }
    )


def test_a_check_saved_as_a_case_is_created_evaluated_and_put_on_the_meeting(coordinator: User) -> None:
    meeting = services.meeting_create(
        actor=coordinator, data=MeetingInput.model_validate({"title": "NET MDT", "date": "2099-01-06"})
    )

    case, evaluation = services.case_create_from_check(actor=coordinator, data=check_case(), meeting=meeting)

    assert case.facts == check_case().profile and case.nhs_number == "9434765919"
    assert evaluation.case == case and evaluation.profile == case.profile
    assert meeting.entries.get().case == case
    assert actions(case) == ["case.create"] and actions(evaluation) == ["evaluation.create"]
    assert actions(meeting) == ["meeting.create", "meeting.add_case"]


def test_a_check_saved_as_a_case_leaves_nothing_behind_when_a_step_is_refused(
    no_knowledge_base: None, coordinator: User
) -> None:
    with pytest.raises(selectors.NoPublishedRuleSet):  # the evaluation cannot be made
        services.case_create_from_check(actor=coordinator, data=check_case())

    assert not Case.objects.exists() and not AuditEvent.objects.filter(action="case.create").exists()

    services.ruleset_publish(knowledge_base=load_file(KNOWLEDGE_BASE))
    selectors.forget_published_ruleset()
    new_case(coordinator, "RFH-0101")
    with pytest.raises(services.ReferenceTaken):
        services.case_create_from_check(actor=coordinator, data=check_case("RFH-0101"))
    assert Case.objects.count() == 1 and not Evaluation.objects.exists()
