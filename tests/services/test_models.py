"""The stored knowledge base and the audit trail: what the database guarantees, what can never be
edited, how a rule set is published, and how the published one is read back and cached."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.conftest import KB_VERSION, KNOWLEDGE_BASE
from tests.rules.test_golden_cases import CASES, load
from treatments import selectors
from treatments.models import AuditEvent, Modality, ReadOnlyError, Rule, RuleSet
from treatments.rules.document import KnowledgeBase, parse_data
from treatments.rules.profile import MODALITY_KEYS, PatientProfile
from treatments.rules.serialize import options_to_list
from treatments.services import VersionConflict, ruleset_publish

pytestmark = pytest.mark.django_db


@functools.cache
def _knowledge_base_data() -> dict[str, Any]:
    return yaml.load(Path(KNOWLEDGE_BASE).read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def revised_knowledge_base(version: str, *, reason: str = "Revised wording.") -> KnowledgeBase:
    """The real knowledge base with one rule's reason reworded, under `version`."""
    data = copy.deepcopy(_knowledge_base_data())
    data["version"] = version
    data["modalities"][0]["rules"][0]["reason"] = reason
    return parse_data(data, "revised.yaml")


def draft_ruleset(version: str = "2.0.0-draft") -> RuleSet:
    return RuleSet.objects.create(version=version, title="Draft", checksum="0" * 64)


def draft_modality(rule_set: RuleSet, key: str = "ssta", **fields: Any) -> Modality:
    values = {
        "name": "Somatostatin analogues",
        "category": "somatostatin_analogue",
        "intents": ["symptom_control"],
        "description": "Octreotide or lanreotide.",
        "agents": "Lanreotide 120 mg every 28 days.",
        "display_order": 1,
        **fields,
    }
    return Modality.objects.create(rule_set=rule_set, key=key, **values)


def draft_rule(modality: Modality, rule_id: str = "ssta.gep", **fields: Any) -> Rule:
    values = {
        "kind": "indication",
        "title": "GEP primary",
        "condition": {"fact": "primary_site", "in": ["pancreas", "small_intestine"]},
        "reason": "Licensed for GEP NET.",
        "source": "SmPC",
        "evidence": "licence",
        "verification": "verified",
        **fields,
    }
    return Rule.objects.create(rule_set=modality.rule_set, modality=modality, rule_id=rule_id, **values)


# --- publishing the real knowledge base -----------------------------------------------------------


def test_the_published_rule_set_holds_all_fifteen_modalities_and_every_rule(
    published: RuleSet, knowledge_base: KnowledgeBase
) -> None:
    assert (published.version, published.status) == (knowledge_base.version, RuleSet.Status.PUBLISHED)
    assert published.published_at is not None
    assert published.checksum == knowledge_base.checksum
    assert published.content == knowledge_base.content
    assert sorted(published.modalities.values_list("key", flat=True)) == sorted(MODALITY_KEYS)
    stored = [
        (rule.modality.key, rule.rule_id)
        for rule in Rule.objects.published().select_related("modality").order_by("modality__key", "position")
    ]
    expected = sorted((spec.modality, spec.rule_id) for spec in knowledge_base.rules)
    assert sorted(stored) == expected
    assert len(stored) == len(knowledge_base.rules)
    assert list(RuleSet.objects.published()) == [published]


def test_the_rule_set_read_back_from_the_database_decides_exactly_like_the_file(
    published: RuleSet, knowledge_base: KnowledgeBase
) -> None:
    from_file = knowledge_base.compile()
    from_database = selectors.published_ruleset()
    assert from_database.rule_count == from_file.rule_count
    for path in CASES:
        profile = PatientProfile.model_validate(load(path)["profile"])
        assert options_to_list(from_database.evaluate(profile)) == options_to_list(
            from_file.evaluate(profile)
        )


# --- named constraints (each expected IntegrityError in its own savepoint, for PostgreSQL) --------


def test_there_is_at_most_one_published_rule_set(published: RuleSet) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        RuleSet.objects.create(version="9.9.9", status="published", published_at=timezone.now(), checksum="x")


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"status": "archived", "published_at": timezone.now()}, "ruleset_status_valid"),
        ({"status": "retired"}, "ruleset_published_has_date"),
    ],
)
def test_a_rule_set_status_is_one_of_the_three_and_a_published_one_has_a_date(
    db: None, fields: dict[str, Any], constraint: str
) -> None:
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        RuleSet.objects.create(version="9.9.9", checksum="x", **fields)


