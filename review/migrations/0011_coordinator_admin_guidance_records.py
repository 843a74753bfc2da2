"""Coordinators see the reviewer-guidance records in the admin: "cannot assess" flags and a
study's reports with their calibration references (view only), reviewers' text sizes."""

from django.db import migrations

from review.migrations._coordinator_permissions import coordinator_grant

CODENAMES = [
    "view_cannotassess",
    "view_studyreport",
    "view_reviewerpreference",
    "change_reviewerpreference",
]


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0010_reading_time_one_service"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    # Creates the permissions of every app first (0014 creates review's only).
    operations = [coordinator_grant(CODENAMES)]
