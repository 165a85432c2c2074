"""Least privilege: the audit trail records case activity, which rule authors do not need to see."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def remove(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="rule_author").first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="treatments", codename="view_auditevent")
        )


def restore(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="rule_author").first()
    if group is not None:
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="treatments", codename="view_auditevent")
        )


class Migration(migrations.Migration):
    dependencies = [("treatments", "0003_mdt_workflow")]

    operations = [migrations.RunPython(remove, restore)]