def test_a_version_label_is_used_once(db: None) -> None:
    draft_ruleset("1.0")
    with pytest.raises(IntegrityError), transaction.atomic():
        draft_ruleset("1.0")


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [({"key": "homeopathy"}, "modality_key_valid"), ({"category": "dentistry"}, "modality_category_valid")],
)
def test_a_modality_has_a_contract_key_and_a_known_category(
    db: None, fields: dict[str, Any], constraint: str
) -> None:
    rule_set = draft_ruleset()
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        draft_modality(rule_set, **fields)


def test_a_modality_key_appears_once_per_rule_set(db: None) -> None:
    rule_set = draft_ruleset()
    draft_modality(rule_set)
    draft_modality(draft_ruleset("other"))  # another rule set may describe the same modality
    with pytest.raises(IntegrityError), transaction.atomic():
        draft_modality(rule_set, display_order=2)


def test_a_rule_id_is_unique_per_modality_but_shared_rules_repeat_it_across_modalities(db: None) -> None:
    rule_set = draft_ruleset()
    ssta = draft_modality(rule_set)
    everolimus = draft_modality(rule_set, "everolimus", category="targeted_therapy", display_order=2)
    draft_rule(ssta, "common.pregnancy")
    draft_rule(everolimus, "common.pregnancy")
    with pytest.raises(IntegrityError), transaction.atomic():
        draft_rule(ssta, "common.pregnancy")


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"kind": "suggestion"}, "rule_kind_valid"),
        ({"verification": "rumour"}, "rule_verification_valid"),
        ({"kind": "indication", "if_unknown": "note"}, "rule_if_unknown_note_valid"),
        ({"kind": "trial_only", "if_unknown": "note"}, "rule_if_unknown_note_valid"),
    ],
)
def test_a_rule_has_a_known_kind_and_verification_and_only_checks_may_wait_for_data(
    db: None, fields: dict[str, Any], constraint: str
) -> None:
    modality = draft_modality(draft_ruleset())
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        draft_rule(modality, **fields)


@pytest.mark.parametrize("kind", ["requirement", "contraindication"])
def test_a_barrier_may_be_checked_when_known(db: None, kind: str) -> None:
    rule = draft_rule(draft_modality(draft_ruleset()), kind=kind, if_unknown="note")
    assert Rule.objects.get(pk=rule.pk).if_unknown == "note"


# --- published rule sets are read-only; drafts are editable and validated -------------------------


@pytest.mark.parametrize(
    "change",
    [{"title": "Edited"}, {"notes": "Edited"}, {"content": {}}, {"status": "draft"}, {"version": "9.9.9"}],
)
def test_a_published_rule_set_cannot_be_edited(published: RuleSet, change: dict[str, Any]) -> None:
    for field, value in change.items():
        setattr(published, field, value)
    with pytest.raises(ReadOnlyError, match="read-only"):
        published.save()
    assert RuleSet.objects.get(pk=published.pk).status == RuleSet.Status.PUBLISHED


def test_a_published_rule_set_cannot_be_deleted(published: RuleSet) -> None:
    with pytest.raises(ReadOnlyError, match="cannot be deleted"):
        published.delete()
    assert RuleSet.objects.filter(pk=published.pk).exists()


def test_the_modalities_and_rules_of_a_published_rule_set_cannot_be_edited_or_deleted(
    published: RuleSet,
) -> None:
    modality = published.modalities.get(key="prrt_lu177")
    rule = modality.rules.first()
    assert rule is not None
    modality.name = "Edited"
    rule.reason = "Edited"
    for attempt in (modality.save, modality.delete, rule.save, rule.delete):
        with pytest.raises(ReadOnlyError, match="read-only"):
            attempt()
    assert Rule.objects.filter(pk=rule.pk).exclude(reason="Edited").exists()
    assert Modality.objects.filter(pk=modality.pk).exclude(name="Edited").exists()


def test_a_retired_rule_set_stays_read_only(published: RuleSet) -> None:
    ruleset_publish(knowledge_base=revised_knowledge_base("1.2.2"))
    retired = RuleSet.objects.get(pk=published.pk)
    assert retired.status == RuleSet.Status.RETIRED
    retired.status = RuleSet.Status.PUBLISHED
    with pytest.raises(ReadOnlyError):
        retired.save()
    with pytest.raises(ReadOnlyError):
        retired.delete()
    with pytest.raises(ReadOnlyError):
        retired.rules.first().save()  # type: ignore[union-attr]


