"""Parsing and validating uploads (pure functions over bytes, no database)."""

import io
import json
import zipfile

from review.imports.parsing import ImportLimits, ImportOptions, parse_upload, read_txt_folder

LIMITS = ImportLimits(max_report_chars=2000, max_upload_bytes=1_000_000)
FRENCH = (
    "Évolution favorable, l\u2019état s\u2019améliore. Œdème régressif. Cœur régulier à 72/min."
)


def zip_bytes(members: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_zip_of_txt_files_gives_one_record_per_file_with_external_id():
    data = zip_bytes(
        {
            "export/CR_001.txt": b"Motif : bilan.\r\nConclusion : stable.\r\n",
            "export/CR_002.txt": FRENCH.encode("cp1252"),
            "__MACOSX/._CR_001.txt": b"\x00\x05junk",
            "export/": b"",
        }
    )
    result = parse_upload(data, file_name="cr.zip", limits=LIMITS)
    assert result.problems == []
    assert [(r.location, r.external_id, r.text) for r in result.records] == [
        ("file export/CR_001.txt", "export/CR_001", "Motif : bilan.\nConclusion : stable."),
        ("file export/CR_002.txt", "export/CR_002", FRENCH),
    ]
    assert result.encoding == "mixed: cp1252, utf-8"


def test_zip_path_traversal_and_non_txt_rejected():
    data = zip_bytes({"../evil.txt": b"x", "/abs.txt": b"y", "ok.txt": b"fine", "a.pdf": b"%PDF"})
    result = parse_upload(data, file_name="cr.zip", limits=LIMITS)
    assert [str(p) for p in result.problems] == [
        "file ../evil.txt: unsafe path (absolute or '..')",
        "file /abs.txt: unsafe path (absolute or '..')",
        "file a.pdf: not a .txt file",
    ]


def test_zip_bomb_rejected_by_ratio_and_member_count():
    bomb = zip_bytes({"big.txt": b"a" * 5_000_000})
    result = parse_upload(bomb, file_name="b.zip", limits=LIMITS)
    assert len(result.problems) == 1
    assert "looks like a ZIP bomb" in str(result.problems[0])
    many = zip_bytes({f"r{i}.txt": b"t" for i in range(12)})
    result = parse_upload(many, file_name="m.zip", limits=ImportLimits(max_archive_members=10))
    assert [str(p) for p in result.problems] == [
        "the archive holds 12 entries, over the limit of 10"
    ]


def test_zip_total_uncompressed_limit():
    data = zip_bytes({f"r{i}.txt": f"rapport {i} ".encode() * 100 for i in range(3)})
    result = parse_upload(data, file_name="t.zip", limits=ImportLimits(max_uncompressed_bytes=2048))
    assert [str(p) for p in result.problems] == [
        "the archive expands to 3,000 bytes, over the limit of 2,048"
    ]


def test_csv_semicolon_cp1252_with_chosen_column_and_metadata():
    rows = (
        'id;service;compte_rendu\r\n1;onco;"Ligne un\r\nligne deux"\r\n2;pneumo;' + FRENCH + "\r\n"
    )
    result = parse_upload(
        rows.encode("cp1252"),
        file_name="export.csv",
        options=ImportOptions(text_column="compte_rendu"),
        limits=LIMITS,
    )
    assert result.problems == []
    assert result.encoding == "cp1252"
    assert [(r.location, r.external_id, r.metadata, r.text) for r in result.records] == [
        ("line 2", "1", {"service": "onco"}, "Ligne un\nligne deux"),
        ("line 4", "2", {"service": "pneumo"}, FRENCH),
    ]


def test_csv_unknown_column_lists_columns():
    result = parse_upload(
        b"a,b\n1,2\n", file_name="x.csv", options=ImportOptions(text_column="texte"), limits=LIMITS
    )
    assert [str(p) for p in result.problems] == [
        "line 1: no column named 'texte'; the columns are: a, b"
    ]


def test_csv_every_bad_record_reported_with_line():
    long_text = "x" * 2001
    data = (
        "text,site\n"
        '"Bon rapport.",sein\n'
        '"",poumon\n'
        f'"{long_text}",colon\n'
        '"Bon rapport.",sein\n'
        "trop,de,champs\n"
    ).encode()
    result = parse_upload(data, file_name="x.csv", limits=LIMITS)
    assert [str(p) for p in result.problems] == [
        "line 6: 3 fields where the header has 2",
        "line 3: empty text",
        "line 4: text of 2,001 characters, over the limit of 2,000",
        "line 5: same text as line 2",
    ]


def test_jsonl_with_optional_fields_and_errors():
    lines = [
        json.dumps({"text": "Rapport A.", "id": 7, "language": "en", "site": "breast"}),
        "",
        json.dumps({"text": "Rapport B.", "metadata": {"stage": "II"}}),
        "{not json",
        json.dumps({"texte": "mauvaise clé"}),
        json.dumps(["list"]),
    ]
    result = parse_upload("\n".join(lines).encode(), file_name="r.jsonl", limits=LIMITS)
    assert [str(p) for p in result.problems] == [
        "line 4: not valid JSON (Expecting property name enclosed in double quotes)",
        'line 5: no "text" string',
        "line 6: not a JSON object",
    ]
    assert [(r.external_id, r.language, r.metadata) for r in result.records] == [
        ("7", "en", {"site": "breast"}),
        ("", None, {"stage": "II"}),
    ]


def test_jsonl_crlf_and_bom_normalised():
    data = b"\xef\xbb\xbf" + json.dumps({"text": "Un\r\ndeux\rtrois  "}).encode() + b"\r\n"
    result = parse_upload(data, file_name="r.jsonl", limits=LIMITS)
    assert result.problems == []
    assert result.records[0].text == "Un\ndeux\ntrois"


def test_upload_over_size_limit_refused_with_clear_message():
    result = parse_upload(
        b"x" * 3000, file_name="r.csv", limits=ImportLimits(max_upload_bytes=2048)
    )
    assert [str(p) for p in result.problems] == [
        "the file is 0.0 MB, over the upload limit of 0 MB (IMPORT_MAX_UPLOAD_BYTES); "
        "split it into smaller files"
    ]


def test_unknown_format_and_encoding_refused():
    assert [str(p) for p in parse_upload(b"x", file_name="a.pdf", limits=LIMITS).problems] == [
        "unknown format: choose txt (a ZIP of .txt files), csv or jsonl"
    ]
    result = parse_upload(
        b"x", file_name="a.txt", options=ImportOptions(encoding="utf-16"), limits=LIMITS
    )
    assert [str(p) for p in result.problems] == [
        "encoding 'utf-16' is not supported (use utf-8, cp1252, latin-1, iso-8859-15)"
    ]


def test_folder_of_txt_files(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "CR1.txt").write_bytes(FRENCH.encode("cp1252"))
    (tmp_path / "CR2.txt").write_text("Deuxième.", encoding="utf-8")
    (tmp_path / ".DS_Store").write_bytes(b"\x00")
    files, problems = read_txt_folder(tmp_path, limits=LIMITS)
    assert problems == []
    assert [name for name, _data in files] == ["CR2.txt", "a/CR1.txt"]
