"""POST /api/v1/imports/: the import of real reports for scripts (coordinators only)."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from review.models import AuditEvent, Report, ReportImport
from tests.review.api.clients import api_client

URL = "/api/v1/imports/"
JSONL = "\n".join(
    json.dumps({"text": text, "id": f"N{i}"})
    for i, text in enumerate(
        ["Mme [NOM] hospitalisée à [HOPITAL].", "Second rapport, sans marque.", "Troisième."]
    )
).encode()


def _post(user, data=JSONL, name="lot.jsonl", **fields):
    payload = {"file": SimpleUploadedFile(name, data), **fields}
    return api_client(user).post(URL, payload, format="multipart")


def test_dry_run_answers_the_preview_and_stores_nothing(coordinator):
    response = _post(coordinator, dry_run="true")
    assert response.status_code == 200
    assert response.json() == {
        "dry_run": True,
        "file_name": "lot.jsonl",
        "file_format": "jsonl",
        "encoding": "utf-8",
        "count": 3,
        "placeholders_replaced": 2,
        "problems": [],
    }
    assert (Report.objects.count(), ReportImport.objects.count()) == (0, 0)


def test_import_stores_every_report_and_returns_their_codes(coordinator):
    response = _post(coordinator)
    assert response.status_code == 201
    body = response.json()
    report_import = ReportImport.objects.get()
    reports = list(Report.objects.order_by("id"))
    assert body == {
        "id": report_import.pk,
        "file_name": "lot.jsonl",
        "file_format": "jsonl",
        "encoding": "utf-8",
        "report_count": 3,
        "report_codes": [report.code for report in reports],
    }
    assert [(r.source, r.external_id, r.report_import_id) for r in reports] == [
        ("real", "N0", report_import.pk),
        ("real", "N1", report_import.pk),
        ("real", "N2", report_import.pk),
    ]
    assert "[NOM]" not in reports[0].text and "[HOPITAL]" not in reports[0].text
    assert reports[1].text == "Second rapport, sans marque."
    assert AuditEvent.objects.filter(action="report.import", actor=coordinator).count() == 1


def test_problems_listed_by_line_and_nothing_imported(coordinator):
    response = _post(coordinator, data=b'{"text": ""}\n{"text": "ok"}\nnot json\n')
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "import_rejected"
    assert body["detail"] == "The import was refused: 2 problem(s); nothing was imported."
    assert body["problems"] == [
        {"location": "line 1", "message": "empty text"},
        {"location": "line 3", "message": "not valid JSON (Expecting value)"},
    ]
    assert (Report.objects.count(), ReportImport.objects.count()) == (0, 0)


def test_a_second_import_of_the_same_reports_is_refused_as_duplicates(coordinator):
    assert _post(coordinator).status_code == 201
    again = _post(coordinator)
    assert again.status_code == 400
    assert again.json()["code"] == "import_rejected"
    assert len(again.json()["problems"]) == 3
    assert Report.objects.count() == 3


def test_upload_over_the_size_limit_refused(coordinator, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1024 * 1024
    response = _post(coordinator, data=b"x" * 1_300_000)
    assert response.status_code == 413
    assert response.json() == {
        "detail": "the file is 1.2 MB, over the upload limit of 1 MB (IMPORT_MAX_UPLOAD_BYTES); "
        "split it into smaller files"
    }
    assert Report.objects.count() == 0


def test_bad_options_named_and_nothing_imported(coordinator):
    response = _post(coordinator, file_format="xml", language="de", encoding="ebcdic")
    assert response.status_code == 400
    assert sorted(response.json()) == ["encoding", "file_format", "language"]
    missing = api_client(coordinator).post(URL, {"language": "fr"}, format="multipart")
    assert missing.status_code == 400
    assert list(missing.json()) == ["file"]
    assert Report.objects.count() == 0


def test_reviewers_may_not_import(reviewer):
    response = _post(reviewer)
    assert response.status_code == 403
    assert Report.objects.count() == 0
