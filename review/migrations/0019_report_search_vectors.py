"""Report search vectors in a table of their own, filled after the insert (issue 21).

The four GIN expression indexes of 0007 and 0010 (`to_tsvector(config, text)` per language
and configuration) made PostgreSQL compute two vectors inside every insert into the report
table: 2.0 of the 3.3 s an import of 2,000 reports took. `ReportSearch` holds the same two
vectors per report, with a GIN index each, and `review.search_index` fills it after the
import commits (see there). The existing reports are indexed here.
"""

import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

OLD_INDEXES = {
    "review_report_text_fts_fr": ("french", "fr"),
    "review_report_text_fts_en": ("english", "en"),
    "review_report_text_fts_unaccent_fr": ("french_unaccent", "fr"),
    "review_report_text_fts_unaccent_en": ("english_unaccent", "en"),
}
# The same statement as review.search_index at the time of writing (a migration keeps its own).
BACKFILL = """
INSERT INTO review_reportsearch (report_id, stemmed, unaccented)
SELECT r.id,
       to_tsvector(CASE r.language WHEN 'fr' THEN 'french'::regconfig
                                   WHEN 'en' THEN 'english'::regconfig END, r.text),
       to_tsvector(CASE r.language WHEN 'fr' THEN 'french_unaccent'::regconfig
                                   WHEN 'en' THEN 'english_unaccent'::regconfig END, r.text)
FROM review_report r
WHERE r.language IN ('fr', 'en')
ON CONFLICT (report_id) DO NOTHING
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in OLD_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    for column in ("stemmed", "unaccented"):
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS review_reportsearch_{column} "
            f"ON review_reportsearch USING gin ({column})"
        )
    schema_editor.execute(BACKFILL)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (config, language) in OLD_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON review_report USING gin "
            f"(to_tsvector('{config}'::regconfig, COALESCE(text, ''))) "
            f"WHERE language = '{language}'"
        )


class Migration(migrations.Migration):
    dependencies = [("review", "0018_added_annotation_adjudication")]

    operations = [
        migrations.CreateModel(
            name="ReportSearch",
            fields=[
                (
                    "report",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search",
                        serialize=False,
                        to="review.report",
                    ),
                ),
                ("stemmed", django.contrib.postgres.search.SearchVectorField()),
                ("unaccented", django.contrib.postgres.search.SearchVectorField()),
            ],
        ),
        # The table's GIN indexes go with it on the way back (DeleteModel).
        migrations.RunPython(forward, backward),
    ]