def test_a_draft_rule_can_be_edited_and_its_condition_is_stored_in_compact_form(db: None) -> None:
    rule = draft_rule(draft_modality(draft_ruleset()))
    rule.reason = "Reworded."
    rule.condition = {
        "all": [{"fact": "ecog", "op": "le", "value": 2}, {"not": {"fact": "pregnant", "eq": True}}]
    }
    rule.save()
    stored = Rule.objects.get(pk=rule.pk)
    assert stored.reason == "Reworded."
    assert stored.condition == {"all": [{"fact": "ecog", "le": 2}, {"not": {"fact": "pregnant", "eq": True}}]}
    assert stored.condition_tree.model_dump(mode="json", by_alias=True) == stored.condition


def test_a_draft_rule_with_a_bad_condition_is_refused_with_the_path_of_the_mistake(db: None) -> None:
    rule = draft_rule(draft_modality(draft_ruleset()))
    rule.condition = {"all": [{"fact": "ecog", "le": 2}, {"fact": "tumour_colour", "eq": "blue"}]}
    with pytest.raises(ValidationError) as caught:
        rule.save()
    assert caught.value.message_dict == {
        "condition": ["when.all[1]: 'tumour_colour' is not a fact of the contract"]
    }
    assert Rule.objects.get(pk=rule.pk).condition["fact"] == "primary_site"


def test_a_rule_cannot_belong_to_a_modality_of_another_rule_set(db: None) -> None:
    modality = draft_modality(draft_ruleset())
    other = draft_ruleset("other")
    with pytest.raises(ValidationError, match="another rule set"):
        Rule.objects.create(
            rule_set=other,
            modality=modality,
            rule_id="ssta.gep",
            kind="indication",
            title="GEP",
            condition={"fact": "primary_site", "eq": "pancreas"},
            reason="r",
            source="s",
            evidence="e",
            verification="verified",
        )


def test_a_draft_rule_set_and_its_contents_can_be_deleted(no_knowledge_base: None) -> None:
    rule_set = draft_ruleset()
    draft_rule(draft_modality(rule_set))
    rule_set.delete()
    assert (RuleSet.objects.count(), Modality.objects.count(), Rule.objects.count()) == (0, 0, 0)


# --- how records read -----------------------------------------------------------------------------


def test_each_record_reads_as_a_short_label(published: RuleSet) -> None:
    modality = published.modalities.get(key="surgery_curative")
    rule = modality.rules.get(rule_id="common.bedbound")
    event = AuditEvent.objects.get()
    assert str(published) == f"Rule set {KB_VERSION} (published)"
    assert str(draft_ruleset()) == "Rule set 2.0.0-draft (draft)"
    assert str(modality) == "Curative surgery (resection) (surgery_curative)"
    assert str(rule) == "common.bedbound (contraindication, surgery_curative)"
    assert str(event) == f"{event.at:%Y-%m-%d %H:%M} system ruleset.publish Rule set {KB_VERSION} (published)"


# --- the audit trail ------------------------------------------------------------------------------


def test_the_audit_trail_is_append_only(published: RuleSet) -> None:
    event = AuditEvent.objects.get()
    event.action = "ruleset.forged"
    attempts = [
        event.save,
        event.delete,
        lambda: AuditEvent.objects.update(action="x"),
        lambda: AuditEvent.objects.filter(pk=event.pk).update(action="x"),
        lambda: AuditEvent.objects.all().delete(),
        lambda: AuditEvent.objects.bulk_update([event], ["action"]),
    ]
    for attempt in attempts:
        with pytest.raises(ReadOnlyError, match="append-only"), transaction.atomic():
            attempt()
    assert AuditEvent.objects.get().action == "ruleset.publish"


# --- publishing -----------------------------------------------------------------------------------


def test_publishing_records_who_did_it_in_one_audit_event(no_knowledge_base: None, rule_author: User) -> None:
    knowledge_base = revised_knowledge_base("1.2.2")
    rule_set = ruleset_publish(knowledge_base=knowledge_base, actor=rule_author)
    assert rule_set is not None
    assert rule_set.published_by == rule_author
    # Creating the author put them in a group: that is an access.grant event of its own.
    (event,) = AuditEvent.objects.exclude(object_type="group").exclude(object_type="user")
    assert (event.actor, event.actor_name, event.action) == (rule_author, "author_patel", "ruleset.publish")
    assert (event.object_type, event.object_id) == ("ruleset", str(rule_set.pk))
    assert event.payload == {
        "version": "1.2.2",
        "checksum": knowledge_base.checksum,
        "rules": len(knowledge_base.rules),
        "retired": None,
        "without_review": True,
    }


