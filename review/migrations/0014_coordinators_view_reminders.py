"""Coordinators may list the reminders sent (the admin's Reminder list, read-only)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def forward(apps, schema_editor):
    # Permissions are normally created after all migrations; create them now to assign them.
    review = apps.get_app_config("review")
    review.models_module = True
    create_permissions(review, verbosity=0, apps=apps)
    review.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    coordinators, _ = Group.objects.get_or_create(name="coordinator")
    coordinators.permissions.add(
        *Permission.objects.filter(content_type__app_label="review", codename="view_reminder")
    )


def backward(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="coordinator"):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="review", codename="view_reminder")
        )


class Migration(migrations.Migration):
    dependencies = [("review", "0013_historical_study_house_style")]
    operations = [migrations.RunPython(forward, backward)]
