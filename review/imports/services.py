"""Importing real reports: preview, then commit all or nothing.

Both steps run the same preparation (parse, validate, replace placeholders by surrogates,
check duplicates against stored reports), so what the preview shows is what the commit
stores: surrogates are seeded by each report's own text.

Speed (issue 21): almost all of an import's CPU is regular-expression work on each report's
text, above all building its timeline (`review.timeline`: every date with its role, every
age). It is built once for the surrogates and once more for the coherence check of the
final text; the date shift builds one only when the report writes a year alone, and the
coherence check reuses the surrogates' timeline when no placeholder changed the text. The
patterns open with a look-ahead on their first characters, which lets `re` skip most
positions, and those that open with a number are tried only where a run of digits starts
(`timeline.finditer_at`: one scan of the text serves the date shift, the dates and the
ages). The commit inserts with COPY on PostgreSQL (`review.copy_insert`) and leaves the
full-text search vectors to a worker (`review.search_index`). A speed-up must leave the
prepared reports byte-identical: tests/review/imports/test_scan_prefilters.py holds each
rewritten scan to its previous definition.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils.translation import gettext as _

from review.coherence import report_coherence_check
from review.copy_insert import rows_insert
from review.exceptions import InvalidInput
from review.imports.parsing import (
    DEFAULT_OPTIONS,
    LANGUAGES,
    ImportLimits,
    ImportOptions,
    ImportProblem,
    file_sha256,
    parse_upload,
    problems_sorted,
)
from review.imports.placeholders import placeholders_find, surrogates_apply
from review.models import Report, ReportImport, report_code_new
from review.models import content_hash as text_content_hash
from review.search_index import reports_search_index_schedule
from review.services import audit_log
from review.surrogates import SurrogateGenerator

# Two imports of the same file at once must not both pass the duplicate check.
IMPORT_ADVISORY_LOCK = 5_170_001
PREVIEW_COUNT = 5
# Hashes per `IN (...)` lookup: large uploads are checked in a few bounded queries.
_CHUNK = 5000


class ImportRejected(InvalidInput):
    """The upload has problems; `problems` lists every one with its line or file."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        count = len(problems)
        super().__init__(
            _("The import was refused: %(n)d problem(s); nothing was imported.") % {"n": count},
            code="import_rejected",
        )
        self.problems = problems


@dataclass
class PreparedReport:
    location: str
    external_id: str
    text: str
    original_text: str
    language: str
    metadata: dict[str, Any]
    replacements: list[dict[str, Any]]
    date_offset_days: int | None
    leftover_placeholders: list[str]
    # What does not hold together after surrogates (ages, date order, agreement): shown in the
    # preview and kept in the provenance, so the audit can compare the sources on it.
    coherence: list[dict[str, str]] = field(default_factory=list)

    # Each is asked for by the duplicate check and again by the insert (and the provenance):
    # kept, as the texts never change once prepared.
    @cached_property
    def original_hash(self) -> str:
        return hashlib.sha256(self.original_text.encode("utf-8")).hexdigest()

    @cached_property
    def content_hash(self) -> str:
        return text_content_hash(self.text)


@dataclass
class ImportPreview:
    file_name: str
    file_hash: str
    file_size: int
    file_format: str
    encoding: str
    language: str
    reports: list[PreparedReport] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.reports)

    @property
    def first_reports(self) -> list[PreparedReport]:
        return self.reports[:PREVIEW_COUNT]

    @property
    def replacement_count(self) -> int:
        return sum(len(report.replacements) for report in self.reports)


# On PostgreSQL one array parameter per lookup: the ORM's `IN (...)` of 5,000 bound values
# took longer to compose and send than the index lookups took to run.
_BY_CONTENT_HASH_SQL = f"""
SELECT content_hash, code FROM {Report._meta.db_table} WHERE content_hash = ANY(%s)
"""  # noqa: S608 (the table name comes from the model; values are bound)
# `provenance -> 'original_hash'` as written in the index report_original_hash.
_BY_ORIGINAL_HASH_SQL = f"""
SELECT provenance ->> 'original_hash', code FROM {Report._meta.db_table}
WHERE (provenance -> 'original_hash') = ANY(%s::jsonb[])
"""  # noqa: S608 (the table name comes from the model; values are bound)


