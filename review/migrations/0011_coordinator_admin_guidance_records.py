"""Coordinators see the reviewer-guidance records in the admin: "cannot assess" flags and a
study's reports with their calibration references (view only), reviewers' text sizes."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = [
    "view_cannotassess",
    "view_studyreport",
    "view_reviewerpreference",
    "change_reviewerpreference",
]


def forward(apps, schema_editor):
    # Permissions are normally created after all migrations; create them now to assign them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    coordinators, _ = Group.objects.get_or_create(name="coordinator")
    coordinators.permissions.add(
        *Permission.objects.filter(content_type__app_label="review", codename__in=CODENAMES)
    )


def backward(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="coordinator"):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="review", codename__in=CODENAMES)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0010_reading_time_one_service"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forward, backward)]
