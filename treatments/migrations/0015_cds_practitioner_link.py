"""Practitioner links (CDS_FEEDBACK_AUTO_REVIEW), and hook evaluations immutable in the database.

Like evaluations (migration 0008): PostgreSQL refuses every UPDATE of a hook evaluation, and the
DELETE of one linked to a case (the retention purge, `manage.py cds_purge`, deletes only unlinked
ones); SQLite refuses UPDATE only, because Django empties SQLite tables with DELETE.
"""

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

POSTGRES_FUNCTION = """
CREATE FUNCTION netcare_hook_evaluation_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'UPDATE refused: hook evaluations are immutable' USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.linked_case_id IS NOT NULL THEN
        RAISE EXCEPTION 'DELETE refused: a hook evaluation linked to a case is kept with the case'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
END $$
"""
POSTGRES_TRIGGER = (
    "CREATE TRIGGER netcare_hookevaluation_immutable BEFORE UPDATE OR DELETE ON treatments_hookevaluation "
    "FOR EACH ROW EXECUTE FUNCTION netcare_hook_evaluation_kept()"
)
SQLITE_TRIGGER = (
    "CREATE TRIGGER netcare_hookevaluation_immutable BEFORE UPDATE ON treatments_hookevaluation "
    "BEGIN SELECT RAISE(ABORT, 'UPDATE refused: hook evaluations are immutable'); END"
)


def create(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FUNCTION, params=None)
        schema_editor.execute(POSTGRES_TRIGGER, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_TRIGGER, params=None)


def drop(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS netcare_hookevaluation_immutable ON treatments_hookevaluation")
        schema_editor.execute("DROP FUNCTION IF EXISTS netcare_hook_evaluation_kept()")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS netcare_hookevaluation_immutable")


class Migration(migrations.Migration):

    dependencies = [
        ('treatments', '0014_room_outcomes_waivers_attendance'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='PractitionerLink',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('user_ref', models.CharField(help_text='As the EHR sends it, e.g. Practitioner/123.', max_length=255)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('client', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='practitioner_links', to='treatments.cdsclient')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('client', 'user_ref'), name='practitioner_link_once')],
            },
        ),
        migrations.RunPython(create, drop, elidable=False),
    ]
