"""Accent-insensitive full-text search for coordinators (review.selectors.report_list).

PostgreSQL's `unaccent` extension (trusted since PostgreSQL 13: a database owner may create
it) and two text search configurations copied from the built-in ones, whose words with
non-ASCII letters go through `unaccent` before the snowball stemmer, so "pemetrexed" finds
"pémétrexed" and the other way round:

    french_unaccent   = french  + unaccent before french_stem
    english_unaccent  = english + unaccent before english_stem

(the PostgreSQL manual's own recipe, "F.48 unaccent"). They complement the built-in
configurations rather than replace them: the French snowball stemmer knows accented
endings ("hospitalisée" → "hospitalis", as "hospitalisation"), which it no longer sees
once unaccent has run ("hospitalisee" → "hospitalise"), so the search matches either
(review.selectors._fulltext_match) and the GIN indexes of 0007 stay beside the two new
ones. SQLite (the demo) has none of this and searches by substring instead.
"""

from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations

CONFIGS = {
    "french_unaccent": ("french", "french_stem"),
    "english_unaccent": ("english", "english_stem"),
}
INDEXES = {
    "review_report_text_fts_unaccent_fr": ("french_unaccent", "fr"),
    "review_report_text_fts_unaccent_en": ("english_unaccent", "en"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (base, stemmer) in CONFIGS.items():
        schema_editor.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {name}")
        schema_editor.execute(f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = {base})")
        # asciiword and friends have no accent to remove; word, hword and hword_part are the
        # token types holding letters outside ASCII.
        schema_editor.execute(
            f"ALTER TEXT SEARCH CONFIGURATION {name} "
            f"ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {stemmer}"
        )
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
    for name in CONFIGS:
        schema_editor.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("review", "0009_merge_0006_judge_rating_0008_merge_20261130_1410")]
    # UnaccentExtension does nothing on SQLite (CreateExtension checks the vendor).
    operations = [UnaccentExtension(), migrations.RunPython(create, drop)]
