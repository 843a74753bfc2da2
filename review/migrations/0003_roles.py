"""The two roles as Django groups: coordinators set up studies, reviewers rate."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

COORDINATOR_CODENAMES = [
    "coordinate",
    "add_study", "change_study", "view_study",
    "add_report", "change_report", "view_report",
    "view_reportimport", "view_assignment", "view_rating", "view_domain",
    "change_domain", "add_domain", "view_auditevent",
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
    reviewers, _ = Group.objects.get_or_create(name="reviewer")
    coordinators.permissions.set(
        Permission.objects.filter(content_type__app_label="review", codename__in=COORDINATOR_CODENAMES)
    )
    reviewers.permissions.set(
        Permission.objects.filter(content_type__app_label="review", codename="rate")
    )


def backward(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["coordinator", "reviewer"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0002_rating_score_within_study_scale"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forward, backward)]
