"""Database-level immutability (security review F15): the ORM guards refuse writes to evaluations,
the audit trail and published rule sets, but raw SQL, `_raw_delete` and
`bulk_create(update_conflicts=True)` went around them. Migration 0008_immutability_triggers adds
triggers that refuse those writes in the database itself.

PostgreSQL refuses UPDATE and DELETE. SQLite refuses UPDATE only: Django empties SQLite tables
with DELETE (`flush`, and the teardown of every transactional test), so a DELETE trigger there
would break them; deletion on SQLite stays guarded by the ORM.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction

from tests.personas import SI_NET
from treatments import services
from treatments.inputs import CaseCreate
from treatments.models import AuditEvent, Evaluation, Modality, Rule, RuleSet

POSTGRES = connection.vendor == "postgresql"
only_postgres = pytest.mark.skipif(
    not POSTGRES, reason="SQLite refuses UPDATE only (see the module docstring)"
)


# The tables whose rows the database itself refuses to rewrite (one trigger each; test_backup checks
# that a restored database has them all).
IMMUTABLE_TABLES = ("evaluation", "auditevent", "ruleset", "modality", "rule", "hookevaluation")


def table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def refused(write: Callable[[], Any], message: str) -> None:
    """The write fails in the database with `message`, and the test's transaction goes on."""
    with pytest.raises(DatabaseError, match=message), transaction.atomic():
        write()


def sql(statement: str, *params: Any) -> Callable[[], None]:
    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)

    return run


@pytest.fixture
def evaluation(published: RuleSet, coordinator: User) -> Evaluation:
    data = CaseCreate.model_validate(
        {
            "hospital_reference": "IMM-0001",
            "referring_clinician": "Dr Ada Lovelace",
            "question": "Is PRRT an option?",
            "profile": SI_NET,
        }
    )
    case = services.case_create(actor=coordinator, data=data)
    return services.case_evaluate(actor=coordinator, case=case)


def test_raw_sql_cannot_rewrite_an_evaluation(evaluation: Evaluation) -> None:
    refused(
        sql(f"UPDATE {table(Evaluation)} SET result = %s WHERE id = %s", "{}", evaluation.pk), "immutable"
    )
    evaluation.refresh_from_db()
    assert evaluation.result["options"]


def test_bulk_create_with_update_conflicts_cannot_rewrite_an_evaluation(evaluation: Evaluation) -> None:
    evaluation.result = {"tampered": True}
    refused(
        lambda: Evaluation.objects.bulk_create(
            [evaluation], update_conflicts=True, unique_fields=["id"], update_fields=["result"]
        ),
        "immutable",
    )
    evaluation.refresh_from_db()
    assert "tampered" not in evaluation.result


def test_raw_sql_cannot_rewrite_the_audit_trail(evaluation: Evaluation) -> None:
    event = AuditEvent.objects.filter(action="evaluation.create").get()
    refused(sql(f"UPDATE {table(AuditEvent)} SET action = 'tampered' WHERE id = %s", event.pk), "append-only")
    event.action = "tampered"
    refused(
        lambda: AuditEvent.objects.bulk_create(
            [event], update_conflicts=True, unique_fields=["id"], update_fields=["action"]
        ),
        "append-only",
    )
    assert AuditEvent.objects.filter(action="evaluation.create").count() == 1


def test_raw_sql_cannot_change_a_published_rule_set_its_modalities_or_rules(published: RuleSet) -> None:
    rule = Rule.objects.filter(rule_set=published).first()
    assert rule is not None
    refused(sql(f"UPDATE {table(Rule)} SET reason = 'tampered' WHERE id = %s", rule.pk), "published")
    refused(
        sql(f"UPDATE {table(Modality)} SET name = 'tampered' WHERE rule_set_id = %s", published.pk),
        "published",
    )
    refused(sql(f"UPDATE {table(RuleSet)} SET notes = 'tampered' WHERE id = %s", published.pk), "published")
    refused(sql(f"UPDATE {table(RuleSet)} SET status = 'draft' WHERE id = %s", published.pk), "published")
    rule.reason = "tampered"
    refused(
        lambda: Rule.objects.bulk_create(
            [rule], update_conflicts=True, unique_fields=["id"], update_fields=["reason"]
        ),
        "published",
    )
    rule.refresh_from_db()
    assert rule.reason != "tampered"


@only_postgres
def test_raw_sql_cannot_delete_evaluations_audit_events_or_published_rules(evaluation: Evaluation) -> None:
    refused(sql(f"DELETE FROM {table(Evaluation)}"), "immutable")
    refused(lambda: Evaluation.objects.filter(pk=evaluation.pk)._raw_delete(connection.alias), "immutable")
    refused(sql(f"DELETE FROM {table(AuditEvent)}"), "append-only")
    refused(sql(f"DELETE FROM {table(Rule)} WHERE rule_set_id = %s", evaluation.rule_set_id), "published")
    refused(sql(f"DELETE FROM {table(Modality)} WHERE rule_set_id = %s", evaluation.rule_set_id), "published")
    refused(sql(f"DELETE FROM {table(RuleSet)} WHERE id = %s", evaluation.rule_set_id), "published")
    assert Evaluation.objects.filter(pk=evaluation.pk).exists()


def test_a_draft_can_still_be_changed_and_publishing_still_retires_the_previous_version(
    published: RuleSet, knowledge_base: Any
) -> None:
    draft = RuleSet.objects.create(version="0.0.1-draft", checksum="x", content={})
    with connection.cursor() as cursor:  # a draft is not frozen, in the database either
        cursor.execute(f"UPDATE {table(RuleSet)} SET notes = 'still editing' WHERE id = %s", [draft.pk])
        cursor.execute(f"DELETE FROM {table(RuleSet)} WHERE id = %s", [draft.pk])
    newer = dataclasses.replace(knowledge_base, version="99.0.0", checksum="newer")
    rule_set = services.ruleset_publish(knowledge_base=newer)

    assert rule_set is not None and rule_set.status == RuleSet.Status.PUBLISHED
    published.refresh_from_db()
    assert published.status == RuleSet.Status.RETIRED  # the one change a published set may take
    refused(sql(f"UPDATE {table(RuleSet)} SET status = 'draft' WHERE id = %s", published.pk), "published")


def test_the_triggers_are_in_place_after_migrating(db: None) -> None:
    # A future migration that rebuilds one of these tables on SQLite drops its triggers with it.
    with connection.cursor() as cursor:
        if POSTGRES:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'netcare_%%'")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'netcare_%'")
        names = {row[0] for row in cursor.fetchall()}
    assert names == {f"netcare_{name}_immutable" for name in IMMUTABLE_TABLES}
