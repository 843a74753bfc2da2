"""Coordinators may list the reminders sent (the admin's Reminder list, read-only)."""

from django.db import migrations

from review.migrations._coordinator_permissions import coordinator_grant


class Migration(migrations.Migration):
    dependencies = [("review", "0013_historical_study_house_style")]
    operations = [coordinator_grant(["view_reminder"], create_for="review")]
