"""python manage.py export_study STUDY --out DIR

Writes every export of a stored study (STUDY = id or code): ratings.csv, the figure CSVs,
results.json, the SVG plots, dataset.jsonl and dataset-card.md, and study.json, the
complete bundle `import_study` rebuilds the study from (review/backup.py). For an
annotation audit study, also the audit's files, byte for byte those of the coordinator's
downloads (review/audit_study/export_files.py): S-…-<table>.csv, S-…-verified.jsonl,
S-…-verified.zip (JSONL, BRAT, BIO, card) and S-…-verified-card.md.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from review import exports, services
from review.audit_study.export_files import audit_files
from review.backup import study_bundle
from review.models import Study
from review.results import RATING_FIELDS, study_ratings_rows, study_results


class Command(BaseCommand):
    help = "Write all exports (CSV, plots, annotated dataset, dataset card) of a study."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("study", help="study id or code (S-…)")
        parser.add_argument("--out", type=Path, required=True, help="directory for the files")

    def handle(self, *args, **options) -> None:
        key: str = options["study"]
        lookup = {"pk": int(key)} if key.isdigit() else {"code": key.upper()}
        study = Study.objects.filter(**lookup).first()
        if study is None:
            raise CommandError(f"No study with id or code '{key}'.")
        out: Path = options["out"]
        if out.exists() and not out.is_dir():
            raise CommandError(f"{out} exists and is not a directory.")
        results = study_results(study=study)
        files = exports.figure_files(
            results.figures, results.plots, labels=results.domain_labels, title=study.name
        )
        files["dataset-card.md"] = exports.dataset_card(
            study=study, figures=results.figures, domain_labels=results.domain_labels
        )
        files["study.json"] = json.dumps(study_bundle(study=study), ensure_ascii=False, indent=1)
        out.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            (out / name).write_text(content, encoding="utf-8")
        with (out / "ratings.csv").open("w", encoding="utf-8", newline="") as handle:
            rows = study_ratings_rows(study=study).iterator(chunk_size=2000)
            handle.writelines(exports.csv_lines(RATING_FIELDS, rows))
        with (out / "dataset.jsonl").open("w", encoding="utf-8") as handle:
            handle.writelines(exports.dataset_lines(study=study))
        written = len(files) + 2
        if study.kind == Study.Kind.ANNOTATION_AUDIT:
            audit = audit_files(study=study)
            for name, data in audit.items():
                (out / name).write_bytes(data)
            written += len(audit)
        services.audit_log(actor=None, action="export.study", study=study, target=str(out))
        self.stdout.write(f"Wrote {written} files for {study.code} to {out}.")
