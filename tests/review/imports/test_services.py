"""Import services and the import_reports command, on PostgreSQL."""

import datetime as dt
import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command

from review.imports.parsing import ImportLimits, ImportOptions
from review.imports.services import (
    ImportRejected,
    report_import_commit,
    report_import_preview,
)
from review.models import AuditEvent, Report, ReportImport, content_hash
from tests.factories import ReportFactory

CSV_CP1252 = (
    "id;site;texte\r\n"
    'A1;sein;"Mme [NOM] revue le 12/03/2022.\r\nÉvolution favorable, l\u2019œdème régresse."\r\n'
    "A2;poumon;Patient suivi à [HOPITAL] pour un cancer bronchique.\r\n"
).encode("cp1252")
TEXTE = ImportOptions(text_column="texte")


def test_preview_writes_nothing_and_shows_surrogates(coordinator):
    preview = report_import_preview(
        data=CSV_CP1252,
        file_name="export.csv",
        options=ImportOptions(text_column="texte", language="fr"),
    )
    assert preview.problems == []
    assert preview.count == 2
    assert preview.encoding == "cp1252"
    first = preview.first_reports[0]
    assert first.original_text == (
        "Mme [NOM] revue le 12/03/2022.\nÉvolution favorable, l\u2019œdème régresse."
    )
    assert "[NOM]" not in first.text
    assert "Évolution favorable, l\u2019œdème régresse." in first.text
    assert Report.objects.count() == 0
    assert ReportImport.objects.count() == 0


def test_preview_reports_what_does_not_hold_together(coordinator):
    # A real date contradicting the stated age survives surrogates: the preview says so.
    text = "Monsieur [NOM], né le 03/05/1979, 66 ans, entré le 12/03/2024."
    data = json.dumps({"text": text}).encode()
    preview = report_import_preview(data=data, file_name="export.jsonl", options=ImportOptions())
    assert preview.problems == []
    [problem] = preview.reports[0].coherence
    assert problem["code"] == "age_mismatch"
    assert problem["detail"].startswith("stated age 66 but born ")


def test_commit_creates_reports_with_provenance(coordinator):
    preview = report_import_preview(data=CSV_CP1252, file_name="export.csv", options=TEXTE)
    report_import = report_import_commit(
        data=CSV_CP1252, file_name="export.csv", options=TEXTE, created_by=coordinator
    )
    assert report_import.report_count == 2
    assert report_import.created_by == coordinator
    assert report_import.file_format == "csv"
    assert report_import.encoding == "cp1252"
    assert len(report_import.file_hash) == 64
    reports = list(Report.objects.order_by("external_id"))
    assert [(r.external_id, r.source, r.metadata) for r in reports] == [
        ("A1", "real", {"site": "sein"}),
        ("A2", "real", {"site": "poumon"}),
    ]
    # The preview showed exactly what was stored.
    assert [r.text for r in reports] == [p.text for p in preview.reports]
    assert reports[0].content_hash == content_hash(reports[0].text)
    assert reports[0].original_text.startswith("Mme [NOM] revue le 12/03/2022.")
    kinds = [entry["kind"] for entry in reports[0].provenance["placeholders"]]
    assert kinds == ["real_date", "last_name"]
    assert reports[0].provenance["location"] == "line 2"
    assert reports[0].provenance["coherence"] == []
    assert reports[0].report_import == report_import
    event = AuditEvent.objects.get(action="report.import")
    assert event.details["count"] == 2


def test_commit_all_or_nothing_lists_every_problem(coordinator):
    existing = ReportFactory(text="Rapport déjà importé.")
    data = "\n".join(
        [
            json.dumps({"text": "Nouveau rapport valable."}),
            json.dumps({"text": "   "}),
            json.dumps({"text": existing.text}),
            json.dumps({"text": "Nouveau rapport valable."}),
            "{oops",
        ]
    ).encode()
    with pytest.raises(ImportRejected) as caught:
        report_import_commit(data=data, file_name="r.jsonl", created_by=coordinator)
    # In line order, whichever pass found them.
    assert [str(p) for p in caught.value.problems] == [
        "line 2: empty text",
        "line 4: same text as line 1",
        "line 5: not valid JSON (Expecting property name enclosed in double quotes)",
    ]
    assert Report.objects.count() == 1
    assert ReportImport.objects.count() == 0


def test_duplicate_of_existing_report_refused(coordinator):
    existing = ReportFactory(text="Rapport déjà importé.")
    data = json.dumps({"text": existing.text}).encode()
    with pytest.raises(ImportRejected) as caught:
        report_import_commit(data=data, file_name="r.jsonl", created_by=coordinator)
    assert [str(p) for p in caught.value.problems] == [
        f"line 1: duplicate of existing report {existing.code}"
    ]


def test_reimport_of_same_file_refused_even_with_placeholders(coordinator):
    report_import_commit(data=CSV_CP1252, file_name="a.csv", options=TEXTE, created_by=coordinator)
    with pytest.raises(ImportRejected) as caught:
        report_import_commit(
            data=CSV_CP1252, file_name="b.csv", options=TEXTE, created_by=coordinator
        )
    assert [p.location for p in caught.value.problems] == ["line 2", "line 4"]
    assert Report.objects.count() == 2


def test_zip_import_uses_file_names_as_external_ids(coordinator):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("CR_01.txt", "Premier compte rendu.".encode("cp1252"))
        archive.writestr("CR_02.txt", "\ufeffSecond compte rendu, né à [VILLE].".encode())
    report_import_commit(data=buffer.getvalue(), file_name="lot.zip", created_by=coordinator)
    assert sorted(Report.objects.values_list("external_id", flat=True)) == ["CR_01", "CR_02"]
    assert "[VILLE]" not in Report.objects.get(external_id="CR_02").text


