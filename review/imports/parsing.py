"""Parsing and validating uploads of real reports: pure functions over bytes.

Three shapes arrive from hospital exports: a ZIP (or, from the command line, a folder) of
`.txt` files whose names become external ids, a CSV with one text column (the other
columns become metadata) and JSONL (`text` plus optional fields). Nothing here touches the
database; `review.imports.services` adds the duplicate check against stored reports and
writes everything in one transaction.

Every problem is collected, not just the first, each with the line or file it concerns,
so a coordinator can fix the export in one go.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.translation import gettext as _

from review.imports.encoding import TextDecodeError, encoding_check, encoding_summary, text_decode

if TYPE_CHECKING:
    import _csv  # a private module, needed only to name the reader type

FORMATS = ("txt", "csv", "jsonl")
LANGUAGES = ("fr", "en")
TEXT_COLUMN_GUESSES = ("text", "texte", "report", "compte_rendu", "contenu", "content")
ID_COLUMN_GUESSES = ("external_id", "id", "identifiant", "report_id", "filename", "file_name")
JSONL_ID_KEYS = ("external_id", "id")
# A member this much bigger than its compressed size is treated as a decompression bomb
# once it is also larger than this many bytes (ordinary text compresses 3 to 10 times).
BOMB_MIN_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ImportLimits:
    max_upload_bytes: int = 200 * 1024 * 1024
    max_report_chars: int = 100_000
    max_archive_members: int = 50_000
    max_uncompressed_bytes: int = 1024 * 1024 * 1024
    max_compression_ratio: int = 100

    @classmethod
    def from_settings(cls) -> ImportLimits:
        return cls(
            max_upload_bytes=settings.IMPORT_MAX_UPLOAD_BYTES,
            max_report_chars=settings.IMPORT_MAX_REPORT_CHARS,
            max_archive_members=settings.IMPORT_MAX_ARCHIVE_MEMBERS,
            max_uncompressed_bytes=settings.IMPORT_MAX_UNCOMPRESSED_BYTES,
            max_compression_ratio=settings.IMPORT_MAX_COMPRESSION_RATIO,
        )


@dataclass(frozen=True)
class ImportOptions:
    """What the coordinator chose for one upload, the same fields on the page's form, the
    API and the command line. Empty strings mean "guess": the format from the file name,
    the CSV columns from usual names, the encoding by detection. `language` applies to
    records that do not name their own. Plain strings, so that the page can keep the
    options in the session between preview and commit (`dataclasses.asdict` and back)."""

    file_format: str = ""
    text_column: str = ""
    id_column: str = ""
    encoding: str = ""
    language: str = "fr"


DEFAULT_OPTIONS = ImportOptions()


@dataclass(frozen=True)
class ImportProblem:
    location: str  # "line 12", "file cr/001.txt", or "" for the whole upload
    message: str

    def __str__(self) -> str:
        if not self.location:
            return self.message
        return _("%(location)s: %(message)s") % {
            "location": location_display(self.location),
            "message": self.message,
        }


_LOCATION = re.compile(r"^(line|file) (.+)$", re.DOTALL)


def location_display(location: str) -> str:
    """A problem location in the active language. Locations stay English in data (they are
    stored in report provenance) and are translated only when shown."""
    match = _LOCATION.match(location)
    if not match:
        return location
    kind, rest = match.groups()
    if kind == "line":
        return _("line %(line)s") % {"line": rest}
    return _("file %(name)s") % {"name": rest}


def _problem_order(problem: ImportProblem) -> tuple:
    """Whole-upload problems first, then lines in numeric order, then files by name with
    their numbers compared as numbers (cr/2.txt before cr/10.txt)."""
    match = _LOCATION.match(problem.location)
    if not match:
        return (0, (), problem.message)
    kind, rest = match.groups()
    pieces = tuple(
        (0, int(piece), "") if piece.isdigit() else (1, 0, piece)
        for piece in re.split(r"(\d+)", rest)
        if piece
    )
    return (1 if kind == "line" else 2, pieces, problem.message)


def problems_sorted(problems: list[ImportProblem]) -> list[ImportProblem]:
    return sorted(problems, key=_problem_order)


@dataclass
class ParsedRecord:
    location: str
    text: str
    external_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    language: str | None = None


@dataclass
class ParseResult:
    file_format: str
    encoding: str = ""
    records: list[ParsedRecord] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def format_guess(file_name: str) -> str | None:
    suffix = PurePosixPath(file_name.lower()).suffix
    return {
        ".zip": "txt",
        ".txt": "txt",
        ".csv": "csv",
        ".tsv": "csv",
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
    }.get(suffix)


def text_normalise(text: str) -> str:
    """Unicode NFC, Unix line endings, no trailing spaces, no leading/trailing blank lines."""
    text = unicodedata.normalize("NFC", text.replace("\ufeff", ""))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n ")


# --- .txt files (ZIP, folder or one file) ----------------------------------------------


def parse_txt_files(
    files: Iterable[tuple[str, bytes]], *, encoding: str = "", limits: ImportLimits
) -> ParseResult:
    """One report per file; the path without `.txt` becomes the external id."""
    result = ParseResult(file_format="txt")
    used = []
    for name, data in files:
        location = f"file {name}"
        # A character takes at most four bytes (UTF-8): more bytes than that cannot fit
        # under the character limit, so refuse before spending time decoding them.
        if len(data) > limits.max_report_chars * 4:
            result.problems.append(
                ImportProblem(
                    location,
                    _("over the size limit of %(limit)s characters")
                    % {"limit": f"{limits.max_report_chars:,}"},
                )
            )
            continue
        try:
            text, enc = text_decode(data, encoding=encoding)
        except TextDecodeError as exc:
            result.problems.append(ImportProblem(location, str(exc)))
            continue
        used.append(enc)
        external_id = (
            str(PurePosixPath(name).with_suffix("")) if name.lower().endswith(".txt") else name
        )
        result.records.append(
            ParsedRecord(location=location, text=text_normalise(text), external_id=external_id)
        )
    result.encoding = encoding_summary(used)
    return result


def _unsafe_member_name(name: str) -> bool:
    # Nothing is extracted to disk, but names become external ids, and a name escaping the
    # archive (also the Windows way, drive letter or backslashes) marks a crafted upload.
    normalised = name.replace("\\", "/")
    if normalised.startswith("/") or re.match(r"^[A-Za-z]:", normalised):
        return True
    return any(part == ".." for part in normalised.split("/"))


def _ignored_member(name: str) -> bool:
    # Archivers add these (macOS resource forks, hidden files); the export never holds them.
    parts = name.replace("\\", "/").split("/")
    return parts[0] == "__MACOSX" or any(part.startswith(".") for part in parts if part)


def _archive_refusal(infos: list[zipfile.ZipInfo], *, limits: ImportLimits) -> str | None:
    """Why the archive as a whole is refused before any member is read, if it is."""
    if len(infos) > limits.max_archive_members:
        return _("the archive holds %(count)s entries, over the limit of %(limit)s") % {
            "count": f"{len(infos):,}",
            "limit": f"{limits.max_archive_members:,}",
        }
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_uncompressed_bytes:
        return _("the archive expands to %(size)s bytes, over the limit of %(limit)s") % {
            "size": f"{declared:,}",
            "limit": f"{limits.max_uncompressed_bytes:,}",
        }
    return None


def _member_refusal(info: zipfile.ZipInfo, *, seen: set[str], limits: ImportLimits) -> str | None:
    """Why one .txt member is refused before reading it, if it is (records it as seen)."""
    name = info.filename
    if not name.lower().endswith(".txt"):
        return _("not a .txt file")
    if name in seen:
        return _("appears twice in the archive")
    seen.add(name)
    # Bit 0 of the general-purpose flags marks an encrypted member (ZIP APPNOTE 4.4.4).
    if info.flag_bits & 0x1:
        return _("encrypted; upload it unencrypted")
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > BOMB_MIN_BYTES and ratio > limits.max_compression_ratio:
        return _("compression ratio %(ratio)s:1 looks like a ZIP bomb") % {"ratio": f"{ratio:.0f}"}
    return None


def _member_read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, cap: int) -> bytes | str:
    """At most `cap + 1` bytes of one member, or why it cannot be read."""
    try:
        with archive.open(info) as member:
            return member.read(cap + 1)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, OSError, EOFError) as exc:
        return _("cannot be read from the archive (%(error)s)") % {"error": exc}


def parse_zip(data: bytes, *, encoding: str = "", limits: ImportLimits) -> ParseResult:
    """A ZIP of .txt files. Refused whole: path traversal names, too many members, declared
    or actual sizes over the limits, compression ratios typical of decompression bombs."""
    result = ParseResult(file_format="txt")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        result.problems.append(ImportProblem("", _("not a valid ZIP archive")))
        return result
    infos = archive.infolist()
    refusal = _archive_refusal(infos, limits=limits)
    if refusal:
        result.problems.append(ImportProblem("", refusal))
        return result
    members: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    read_total = 0
    for info in infos:
        location = f"file {info.filename}"
        # An unsafe name is reported even for a folder or a hidden file: it says the
        # archive was built to escape, which the coordinator should know.
        if _unsafe_member_name(info.filename):
            result.problems.append(ImportProblem(location, _("unsafe path (absolute or '..')")))
            continue
        if info.is_dir() or _ignored_member(info.filename):
            continue
        refusal = _member_refusal(info, seen=seen, limits=limits)
        if refusal:
            result.problems.append(ImportProblem(location, refusal))
            continue
        # Declared sizes can lie: read at most one byte past what the limits allow.
        content = _member_read(archive, info, cap=limits.max_report_chars * 4)
        if isinstance(content, str):
            result.problems.append(ImportProblem(location, content))
            continue
        read_total += len(content)
        if read_total > limits.max_uncompressed_bytes:
            result.problems.append(
                ImportProblem("", _("the archive expands past the uncompressed size limit"))
            )
            return result
        members.append((info.filename, content))
    parsed = parse_txt_files(members, encoding=encoding, limits=limits)
    parsed.problems[:0] = result.problems
    return parsed


def read_txt_folder(
    path: Path, *, limits: ImportLimits
) -> tuple[list[tuple[str, bytes]], list[ImportProblem]]:
    """The .txt files under a folder (command line), relative posix names, sorted."""
    files: list[tuple[str, bytes]] = []
    problems: list[ImportProblem] = []
    total = 0
    for file_path in sorted(path.rglob("*")):
        relative = file_path.relative_to(path).as_posix()
        if file_path.is_dir() or _ignored_member(relative):
            continue
        if file_path.is_symlink():
            problems.append(ImportProblem(f"file {relative}", "symbolic link; not followed"))
            continue
        if not relative.lower().endswith(".txt"):
            problems.append(ImportProblem(f"file {relative}", _("not a .txt file")))
            continue
        if len(files) >= limits.max_archive_members:
            problems.append(
                ImportProblem(
                    "",
                    _("more than %(limit)s files") % {"limit": f"{limits.max_archive_members:,}"},
                )
            )
            break
        with file_path.open("rb") as handle:
            content = handle.read(limits.max_report_chars * 4 + 1)
        total += len(content)
        if total > limits.max_upload_bytes:
            problems.append(
                ImportProblem(
                    "",
                    _("the folder holds more than %(limit)s bytes")
                    % {"limit": f"{limits.max_upload_bytes:,}"},
                )
            )
            break
        files.append((relative, content))
    return files, problems


# --- CSV ---------------------------------------------------------------------------------


def _delimiter_guess(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in (";", ",", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _column_pick(header: list[str], wanted: str, guesses: tuple[str, ...]) -> str | None:
    lowered = {name.strip().lower(): name for name in header}
    if wanted:
        return lowered.get(wanted.strip().lower())
    for guess in guesses:
        if guess in lowered:
            return lowered[guess]
    return None


@dataclass(frozen=True)
class _CsvColumns:
    header: list[str]
    text: str
    external_id: str | None


def _csv_columns(
    header: list[str], *, text_column: str, id_column: str
) -> _CsvColumns | ImportProblem:
    """The text and id columns of a header, or the problem with it (always on line 1)."""
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        return ImportProblem(
            "line 1", _("repeated column names: %(names)s") % {"names": ", ".join(duplicates)}
        )
    chosen = _column_pick(header, text_column, TEXT_COLUMN_GUESSES)
    if chosen is None:
        what = (
            _("no column named %(column)r") % {"column": text_column}
            if text_column
            else _("no text column chosen")
        )
        return ImportProblem(
            "line 1",
            _("%(problem)s; the columns are: %(columns)s")
            % {"problem": what, "columns": ", ".join(header)},
        )
    id_name = _column_pick(header, id_column, ID_COLUMN_GUESSES)
    if id_column and id_name is None:
        return ImportProblem("line 1", _("no column named %(column)r") % {"column": id_column})
    return _CsvColumns(header=header, text=chosen, external_id=id_name)


def _csv_rows(reader: _csv.Reader, columns: _CsvColumns, result: ParseResult) -> None:
    """Append a record per data row to `result`, or a problem naming the row's line."""
    header = columns.header
    text_index = header.index(columns.text)
    while True:
        # A quoted field may span lines: the row starts on the line after the last read.
        start_line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # The reader cannot resynchronise after a malformed quote: stop at the first.
            result.problems.append(
                ImportProblem(f"line {start_line}", _("malformed CSV (%(error)s)") % {"error": exc})
            )
            break
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            result.problems.append(
                ImportProblem(
                    f"line {start_line}",
                    _("%(count)d fields where the header has %(expected)d")
                    % {"count": len(row), "expected": len(header)},
                )
            )
            continue
        values = dict(zip(header, row, strict=True))
        id_name = columns.external_id
        metadata = {
            name: value for name, value in values.items() if name not in (columns.text, id_name)
        }
        result.records.append(
            ParsedRecord(
                location=f"line {start_line}",
                text=text_normalise(row[text_index]),
                external_id=values[id_name].strip() if id_name else "",
                metadata=metadata,
            )
        )


