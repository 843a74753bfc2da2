"""The default sampling frame and the two default prompt templates (fr, en), seeded once.

Before, the launch form and the frames page created them on GET; a read must not write.
The data comes from the versioned files of this release (frame JSON, DEFAULT_PROMPTS):
a later release changes them by adding a new version, never by editing version 1.
"""

from django.db import migrations

from generation.frame_format import default_frame_data
from generation.output import OUTPUT_SCHEMA_VERSION
from generation.prompts import DEFAULT_PROMPTS


def forward(apps, schema_editor):
    SamplingFrame = apps.get_model("generation", "SamplingFrame")
    PromptTemplate = apps.get_model("generation", "PromptTemplate")
    data = default_frame_data()
    SamplingFrame.objects.get_or_create(
        name=data["name"],
        version=data["version"],
        defaults={"title": data.get("title", ""), "data": data, "sources": data["sources"]},
    )
    for language, spec in DEFAULT_PROMPTS.items():
        PromptTemplate.objects.get_or_create(
            name=spec["name"],
            version=1,
            defaults={
                "language": language,
                "system_template": spec["system"],
                "user_template": spec["user"],
                "output_schema_version": OUTPUT_SCHEMA_VERSION,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("generation", "0001_initial")]

    # Backward leaves the rows: batches may already point at them (PROTECT).
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
