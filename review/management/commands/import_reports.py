"""Import real reports from a ZIP, a folder of .txt files, a CSV or a JSONL file."""

import io
import zipfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from review.imports.encoding import ENCODINGS
from review.imports.parsing import (
    FORMATS,
    LANGUAGES,
    ImportLimits,
    ImportOptions,
    file_sha256,
    read_txt_folder,
    upload_too_large_message,
)
from review.imports.services import (
    ImportPreview,
    ImportRejected,
    report_import_commit,
    report_import_preview,
)
from review.permissions import user_is_coordinator


def _folder_as_zip(files: list[tuple[str, bytes]]) -> bytes:
    """A folder is imported exactly like the ZIP of its .txt files (one code path)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, content in files:
            # A fixed timestamp keeps the recorded hash the same for the same folder.
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), content)
    return buffer.getvalue()


class Command(BaseCommand):
    help = (
        "Import real reports (all or nothing). PATH is a ZIP or folder of .txt files, a CSV "
        "or a JSONL file. Bad records are listed with their line or file; nothing is written "
        "and the exit status is 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--format", choices=FORMATS, default="", dest="file_format")
        parser.add_argument("--column", default="", help="CSV column holding the text")
        parser.add_argument("--id-column", default="", help="CSV column for the external id")
        parser.add_argument("--encoding", choices=("auto", *ENCODINGS), default="auto")
        parser.add_argument("--language", choices=LANGUAGES, default="fr")
        parser.add_argument("--user", default="", help="coordinator recorded as importer")
        parser.add_argument("--dry-run", action="store_true", help="check and preview only")

    def handle(self, *args, **options) -> None:
        path = Path(options["path"])
        limits = ImportLimits.from_settings()
        if path.is_dir():
            files, problems = read_txt_folder(path, limits=limits)
            if problems:
                self._fail(path, problems)
            data, file_name, file_format = _folder_as_zip(files), path.name + ".zip", "txt"
        elif path.is_file():
            size = path.stat().st_size
            if size > limits.max_upload_bytes:
                raise CommandError(f"{path}: {upload_too_large_message(size, limits)}")
            data, file_name, file_format = path.read_bytes(), path.name, options["file_format"]
        else:
            raise CommandError(f"{path}: no such file or folder")
        chosen = ImportOptions(
            file_format=file_format,
            text_column=options["column"],
            id_column=options["id_column"],
            # "auto" is the command line's word for detection (an empty encoding).
            encoding="" if options["encoding"] == "auto" else options["encoding"],
            language=options["language"],
        )
        if options["dry_run"]:
            preview = report_import_preview(
                data=data, file_name=file_name, options=chosen, limits=limits
            )
            if preview.problems:
                self._fail(path, preview.problems)
            self._summary(preview, prefix="Dry run, nothing written: ")
            return
        user = self._user(options["user"])
        try:
            report_import = report_import_commit(
                data=data, file_name=file_name, created_by=user, options=chosen, limits=limits
            )
        except ImportRejected as exc:
            self._fail(path, exc.problems)
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {report_import.report_count} reports from {file_name} "
                f"(import {report_import.pk}, encoding {report_import.encoding}, "
                f"sha256 {file_sha256(data)[:12]}…)."
            )
        )

    def _user(self, username: str):
        if not username:
            raise CommandError("--user USERNAME is required (the coordinator who imports).")
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user named {username!r}") from None
        if not user_is_coordinator(user):
            raise CommandError(f"{username} is not a coordinator")
        return user

    def _summary(self, preview: ImportPreview, *, prefix: str) -> None:
        self.stdout.write(
            f"{prefix}{preview.count} reports ({preview.file_format}, encoding "
            f"{preview.encoding}), {preview.replacement_count} placeholders and dates replaced."
        )

    def _fail(self, path: Path, problems) -> None:
        for problem in problems:
            self.stderr.write(f"{path}: {problem}")
        raise CommandError(f"{len(problems)} problem(s); nothing was imported.")
