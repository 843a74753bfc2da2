"""Rebuild the demo's real stand-ins (`data/demo/reports.json`) from their export.

The stand-ins are written as a hospital export gives them (`data/demo/export.jsonl`: UTF-8
JSONL with Windows line endings, `[NOM] [PRENOM] [DDN] [DATE] <HOPITAL> Dr [MEDECIN]`
placeholders, some in capitals without accents) and go through the import's own parsing
and coherent surrogates (`review.imports`), seeded by each text, so the output is the same
on every run. `--check` only says whether the committed file is up to date (exit 1 if not).

    python manage.py demo_reports_build [--check]
"""

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from generation.management.commands.seed_demo import DEMO_EXPORT, DEMO_REPORTS
from review.imports.parsing import ImportLimits, ImportOptions, parse_upload
from review.imports.placeholders import placeholders_find, surrogates_apply
from review.surrogates import SurrogateGenerator


def demo_reports_from_export() -> str:
    """The JSON text of the stand-ins, as the import would store them."""
    parsed = parse_upload(
        DEMO_EXPORT.read_bytes(),
        file_name=DEMO_EXPORT.name,
        options=ImportOptions(language="fr"),
        limits=ImportLimits.from_settings(),
    )
    if parsed.problems:
        raise CommandError(f"{DEMO_EXPORT.name}: {parsed.problems}")
    generator = SurrogateGenerator(language="fr")
    rows = []
    for record in parsed.records:
        text = surrogates_apply(record.text, language="fr", generator=generator).text
        if placeholders_find(text):
            raise CommandError(f"{record.external_id}: placeholders left {placeholders_find(text)}")
        rows.append({"source": "real", "external_id": record.external_id, "text": text})
    return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"


class Command(BaseCommand):
    help = "Rebuild data/demo/reports.json from data/demo/export.jsonl (import + surrogates)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="only check it is up to date")

    def handle(self, *args, **options) -> None:
        built = demo_reports_from_export()
        if options["check"]:
            if DEMO_REPORTS.read_text(encoding="utf-8") != built:
                raise CommandError(f"{DEMO_REPORTS} is out of date: run demo_reports_build")
            self.stdout.write(f"{DEMO_REPORTS.name} is up to date.")
            return
        DEMO_REPORTS.write_text(built, encoding="utf-8")
        self.stdout.write(f"Wrote {len(json.loads(built))} reports to {DEMO_REPORTS}.")
