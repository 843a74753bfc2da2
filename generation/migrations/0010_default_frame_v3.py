"""Version 3 of the default sampling frame (p16-positive oropharyngeal cancers at the French
multicentre prevalence, PAPILLOPHAR 2019).

Databases migrated before this release keep versions 1 and 2 (batches point at them);
version 3 is added beside them, as a revision always is.
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
    dependencies = [("generation", "0009_default_guideline_v2")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