def _stored_with_hashes(
    *, content_hashes: list[str], original_hashes: list[str]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(hash, code) of the stored reports with one of these texts, then with one of these
    original (raw) texts."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_BY_CONTENT_HASH_SQL, [content_hashes])
            by_text = cursor.fetchall()
            cursor.execute(_BY_ORIGINAL_HASH_SQL, [[json.dumps(h) for h in original_hashes]])
            return by_text, cursor.fetchall()
    by_text = list(
        Report.objects.filter(content_hash__in=content_hashes).values_list("content_hash", "code")
    )
    by_original = list(
        Report.objects.filter(provenance__original_hash__in=original_hashes).values_list(
            "provenance__original_hash", "code"
        )
    )
    return by_text, by_original


def _existing_duplicates(reports: list[PreparedReport]) -> list[ImportProblem]:
    by_hash: dict[str, PreparedReport] = {}
    by_original: dict[str, PreparedReport] = {}
    for report in reports:
        by_hash.setdefault(report.content_hash, report)
        by_original.setdefault(report.original_hash, report)
    # The original text's hash too: with other placeholder rules or date-shift settings, the
    # same raw report imported again would get another surrogate text and pass unnoticed.
    problems = []
    seen: set[str] = set()  # one problem per report, even when both hashes match
    hashes, originals = list(by_hash), list(by_original)
    for start in range(0, max(len(hashes), len(originals)), _CHUNK):
        rows, original_rows = _stored_with_hashes(
            content_hashes=hashes[start : start + _CHUNK],
            original_hashes=originals[start : start + _CHUNK],
        )
        for lookup, found in ((by_hash, rows), (by_original, original_rows)):
            for digest, code in found:
                report = lookup[digest]
                if report.location not in seen:
                    seen.add(report.location)
                    problems.append(
                        ImportProblem(
                            report.location,
                            _("duplicate of existing report %(code)s") % {"code": code},
                        )
                    )
    return problems


def _prepare(
    *, data: bytes, file_name: str, options: ImportOptions, limits: ImportLimits | None
) -> ImportPreview:
    limits = limits or ImportLimits.from_settings()
    preview = ImportPreview(
        file_name=file_name,
        file_hash=file_sha256(data),
        file_size=len(data),
        file_format=options.file_format,
        encoding=options.encoding,
        language=options.language,
    )
    # The form, API and command restrict the choice already; this guards other callers.
    if options.language not in LANGUAGES:
        preview.problems.append(
            ImportProblem(
                "", _("language must be one of %(choices)s") % {"choices": ", ".join(LANGUAGES)}
            )
        )
        return preview
    parsed = parse_upload(data, file_name=file_name, options=options, limits=limits)
    preview.file_format = parsed.file_format
    preview.encoding = parsed.encoding
    # Parsing, in-upload duplicates and stored duplicates are found in separate passes;
    # the coordinator reads them in file order.
    preview.problems.extend(problems_sorted(parsed.problems))
    if preview.problems:
        return preview
    # One generator per language for the whole upload (building Faker is slow);
    # surrogates_apply reseeds it from each report's text, so reports stay independent.
    generators = {code: SurrogateGenerator(language=code) for code in LANGUAGES}
    for record in parsed.records:
        report_language = record.language or options.language
        result = surrogates_apply(
            record.text, language=report_language, generator=generators[report_language]
        )
        preview.reports.append(
            PreparedReport(
                location=record.location,
                external_id=record.external_id,
                text=result.text,
                original_text=record.text,
                language=report_language,
                metadata=record.metadata,
                replacements=result.replacements,
                date_offset_days=result.date_offset_days,
                leftover_placeholders=placeholders_find(result.text),
                coherence=[
                    asdict(problem)
                    for problem in report_coherence_check(
                        text=result.text, language=report_language, timeline=result.timeline
                    )
                ],
            )
        )
    preview.problems[:] = problems_sorted(
        [*preview.problems, *_existing_duplicates(preview.reports)]
    )
    return preview


def import_preview_dump(preview: ImportPreview) -> bytes:
    """A preview without problems as JSON, for the commit that follows it (see
    `report_import_commit`'s `prepared`)."""
    if preview.problems:
        raise ValueError("a preview with problems is never committed")
    return json.dumps(asdict(preview), ensure_ascii=False).encode("utf-8")


def import_preview_load(data: bytes) -> ImportPreview:
    fields = json.loads(data)
    reports = [PreparedReport(**report) for report in fields.pop("reports")]
    fields.pop("problems")
    return ImportPreview(**fields, reports=reports)


def report_import_preview(
    *,
    data: bytes,
    file_name: str,
    options: ImportOptions = DEFAULT_OPTIONS,
    limits: ImportLimits | None = None,
) -> ImportPreview:
    """Everything the commit would store, and every problem, without writing anything."""
    return _prepare(data=data, file_name=file_name, options=options, limits=limits)


def _codes_unique(count: int) -> list[str]:
    # Codes are random: draw until `count` are free, one query per round for those taken.
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(report_code_new())
        if len(codes) == count:
            codes -= Report.objects.ids_by_code(codes).keys()
    return list(codes)


def _import_lock() -> None:
    """Serialise imports until the transaction ends (PostgreSQL; SQLite writes one at a
    time anyway), so two uploads of one file cannot both pass the duplicate check."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_ADVISORY_LOCK])


def _import_record(
    *, preview: ImportPreview, file_name: str, created_by: User, options: ImportOptions
) -> ReportImport:
    return ReportImport.objects.create(
        created_by_id=created_by.pk,
        file_name=file_name[:255],
        file_hash=preview.file_hash,
        file_format=preview.file_format,
        encoding=preview.encoding[:32],
        report_count=preview.count,
        options={
            "text_column": options.text_column,
            "id_column": options.id_column,
            "encoding_chosen": options.encoding,
            "language": options.language,
            "size_bytes": preview.file_size,
            "placeholders_replaced": preview.replacement_count,
        },
    )


def _reports_create(*, preview: ImportPreview, report_import: ReportImport, file_name: str) -> None:
    codes = _codes_unique(preview.count)
    rows_insert(
        Report,
        fields=(
            "code",
            "text",
            "original_text",
            "source",
            "language",
            "external_id",
            "metadata",
            "provenance",
            "report_import_id",
            "content_hash",
        ),
        rows=(
            (
                code,
                prepared.text,
                prepared.original_text,
                Report.Source.REAL.value,
                prepared.language,
                prepared.external_id[:255],
                prepared.metadata,
                # What was replaced and the original's hash: a coordinator can trace a
                # report to its line, and a later upload of the raw text is still a duplicate.
                {
                    "kind": "import",
                    "import_id": report_import.pk,
                    "file_name": file_name,
                    "location": prepared.location,
                    "original_hash": prepared.original_hash,
                    "placeholders": prepared.replacements,
                    "date_offset_days": prepared.date_offset_days,
                    "coherence": prepared.coherence,
                },
                report_import.pk,
                prepared.content_hash,
            )
            for code, prepared in zip(codes, preview.reports, strict=True)
        ),
    )


def report_import_commit(
    *,
    data: bytes,
    file_name: str,
    created_by: User,
    options: ImportOptions = DEFAULT_OPTIONS,
    limits: ImportLimits | None = None,
    prepared: ImportPreview | None = None,
) -> ReportImport:
    """Import every report of the upload, or none: one transaction, and any problem
    (bad record, duplicate of a stored report) raises `ImportRejected` listing them all.

    `prepared` is the page's preview of these very bytes (the import page stores it with
    the upload): preparing is deterministic (each report's surrogates are seeded from its
    own text), so it is not done a second time, which halved the page's import. Without
    it, or when it is of other bytes, the upload is prepared here. Either way the check
    against stored reports is made again, under an advisory lock, so that two imports of
    one file cannot both pass it.
    """
    with transaction.atomic():
        _import_lock()
        if prepared is not None and prepared.file_hash == file_sha256(data):
            preview = prepared
            preview.problems = problems_sorted(_existing_duplicates(preview.reports))
        else:
            preview = _prepare(data=data, file_name=file_name, options=options, limits=limits)
        if preview.problems:
            raise ImportRejected(preview.problems)
        report_import = _import_record(
            preview=preview, file_name=file_name, created_by=created_by, options=options
        )
        _reports_create(preview=preview, report_import=report_import, file_name=file_name)
        # Their search vectors are computed by a worker after the commit: inside the insert
        # they were most of the import's time (review.search_index).
        reports_search_index_schedule()
        audit_log(
            actor=created_by,
            action="report.import",
            target=file_name[:120],
            details={
                "import_id": report_import.pk,
                "count": preview.count,
                "file_hash": preview.file_hash,
            },
        )
    return report_import