def test_upload_limit_applies_to_service(coordinator):
    with pytest.raises(ImportRejected) as caught:
        report_import_commit(
            data=b"x" * 5000,
            file_name="big.jsonl",
            created_by=coordinator,
            limits=ImportLimits(max_upload_bytes=4096),
        )
    assert "over the upload limit" in str(caught.value.problems[0])


# --- command ---------------------------------------------------------------------------


def test_command_imports_folder(tmp_path, coordinator, capsys):
    (tmp_path / "CR1.txt").write_bytes("Fièvre à 39 °C, [NOM] hospitalisé.".encode("cp1252"))
    (tmp_path / "CR2.txt").write_text("Second rapport.", encoding="utf-8")
    call_command("import_reports", str(tmp_path), "--user", coordinator.username)
    assert "Imported 2 reports" in capsys.readouterr().out
    report = Report.objects.get(external_id="CR1")
    assert report.original_text == "Fièvre à 39 °C, [NOM] hospitalisé."
    assert report.report_import.encoding == "mixed: cp1252, utf-8"


def test_command_bad_input_prints_lines_exits_nonzero_and_writes_nothing(
    tmp_path, coordinator, capsys
):
    path = tmp_path / "bad.csv"
    path.write_text('text,site\n"",sein\n"ok",colon\n', encoding="utf-8")
    with pytest.raises(CommandError, match=r"1 problem\(s\); nothing was imported."):
        call_command("import_reports", str(path), "--user", coordinator.username)
    assert capsys.readouterr().err == f"{path}: line 2: empty text\n"
    assert Report.objects.count() == 0


def test_command_dry_run_writes_nothing(tmp_path, coordinator, capsys):
    path = tmp_path / "ok.jsonl"
    path.write_text(json.dumps({"text": "Rapport [NOM]."}) + "\n", encoding="utf-8")
    call_command("import_reports", str(path), "--dry-run")
    assert capsys.readouterr().out == (
        "Dry run, nothing written: 1 reports (jsonl, encoding utf-8), "
        "1 placeholders and dates replaced.\n"
    )
    assert Report.objects.count() == 0


def test_command_refuses_reviewer_as_importer(tmp_path, reviewer):
    path = tmp_path / "ok.jsonl"
    path.write_text(json.dumps({"text": "Rapport."}) + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match="is not a coordinator"):
        call_command("import_reports", str(path), "--user", reviewer.username)
    assert Report.objects.count() == 0


def test_problems_sorted_upload_first_then_lines_then_files_naturally():
    from review.imports.parsing import ImportProblem, problems_sorted

    problems = [
        ImportProblem("file cr/10.txt", "empty text"),
        ImportProblem("line 12", "empty text"),
        ImportProblem("file cr/2.txt", "empty text"),
        ImportProblem("line 3", "empty text"),
        ImportProblem("", "not a valid ZIP archive"),
    ]
    assert [p.location for p in problems_sorted(problems)] == [
        "",
        "line 3",
        "line 12",
        "file cr/2.txt",
        "file cr/10.txt",
    ]


@pytest.mark.parametrize(
    ("text", "edges"),
    [
        # The report's offset (from its text) moves these two out of the calendar...
        ("Examen du 0001-01-02, revu le 02/01/0001. Entrée le 12/03/2022. Dossier 0.", (1, 1, 2)),
        (
            "Examen du 9999-12-30, revu le 30/12/9999. Entrée le 12/03/2022. Dossier 0.",
            (9999, 12, 30),
        ),
        # ... and these two within it.
        ("Examen du 0001-01-02, revu le 02/01/0001. Entrée le 12/03/2022.", (1, 1, 2)),
        ("Examen du 9999-12-30, revu le 30/12/9999. Entrée le 12/03/2022.", (9999, 12, 30)),
    ],
)
def test_a_date_at_the_ends_of_the_calendar_never_fails_the_import(coordinator, text, edges):
    """Shifted by the report's offset, 0001-01-02 or 9999-12-30 may leave the calendar
    (OverflowError: the whole import failed with a server error). Such a date, no stay's,
    then stays as written; otherwise it moves with the others; the import goes through."""
    data = json.dumps({"text": text}).encode()
    preview = report_import_preview(data=data, file_name="export.jsonl", options=ImportOptions())
    assert preview.problems == []
    [report] = preview.reports
    stay = dt.datetime.strptime(report.text.split("Entrée le ")[1][:10], "%d/%m/%Y")
    offset = stay.date() - dt.date(2022, 3, 12)
    assert offset.days != 0
    edge = dt.date(*edges)
    try:
        moved = edge + offset
    except OverflowError:
        moved = edge
    expected = (
        text.replace("12/03/2022", stay.strftime("%d/%m/%Y"))
        .replace(
            edge.strftime("%d/%m/") + f"{edge.year:04d}",
            moved.strftime("%d/%m/") + f"{moved.year:04d}",
        )
        .replace(
            f"{edge.year:04d}" + edge.strftime("-%m-%d"),
            f"{moved.year:04d}" + moved.strftime("-%m-%d"),
        )
    )
    assert report.text == expected
    imported = report_import_commit(
        data=data, file_name="export.jsonl", options=ImportOptions(), created_by=coordinator
    )
    assert Report.objects.get(report_import=imported).text == report.text
