"""Version 2 of the default clinical knowledge base (later treatment lines, complication
frequencies, prostate PSA/Grade Group staging and EAU risk groups).

Databases migrated before this release hold version 1 only; version 1 stays (batches point
at it) and version 2 is added beside it, as a revision always is.
"""

from django.db import migrations


def forward(apps, schema_editor):
    import yaml

    from generation.clinical.knowledge import default_knowledge_text

    GuidelineVersion = apps.get_model("generation", "GuidelineVersion")
    text = default_knowledge_text()
    head = yaml.safe_load(text)
    GuidelineVersion.objects.get_or_create(
        name=head["name"],
        version=head["version"],
        defaults={"title": head.get("title", ""), "text": text},
    )


class Migration(migrations.Migration):
    dependencies = [("generation", "0008_merge_20261130_1434")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