def parse_csv(
    data: bytes,
    *,
    text_column: str = "",
    id_column: str = "",
    encoding: str = "",
    limits: ImportLimits,
) -> ParseResult:
    """A CSV (comma, semicolon, tab or pipe separated, detected from the header line) with
    one text column; an id column becomes the external id and the others metadata."""
    result = ParseResult(file_format="csv")
    try:
        text, result.encoding = text_decode(data, encoding=encoding)
    except TextDecodeError as exc:
        result.problems.append(ImportProblem("", str(exc)))
        return result
    text = text.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n")
    delimiter = _delimiter_guess(text.split("\n", 1)[0])
    # csv refuses fields over 128 KiB by default; a report may be longer, up to the limit.
    csv.field_size_limit(max(csv.field_size_limit(), limits.max_report_chars * 4 + 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        result.problems.append(ImportProblem("", _("the file is empty")))
        return result
    except csv.Error as exc:
        result.problems.append(
            ImportProblem("line 1", _("unreadable header (%(error)s)") % {"error": exc})
        )
        return result
    columns = _csv_columns(header, text_column=text_column, id_column=id_column)
    if isinstance(columns, ImportProblem):
        result.problems.append(columns)
        return result
    _csv_rows(reader, columns, result)
    return result


# --- JSONL -------------------------------------------------------------------------------


def parse_jsonl(data: bytes, *, encoding: str = "", limits: ImportLimits) -> ParseResult:
    """One JSON object per line: `text`, optional `external_id`/`id`, `language`,
    `metadata` (an object); any other key joins the metadata."""
    result = ParseResult(file_format="jsonl")
    try:
        text, result.encoding = text_decode(data, encoding=encoding)
    except TextDecodeError as exc:
        result.problems.append(ImportProblem("", str(exc)))
        return result
    lines = text.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # A JSON array is the usual mistake: one clear message rather than one per line.
    if text.lstrip().startswith("["):
        result.problems.append(
            ImportProblem(
                "line 1",
                _("a JSON array; JSONL needs one JSON object per line"),
            )
        )
        return result
    for number, line in enumerate(lines, start=1):
        location = f"line {number}"
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            result.problems.append(
                ImportProblem(location, _("not valid JSON (%(error)s)") % {"error": exc.msg})
            )
            continue
        except RecursionError:
            result.problems.append(ImportProblem(location, _("JSON nested too deeply")))
            continue
        if not isinstance(obj, dict):
            result.problems.append(ImportProblem(location, _("not a JSON object")))
            continue
        body = obj.get("text")
        if not isinstance(body, str):
            result.problems.append(ImportProblem(location, _('no "text" string')))
            continue
        language = obj.get("language")
        if language is not None and language not in LANGUAGES:
            result.problems.append(
                ImportProblem(
                    location,
                    _("language must be one of %(choices)s") % {"choices": ", ".join(LANGUAGES)},
                )
            )
            continue
        metadata = obj.get("metadata", {})
        if not isinstance(metadata, dict):
            result.problems.append(ImportProblem(location, _('"metadata" must be an object')))
            continue
        # 0 is a valid id: only a missing or empty one falls through to the next key.
        external = next((obj[key] for key in JSONL_ID_KEYS if obj.get(key) not in (None, "")), "")
        extra = {
            key: value
            for key, value in obj.items()
            if key not in ("text", "language", "metadata", *JSONL_ID_KEYS)
        }
        result.records.append(
            ParsedRecord(
                location=location,
                text=text_normalise(body),
                external_id=str(external),
                metadata={**metadata, **extra},
                language=language,
            )
        )
    return result


# --- whole uploads -----------------------------------------------------------------------


# PostgreSQL stores neither in text or jsonb: a NUL ends a C string, a lone surrogate is not
# UTF-8. Caught here, so that a preview that passes never fails at commit.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
EXTERNAL_ID_MAX_CHARS = 255  # Report.external_id


def _unstorable(text: str) -> bool:
    # An ASCII string (a flag CPython keeps: no scan) holds no surrogate, and `in` finds a
    # NUL with memchr: the scan by `re` took ~25 µs for each English report of an upload.
    if text.isascii():
        return "\x00" in text
    return _UNSTORABLE.search(text) is not None


def _unstorable_value(value: Any, where: str, depth: int = 0) -> str | None:
    """The first part of a record PostgreSQL would refuse, described, or None."""
    if depth > 32:
        return _("%(field)s is nested too deeply") % {"field": where}
    if isinstance(value, str):
        if _unstorable(value):
            return _(
                "%(field)s contains a NUL or invalid (lone surrogate) character, which "
                "cannot be stored"
            ) % {"field": where}
    elif isinstance(value, float) and not math.isfinite(value):
        return _("%(field)s is %(value)s, which JSON storage refuses") % {
            "field": where,
            "value": value,
        }
    elif isinstance(value, dict):
        for key, item in value.items():
            label = f"{where} key" if _unstorable(str(key)) else f"{where}.{key}"
            problem = _unstorable_value(str(key), label, depth + 1) or _unstorable_value(
                item, f"{where}.{key}", depth + 1
            )
            if problem:
                return problem
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problem = _unstorable_value(item, f"{where}[{index}]", depth + 1)
            if problem:
                return problem
    return None


def _record_unstorable(record: ParsedRecord) -> str | None:
    if len(record.external_id) > EXTERNAL_ID_MAX_CHARS:
        return _("the id is longer than %(n)d characters") % {"n": EXTERNAL_ID_MAX_CHARS}
    return (
        _unstorable_value(record.text, "text")
        or _unstorable_value(record.external_id, "id")
        or _unstorable_value(record.metadata, "metadata")
    )


def records_validate(records: list[ParsedRecord], *, limits: ImportLimits) -> list[ImportProblem]:
    """Empty texts, texts over the size limit, values the database cannot store, and
    duplicates inside the upload."""
    problems = []
    first_seen: dict[str, str] = {}
    for record in records:
        unstorable = _record_unstorable(record)
        if unstorable:
            problems.append(ImportProblem(record.location, unstorable))
            continue
        if not record.text.strip():
            problems.append(ImportProblem(record.location, _("empty text")))
            continue
        if len(record.text) > limits.max_report_chars:
            problems.append(
                ImportProblem(
                    record.location,
                    _("text of %(size)s characters, over the limit of %(limit)s")
                    % {"size": f"{len(record.text):,}", "limit": f"{limits.max_report_chars:,}"},
                )
            )
            continue
        digest = hashlib.sha256(record.text.encode("utf-8")).hexdigest()
        if digest in first_seen:
            problems.append(
                ImportProblem(
                    record.location,
                    _("same text as %(location)s")
                    % {"location": location_display(first_seen[digest])},
                )
            )
        else:
            first_seen[digest] = record.location
    return problems


def parse_upload(
    data: bytes,
    *,
    file_name: str,
    options: ImportOptions = DEFAULT_OPTIONS,
    limits: ImportLimits,
) -> ParseResult:
    """Parse and validate one uploaded file (everything but the database duplicate check)."""
    chosen_format = options.file_format or format_guess(file_name) or ""
    if chosen_format not in FORMATS:
        result = ParseResult(file_format=chosen_format)
        result.problems.append(
            ImportProblem("", _("unknown format: choose txt (a ZIP of .txt files), csv or jsonl"))
        )
        return result
    if len(data) > limits.max_upload_bytes:
        result = ParseResult(file_format=chosen_format)
        result.problems.append(ImportProblem("", upload_too_large_message(len(data), limits)))
        return result
    try:
        encoding = encoding_check(options.encoding)
    except ValueError as exc:
        result = ParseResult(file_format=chosen_format)
        result.problems.append(ImportProblem("", str(exc)))
        return result
    if chosen_format == "csv":
        result = parse_csv(
            data,
            text_column=options.text_column,
            id_column=options.id_column,
            encoding=encoding,
            limits=limits,
        )
    elif chosen_format == "jsonl":
        result = parse_jsonl(data, encoding=encoding, limits=limits)
    # The bytes decide: a ZIP is read as one whatever its name, and a file named .zip
    # that is not one is refused rather than read as a single report.
    elif zipfile.is_zipfile(io.BytesIO(data)):
        result = parse_zip(data, encoding=encoding, limits=limits)
    elif file_name.lower().endswith(".zip"):
        result = ParseResult(
            file_format="txt", problems=[ImportProblem("", _("not a valid ZIP archive"))]
        )
    else:
        result = parse_txt_files(
            [(PurePosixPath(file_name).name, data)], encoding=encoding, limits=limits
        )
    if not result.problems and not result.records:
        result.problems.append(ImportProblem("", _("no report found in the file")))
    # Record checks run even after parsing problems, so one answer lists every problem.
    result.problems.extend(records_validate(result.records, limits=limits))
    return result


def upload_too_large_message(size: int, limits: ImportLimits) -> str:
    return _(
        "the file is %(size)s MB, over the upload limit of %(limit)s MB "
        "(IMPORT_MAX_UPLOAD_BYTES); split it into smaller files"
    ) % {
        "size": f"{size / 1024 / 1024:,.1f}",
        "limit": f"{limits.max_upload_bytes / 1024 / 1024:,.0f}",
    }
