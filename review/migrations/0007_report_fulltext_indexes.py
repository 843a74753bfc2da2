"""GIN indexes for the coordinators' full-text search (review.selectors.report_list), one
per language configuration, on the very expression Django's SearchVector("text",
config=…) produces, so PostgreSQL uses them. SQLite (the demo) has no such index and
searches by substring instead."""

from django.db import migrations

INDEXES = {
    "review_report_text_fts_fr": ("french", "fr"),
    "review_report_text_fts_en": ("english", "en"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (config, language) in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON review_report USING gin "
            f"(to_tsvector('{config}'::regconfig, COALESCE(text, ''))) "
            f"WHERE language = '{language}'"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("review", "0006_report_tags")]
    operations = [migrations.RunPython(create, drop)]
