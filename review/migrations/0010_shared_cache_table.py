"""The database cache's table (settings.CACHE_TABLE), so that every `migrate` makes it:
the demo keeps its sessions and cached figures there when it has no Redis. It is made
whatever the configured cache, so switching to CACHE_BACKEND=database needs no other step.
The same columns as `manage.py createcachetable` gives a DatabaseCache."""

from django.conf import settings
from django.db import migrations, models


def _cache_model():
    class Meta:
        app_label = "review"
        db_table = settings.CACHE_TABLE
        apps = migrations.state.StateApps([], {})

    return type(
        "SharedCacheEntry",
        (models.Model,),
        {
            "__module__": __name__,
            "Meta": Meta,
            "cache_key": models.CharField(max_length=255, unique=True, primary_key=True),
            "value": models.TextField(),
            "expires": models.DateTimeField(db_index=True),
        },
    )


def cache_table_create(apps, schema_editor):
    if settings.CACHE_TABLE not in schema_editor.connection.introspection.table_names():
        schema_editor.create_model(_cache_model())


def cache_table_drop(apps, schema_editor):
    if settings.CACHE_TABLE in schema_editor.connection.introspection.table_names():
        schema_editor.delete_model(_cache_model())


class Migration(migrations.Migration):
    dependencies = [("review", "0009_merge_0006_judge_rating_0008_merge_20261130_1410")]

    operations = [migrations.RunPython(cache_table_create, cache_table_drop)]
