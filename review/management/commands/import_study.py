"""python manage.py import_study PATH [--as USERNAME]

Rebuilds a study from the study.json bundle that `export_study` writes (PATH: the file or
the export directory holding it), all or nothing. Reviewers and importers missing from
this database are created inactive, without a usable password: activate them after the
restore. See docs/README-reliability.md.
"""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from review.backup import study_restore
from review.exceptions import ServiceError


class Command(BaseCommand):
    help = "Rebuild a study (reports, panel, assignments, ratings) from export_study's study.json."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="study.json, or the export directory")
        parser.add_argument("--as", dest="username", default="", help="actor in the audit trail")

    def handle(self, *args, **options) -> None:
        path: Path = options["path"]
        if path.is_dir():
            path = path / "study.json"
        if not path.is_file():
            raise CommandError(f"{path} does not exist.")
        try:
            bundle = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"{path} is not JSON: {exc}") from None
        actor = None
        if options["username"]:
            actor = get_user_model().objects.filter(username=options["username"]).first()
            if actor is None:
                raise CommandError(f"No user '{options['username']}'.")
        try:
            study = study_restore(bundle=bundle, actor=actor)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise CommandError(f"{path}: malformed bundle ({exc!r}); nothing imported.") from None
        except DatabaseError as exc:
            # The restore is one transaction: the database's refusal (a constraint or a
            # trigger the bundle's rows break) left nothing behind. Only the rule's name is
            # shown: the error's detail may quote a row, and rows hold report text.
            rule = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
            raise CommandError(
                f"{path}: the database refused the bundle ({type(exc).__name__}"
                f"{f', {rule}' if rule else ''}); nothing imported."
            ) from None
        self.stdout.write(
            f"Restored {study.code} ({study.name}): {study.reports.count()} reports, "
            f"{study.assignments.count()} assignments."
        )
