"""Reading time has one measure: the page's active milliseconds (`active_ms`), each visit
capped by the wall time since the page was served. The 15 s heartbeat's whole seconds
(`active_seconds`, `last_seen_at`) are gone; their figure is kept, converted, where a
report had no millisecond figure yet."""

from django.db import migrations, models
from django.db.models import F

from review.migrations._sqlite_rating_triggers import restored, suspended


def seconds_into_ms(apps, schema_editor):
    Assignment = apps.get_model("review", "Assignment")
    Assignment.objects.filter(active_ms=0, active_seconds__gt=0).update(
        active_ms=F("active_seconds") * 1000
    )


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0009_merge_0006_judge_rating_0008_merge_20261130_1410"),
    ]

    operations = [
        # SQLite (the demo) remakes the table: its rating triggers must not name a missing one.
        suspended(),
        migrations.RunPython(seconds_into_ms, migrations.RunPython.noop),
        migrations.RemoveField(model_name="assignment", name="active_seconds"),
        migrations.RemoveField(model_name="assignment", name="last_seen_at"),
        migrations.RenameField(
            model_name="assignment", old_name="reading_clock_at", new_name="reading_visit_at"
        ),
        migrations.AddField(
            model_name="assignment",
            name="reading_visit_ms",
            field=models.PositiveBigIntegerField(default=0),
        ),
        restored(),
    ]
