"""Create the four role groups (clinician, coordinator, rule_author, admin) with least privilege.

Later migrations add the permissions of models they introduce.
"""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

ROLE_PERMISSIONS = {
    "clinician": ["view_ruleset", "view_modality", "view_rule"],
    "coordinator": ["view_ruleset", "view_modality", "view_rule"],
    "rule_author": [
        "view_ruleset", "add_ruleset", "change_ruleset", "delete_ruleset",
        "view_modality", "add_modality", "change_modality", "delete_modality",
        "view_rule", "add_rule", "change_rule", "delete_rule",
        "view_auditevent",
    ],
    "admin": ["view_ruleset", "view_modality", "view_rule", "view_auditevent"],
}


def create_roles(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Permissions are normally created after migrate; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="treatments", codename__in=codenames))


def remove_roles(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLE_PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("treatments", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
