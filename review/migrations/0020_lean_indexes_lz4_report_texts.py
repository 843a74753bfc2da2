"""Fewer indexes to write, and report texts compressed with LZ4 (issue 21).

- Four foreign keys lose the index Django gives each: a composite unique constraint or
  index that starts with the same column serves every lookup by it (assignment.study:
  assignment_unique_position; assignment.reviewer: assign_queue; studyreport.study:
  studyreport_unique; rating.assignment: rating_unique). A study's opening wrote each of
  its 6,000 assignments into ten indexes.
- The report's content hash keeps its index but not the LIKE index (varchar_pattern_ops)
  `db_index` adds beside it: a hash is only ever matched whole.
- A report's text and original text (2,500 characters each in the benchmark) go to TOAST
  compressed; PostgreSQL's default pglz made compression most of the database's work in an
  import (the COPY of 2,000 reports: 0.15 s, 0.10 s with LZ4, bench/RESULTS.md). LZ4 needs
  PostgreSQL 14 or later built with it (Debian's, the official image): elsewhere the
  columns keep pglz. Values already stored stay as they are; both read back alike.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from review.migrations._sqlite_rating_triggers import restored, suspended

LZ4_COLUMNS = ("text", "original_text")


def _lz4_available(schema_editor) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _compression_set(schema_editor, method: str) -> None:
    if schema_editor.connection.vendor != "postgresql" or not _lz4_available(schema_editor):
        return
    columns = ", ".join(f"ALTER COLUMN {column} SET COMPRESSION {method}" for column in LZ4_COLUMNS)
    schema_editor.execute(f"ALTER TABLE review_report {columns}")


def lz4_texts(apps, schema_editor):
    _compression_set(schema_editor, "lz4")


def default_compression(apps, schema_editor):
    _compression_set(schema_editor, "default")


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0019_report_search_vectors"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # SQLite (the demo) remakes review_assignment to drop its indexes: see there.
        suspended(),
        migrations.AlterField(
            model_name="assignment",
            name="reviewer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="assignments",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="assignment",
            name="study",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="assignments",
                to="review.study",
            ),
        ),
        migrations.AlterField(
            model_name="rating",
            name="assignment",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="ratings",
                to="review.assignment",
            ),
        ),
        migrations.AlterField(
            model_name="report",
            name="content_hash",
            field=models.CharField(editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name="studyreport",
            name="study",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="memberships",
                to="review.study",
            ),
        ),
        migrations.AddIndex(
            model_name="report",
            index=models.Index(fields=["content_hash"], name="report_content_hash"),
        ),
        restored(),
        migrations.RunPython(lz4_texts, default_compression),
    ]
