"""Batch names in synthetic reports' provenance, so composing a study lists batches by name
("Lung pilot (#3)") rather than by number. Reports generated before provenance carried
`batch_name` get their batch's current name; reports already carrying one keep it."""

from django.db import migrations


def forward(apps, schema_editor):
    Batch = apps.get_model("generation", "Batch")
    Report = apps.get_model("review", "Report")
    names = {str(pk): name for pk, name in Batch.objects.values_list("pk", "name")}
    for report in Report.objects.filter(source="synthetic").only("pk", "provenance").iterator():
        provenance = report.provenance or {}
        batch = str(provenance.get("batch", ""))
        if batch in names and not provenance.get("batch_name"):
            provenance["batch_name"] = names[batch]
            Report.objects.filter(pk=report.pk).update(provenance=provenance)


class Migration(migrations.Migration):
    dependencies = [
        ("generation", "0004_default_frame_v2"),
        ("review", "0007_report_fulltext_indexes"),
    ]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
