"""SQLite only (the demo): migration 0002's triggers on review_rating read review_assignment
and review_study, and SQLite refuses to rename a table while a trigger names one that is
missing, which is what Django does when it remakes review_assignment or review_study
(create new__…, copy, drop, rename). A migration that remakes either table on SQLite runs
`suspended()` first and `restored()` last. PostgreSQL alters tables in place: no-ops there.
(The loader skips this module: its name starts with "_".)"""

from importlib import import_module

from django.db import migrations

_TRIGGERS = import_module("review.migrations.0002_rating_score_within_study_scale")


def _drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in _TRIGGERS.SQLITE_BACKWARD:
            schema_editor.execute(statement)


def _create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in _TRIGGERS.SQLITE_FORWARD:
            schema_editor.execute(statement)


def suspended() -> migrations.RunPython:
    return migrations.RunPython(_drop, _create, elidable=False)


def restored() -> migrations.RunPython:
    return migrations.RunPython(_create, _drop, elidable=False)