def test_publishing_a_new_version_retires_the_previous_one(published: RuleSet, rule_author: User) -> None:
    new = ruleset_publish(knowledge_base=revised_knowledge_base("1.2.2"), actor=rule_author)
    assert new is not None
    assert RuleSet.objects.get(pk=published.pk).status == RuleSet.Status.RETIRED
    assert list(RuleSet.objects.published()) == [new]
    assert AuditEvent.objects.order_by("id").last().payload["retired"] == KB_VERSION  # type: ignore[union-attr]
    assert Rule.objects.published().count() == Rule.objects.filter(rule_set=new).count()


def test_publishing_unchanged_content_does_nothing(published: RuleSet, knowledge_base: KnowledgeBase) -> None:
    assert ruleset_publish(knowledge_base=knowledge_base) is None
    assert RuleSet.objects.count() == 1
    assert AuditEvent.objects.count() == 1


def test_publishing_changed_content_under_a_used_version_is_refused(published: RuleSet) -> None:
    with pytest.raises(VersionConflict, match="bump `version`"):
        ruleset_publish(knowledge_base=revised_knowledge_base(published.version))
    assert list(RuleSet.objects.values_list("version", "status")) == [(KB_VERSION, "published")]


# --- reading the published rule set ---------------------------------------------------------------


def test_without_a_published_rule_set_there_is_nothing_to_evaluate_against(no_knowledge_base: None) -> None:
    with pytest.raises(selectors.NoPublishedRuleSet, match="load_knowledge_base"):
        selectors.published_ruleset()


def test_the_published_rule_set_costs_no_query_once_compiled(
    published: RuleSet, django_assert_num_queries: Any
) -> None:
    first = selectors.published_ruleset()
    assert first.info.version == published.version
    assert first.info.published_at == published.published_at
    with django_assert_num_queries(0):
        assert selectors.published_ruleset() is first
        selectors.eligibility(PatientProfile(primary_site="pancreas"))


def test_a_newly_published_version_is_picked_up_once_the_cache_is_forgotten(published: RuleSet) -> None:
    first = selectors.published_ruleset()
    ruleset_publish(knowledge_base=revised_knowledge_base("1.2.2"))
    assert selectors.published_ruleset() is first  # still cached: the recheck interval has not passed
    selectors.forget_published_ruleset()
    assert selectors.published_ruleset().info.version == "1.2.2"


def test_a_newly_published_version_is_picked_up_at_the_next_recheck(
    published: RuleSet, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.NETCARE_RULESET_RECHECK_SECONDS = 0
    first = selectors.published_ruleset()
    with django_assert_num_queries(1):  # the version is checked, the rule set is not compiled again
        assert selectors.published_ruleset() is first
    ruleset_publish(knowledge_base=revised_knowledge_base("1.2.2", reason="Second revision."))
    current = selectors.published_ruleset()
    assert current.info.version == "1.2.2"
    reasons = current.evaluate(PatientProfile()).verdict("surgery_curative").reasons
    assert reasons[0].rule.spec.reason == "Second revision."


@pytest.mark.parametrize(
    "bulk",
    [
        lambda rs: Rule.objects.filter(rule_set=rs).update(reason="edited"),
        lambda rs: Rule.objects.filter(rule_set=rs).delete(),
        lambda rs: Modality.objects.filter(rule_set=rs).update(name="edited"),
        lambda rs: Modality.objects.filter(rule_set=rs).delete(),
        lambda rs: RuleSet.objects.filter(pk=rs.pk).update(notes="edited"),
        lambda rs: RuleSet.objects.filter(pk=rs.pk).delete(),
    ],
    ids=[
        "rule-update",
        "rule-delete",
        "modality-update",
        "modality-delete",
        "ruleset-update",
        "ruleset-delete",
    ],
)
def test_bulk_writes_cannot_change_a_published_rule_set_either(published: RuleSet, bulk: Any) -> None:
    with pytest.raises(ReadOnlyError):
        bulk(published)

    assert Rule.objects.filter(rule_set=published).exclude(reason="edited").count() == published.rules.count()


def test_who_published_a_rule_set_cannot_be_rewritten(published: RuleSet, admin_user: Any) -> None:
    published.published_by = admin_user

    with pytest.raises(ReadOnlyError):
        published.save()
