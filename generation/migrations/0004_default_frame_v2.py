"""Version 2 of the default sampling frame (correlated attributes, corrected marginals).

Databases migrated before this release hold version 1 only; version 1 stays (batches point
at it) and version 2 is added beside it, as a revision always is.
"""

from django.db import migrations

from generation.frame_format import default_frame_data


def forward(apps, schema_editor):
    SamplingFrame = apps.get_model("generation", "SamplingFrame")
    data = default_frame_data()
    SamplingFrame.objects.get_or_create(
        name=data["name"],
        version=data["version"],
        defaults={"title": data.get("title", ""), "data": data, "sources": data["sources"]},
    )


class Migration(migrations.Migration):
    dependencies = [("generation", "0003_guideline_version")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
