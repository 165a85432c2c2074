"""Immutability in the database itself (security review F15).

The models refuse to change or delete evaluations, audit events and published rule sets, but only
through the ORM: raw SQL, `_raw_delete` and `bulk_create(update_conflicts=True)` went around them.
These triggers refuse the same writes whoever sends them:

- evaluations and audit events: no UPDATE, no DELETE;
- rule sets: a draft changes freely; a published set may only be retired (its status, nothing
  else); a published or retired set cannot be deleted;
- modalities and rules: no UPDATE or DELETE while their rule set is published or retired.

PostgreSQL refuses UPDATE and DELETE. SQLite refuses UPDATE only: Django empties SQLite tables with
DELETE (`manage.py flush`, the teardown of transactional tests), which DELETE triggers would break;
there, deletion stays guarded by the ORM. TRUNCATE is not refused on PostgreSQL for the same
reason (it fires no row triggers): a production role should not own the tables or hold TRUNCATE.

A later migration that must change these rows on purpose drops and re-creates the triggers; on
SQLite, a migration that rebuilds one of these tables drops its triggers (tests/test_immutability.py
checks they are all in place).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

IMMUTABLE = {"evaluation": "evaluations are immutable", "auditevent": "the audit trail is append-only"}
KNOWLEDGE = ("modality", "rule")
FROZEN = "rows of a published rule set are read-only; publish a new version instead"

POSTGRES_FUNCTIONS = [
    """
    CREATE FUNCTION netcare_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% refused: %', TG_OP, TG_ARGV[0] USING ERRCODE = 'restrict_violation';
    END $$
    """,
    f"""
    CREATE FUNCTION netcare_ruleset_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        retired treatments_ruleset;
    BEGIN
        IF OLD.status = 'draft' THEN
            RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END IF;
        IF TG_OP = 'UPDATE' AND OLD.status = 'published' AND NEW.status = 'retired' THEN
            retired := NEW;
            retired.status := OLD.status;
            IF retired IS NOT DISTINCT FROM OLD THEN
                RETURN NEW;  -- retiring: the status is the one thing a published set may change
            END IF;
        END IF;
        RAISE EXCEPTION '% refused: rule set % is %: {FROZEN}', TG_OP, OLD.version, OLD.status
            USING ERRCODE = 'restrict_violation';
    END $$
    """,
    f"""
    CREATE FUNCTION netcare_knowledge_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM treatments_ruleset
            WHERE status <> 'draft'
              AND (id = OLD.rule_set_id OR (TG_OP = 'UPDATE' AND id = NEW.rule_set_id))
        ) THEN
            RAISE EXCEPTION '% refused: {FROZEN}', TG_OP USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END $$
    """,
]


def postgres_triggers() -> list[str]:
    statements = [
        f"CREATE TRIGGER netcare_{name}_immutable BEFORE UPDATE OR DELETE ON treatments_{name} "
        f"FOR EACH ROW EXECUTE FUNCTION netcare_refuse_change('{message}')"
        for name, message in IMMUTABLE.items()
    ]
    statements.append(
        "CREATE TRIGGER netcare_ruleset_immutable BEFORE UPDATE OR DELETE ON treatments_ruleset "
        "FOR EACH ROW EXECUTE FUNCTION netcare_ruleset_frozen()"
    )
    statements += [
        f"CREATE TRIGGER netcare_{name}_immutable BEFORE UPDATE OR DELETE ON treatments_{name} "
        "FOR EACH ROW EXECUTE FUNCTION netcare_knowledge_frozen()"
        for name in KNOWLEDGE
    ]
    return statements


_RULESET_COLUMNS = ("version", "title", "published_at", "published_by_id", "notes", "checksum", "content")


def sqlite_triggers() -> list[str]:
    statements = [
        f"CREATE TRIGGER netcare_{name}_immutable BEFORE UPDATE ON treatments_{name} "
        f"BEGIN SELECT RAISE(ABORT, 'UPDATE refused: {message}'); END"
        for name, message in IMMUTABLE.items()
    ]
    unchanged = " AND ".join(f"NEW.{column} IS OLD.{column}" for column in ("id", *_RULESET_COLUMNS))
    statements.append(
        "CREATE TRIGGER netcare_ruleset_immutable BEFORE UPDATE ON treatments_ruleset "
        f"WHEN OLD.status <> 'draft' AND NOT (OLD.status = 'published' AND NEW.status = 'retired' "
        f"AND {unchanged}) "
        f"BEGIN SELECT RAISE(ABORT, 'UPDATE refused: the rule set is published or retired: {FROZEN}'); END"
    )
    statements += [
        f"CREATE TRIGGER netcare_{name}_immutable BEFORE UPDATE ON treatments_{name} "
        "WHEN EXISTS (SELECT 1 FROM treatments_ruleset WHERE status <> 'draft' "
        "AND id IN (OLD.rule_set_id, NEW.rule_set_id)) "
        f"BEGIN SELECT RAISE(ABORT, 'UPDATE refused: {FROZEN}'); END"
        for name in KNOWLEDGE
    ]
    return statements


TRIGGER_NAMES = [f"netcare_{name}_immutable" for name in (*IMMUTABLE, "ruleset", *KNOWLEDGE)]


def create(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = POSTGRES_FUNCTIONS + postgres_triggers()
    elif vendor == "sqlite":
        statements = sqlite_triggers()
    else:
        return
    for statement in statements:
        schema_editor.execute(statement, params=None)  # no placeholders: % is the RAISE format


def drop(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for trigger, table in zip(TRIGGER_NAMES, (*IMMUTABLE, "ruleset", *KNOWLEDGE), strict=True):
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON treatments_{table}")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    if vendor == "postgresql":
        for function in ("netcare_refuse_change", "netcare_ruleset_frozen", "netcare_knowledge_frozen"):
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()")


class Migration(migrations.Migration):
    dependencies = [("treatments", "0007_meeting_packs")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
