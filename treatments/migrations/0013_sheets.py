"""Case sheets cached as PDFs, the pack's progress and appendix choice, and each modality's text
for patients.

On SQLite, adding the modality's columns rebuilds its table, which drops its immutability trigger
(migration 0008): it is created again here.
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

MODALITY_TRIGGER = (
    "CREATE TRIGGER netcare_modality_immutable BEFORE UPDATE ON treatments_modality "
    "WHEN EXISTS (SELECT 1 FROM treatments_ruleset WHERE status <> 'draft' "
    "AND id IN (OLD.rule_set_id, NEW.rule_set_id)) "
    "BEGIN SELECT RAISE(ABORT, 'UPDATE refused: rows of a published rule set are read-only; "
    "publish a new version instead'); END"
)


def modality_trigger_again(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS netcare_modality_immutable")
        schema_editor.execute(MODALITY_TRIGGER, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('treatments', '0012_cds_hooks'),
    ]

    operations = [
        migrations.AddField(
            model_name='meetingpack',
            name='appendix',
            field=models.BooleanField(default=False, help_text='Each sheet with the full rule detail.'),
        ),
        migrations.AddField(
            model_name='meetingpack',
            name='done',
            field=models.PositiveIntegerField(default=0, help_text="Case sheets made so far (the page's progress)."),
        ),
        migrations.AddField(
            model_name='modality',
            name='patient_page_url',
            field=models.URLField(blank=True, help_text="The NET unit's patient-information page about the option.", max_length=500),
        ),
        migrations.AddField(
            model_name='modality',
            name='patient_summary',
            field=models.TextField(blank=True, help_text='For patients, in plain English: what the option is and involves.'),
        ),
        migrations.CreateModel(
            name='CaseSheet',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=64, unique=True)),
                ('pages', models.PositiveSmallIntegerField()),
                ('pdf', models.BinaryField()),
                ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='treatments.case')),
                ('evaluation', models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='treatments.evaluation')),
            ],
        ),
        migrations.RunPython(modality_trigger_again, migrations.RunPython.noop, elidable=False),
    ]
