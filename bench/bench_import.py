"""Import throughput: N reports with placeholders, as JSONL, previewed then committed.

Run: DEBUG=true PYTHONPATH=. DATABASE_URL=postgres://… python bench/bench_import.py [N]
Writes real rows (one ReportImport and N reports) into the configured database.
"""

import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synthreports.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

from review.services_import import report_import_commit, report_import_preview  # noqa: E402

TEMPLATE = (
    "COMPTE RENDU D'HOSPITALISATION - [HOPITAL]\n\nMme [PRENOM] [NOM], née le [DDN], "
    "hospitalisée du 03/02/2021 au 10/02/2021 dans le service du Dr [MEDECIN].\n\n"
    "MOTIF D'HOSPITALISATION :\nBilan d'une altération de l'état général, dossier {i}.\n\n"
    "ANTÉCÉDENTS :\n- HTA\n- Diabète de type 2\n\nCONCLUSION :\nÉvolution favorable. "
    "Revue en consultation le [DATE] à [VILLE], tél. [TEL].\n"
)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    data = "\n".join(
        json.dumps({"text": TEMPLATE.format(i=i), "id": f"B{i}"}) for i in range(count)
    )
    raw = data.encode("utf-8")
    user = get_user_model().objects.filter(groups__name="coordinator").first()
    started = time.perf_counter()
    preview = report_import_preview(data=raw, file_name="bench.jsonl")
    previewed = time.perf_counter()
    assert not preview.problems, preview.problems[:3]
    report_import_commit(data=raw, file_name="bench.jsonl", created_by=user)
    committed = time.perf_counter()
    print(
        f"{count} reports, {len(raw) / 1e6:.1f} MB, {preview.replacement_count} replacements: "
        f"preview {previewed - started:.1f} s ({count / (previewed - started):.0f}/s), "
        f"commit {committed - previewed:.1f} s ({count / (committed - previewed):.0f}/s)"
    )


if __name__ == "__main__":
    main()
