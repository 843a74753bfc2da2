"""Bad input through the real routes (pages and API): a clear 4xx message, and the
database exactly as it was. The services' own refusals are tested in tests/review/; here
the whole request path is, with a fingerprint of every table a refusal could touch."""

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import encode_multipart
from django.urls import reverse

from review import services
from review.exports import csv_lines
from review.models import Assignment, AuditEvent, Rating, Report, ReportImport
from review.results import RATING_FIELDS, study_ratings_rows
from tests.factories import PASSWORD


def fingerprint() -> dict:
    return {
        "ratings": sorted(
            Rating.objects.values_list("assignment_id", "domain_id", "score", "updated_at")
        ),
        "assignments": sorted(
            Assignment.objects.values_list(
                "pk", "status", "submitted_at", "comment", "updated_at", "first_opened_at"
            )
        ),
        "reports": Report.objects.count(),
        "imports": ReportImport.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture
def mine(open_study, reviewer):
    assignment = (
        Assignment.objects.filter(study=open_study, reviewer=reviewer).order_by("position").first()
    )
    # Opened already, so that a refused save cannot pass for the first opening.
    services.assignment_open(assignment=assignment)
    return assignment


@pytest.fixture
def theirs(open_study, other_reviewer):
    return Assignment.objects.filter(study=open_study, reviewer=other_reviewer).first()


def _rate_page(client, code, domain, value):
    url = reverse("review:rate_score", args=[code, domain])
    return client.post(url, {f"score-{domain}": value}, HTTP_HX_REQUEST="true")


@pytest.mark.parametrize(
    ("domain", "value", "status", "message"),
    [
        ("completeness", "11", 400, "The score must be between 1 and 10."),
        ("completeness", "0", 400, "The score must be between 1 and 10."),
        ("completeness", "-3", 400, "The score must be between 1 and 10."),
        ("completeness", "7.5", 400, "The score must be a whole number."),
        ("completeness", "seven", 400, "The score must be a whole number."),
        ("completeness", "", 400, "The score must be a whole number."),
        ("bogus_domain", "5", 400, "This domain is not part of the study."),
    ],
)
def test_rating_page_bad_score_4xx_message_db_unchanged(
    reviewer_client, mine, domain, value, status, message
):
    before = fingerprint()
    response = _rate_page(reviewer_client, mine.code, domain, value)
    if domain == "bogus_domain":
        # The row to swap back does not exist either: the answer is a 404 page.
        assert response.status_code == 404
    else:
        assert response.status_code == status
        assert message in response.content.decode()
    assert fingerprint() == before


@pytest.mark.parametrize(
    ("scores", "status", "code"),
    [
        ({"completeness": 11}, 400, "score_out_of_range"),
        ({"completeness": 3, "conciseness": 0}, 400, "score_out_of_range"),
        ({"bogus": 3}, 400, "unknown_domain"),
    ],
)
def test_api_bad_scores_4xx_code_db_unchanged(client, reviewer, mine, scores, status, code):
    client.login(username=reviewer.username, password=PASSWORD)
    before = fingerprint()
    url = f"/api/v1/me/assignments/{mine.code}/ratings/"
    response = client.put(url, {"scores": scores}, content_type="application/json")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert fingerprint() == before


def test_api_non_integer_score_400_field_message_db_unchanged(client, reviewer, mine):
    client.login(username=reviewer.username, password=PASSWORD)
    before = fingerprint()
    url = f"/api/v1/me/assignments/{mine.code}/ratings/"
    response = client.put(url, {"scores": {"completeness": "x"}}, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"scores": {"completeness": ["A valid integer is required."]}}
    assert fingerprint() == before


def test_someone_elses_assignment_404_on_every_write_db_unchanged(
    reviewer_client, theirs, reviewer
):
    before = fingerprint()
    for response in (
        _rate_page(reviewer_client, theirs.code, "completeness", "5"),
        reviewer_client.post(reverse("review:rate_comment", args=[theirs.code]), {"comment": "x"}),
        reviewer_client.post(reverse("review:rate_submit", args=[theirs.code])),
        reviewer_client.post(
            reverse("review:rate_heartbeat", args=[theirs.code]), {"active_ms": 9}
        ),
        reviewer_client.put(
            f"/api/v1/me/assignments/{theirs.code}/ratings/",
            {"scores": {"completeness": 5}},
            content_type="application/json",
        ),
        reviewer_client.post(f"/api/v1/me/assignments/{theirs.code}/submit/"),
    ):
        assert response.status_code == 404
    assert fingerprint() == before


def test_closed_study_every_write_refused_with_message_db_unchanged(
    reviewer_client, mine, open_study, coordinator
):
    services.study_close(study=open_study, actor=coordinator)
    before = fingerprint()
    closed = "This study is closed; ratings can no longer be changed."
    response = _rate_page(reviewer_client, mine.code, "completeness", "5")
    assert response.status_code == 409
    assert closed in response.content.decode()
    response = reviewer_client.post(
        reverse("review:rate_comment", args=[mine.code]), {"comment": "x"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 409
    assert closed in response.content.decode()
    response = reviewer_client.put(
        f"/api/v1/me/assignments/{mine.code}/ratings/",
        {"scores": {"completeness": 5}},
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (409, "study_closed")
    response = reviewer_client.post(f"/api/v1/me/assignments/{mine.code}/submit/")
    assert (response.status_code, response.json()["code"]) == (409, "study_closed")
    assert fingerprint() == before


def test_replayed_submit_api_409_db_unchanged(reviewer_client, mine, open_study):
    for domain in open_study.domains.all():
        services.rating_save(assignment=mine, domain_key=domain.key, score=6)
    first = reviewer_client.post(f"/api/v1/me/assignments/{mine.code}/submit/")
    assert first.status_code == 200
    before = fingerprint()
    replay = reviewer_client.post(f"/api/v1/me/assignments/{mine.code}/submit/")
    assert replay.status_code == 409
    assert replay.json() == {
        "detail": "This report was already submitted.",
        "code": "already_submitted",
    }
    assert fingerprint() == before


# --- imports ------------------------------------------------------------------------------


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _upload(client, data: bytes, name: str, **fields):
    payload = {"file": SimpleUploadedFile(name, data), "language": "fr", **fields}
    return client.post(reverse("review:report_import"), payload, HTTP_HX_REQUEST="true")


def _pending_files(media_root) -> list:
    folder = media_root / "imports"
    return list(folder.iterdir()) if folder.exists() else []


def test_import_empty_file_400_db_unchanged(coordinator_client, media_root):
    before = fingerprint()
    response = _upload(coordinator_client, b"", "empty.jsonl")
    assert response.status_code == 400
    assert "The submitted file is empty." in response.content.decode()
    assert fingerprint() == before
    assert _pending_files(media_root) == []


def test_import_wrong_encoding_400_db_unchanged(coordinator_client, media_root):
    data = "texte\nFièvre à 39 °C, œdème.\n".encode("cp1252")
    before = fingerprint()
    response = _upload(coordinator_client, data, "cr.csv", encoding="utf-8")
    assert response.status_code == 400
    assert "not valid utf-8" in response.content.decode()
    assert fingerprint() == before
    assert _pending_files(media_root) == []


class _Unread(io.RawIOBase):
    """A request body of `size` bytes produced on demand, counting what is read of it."""

    def __init__(self, head: bytes, size: int):
        self.head, self.size, self.read_bytes = head, size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.size - self.read_bytes)
        if n <= 0:
            return 0
        chunk = (self.head[self.read_bytes :] + b"x" * n)[:n]
        buffer[:n] = chunk
        self.read_bytes += n
        return n


def test_import_200_mb_upload_refused_413_without_reading_body(coordinator_client, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024  # the shipped default
    boundary = "BoUnDaRy"
    head = (
        encode_multipart(boundary, {"language": "fr"}).replace(f"--{boundary}--".encode(), b"")
        + (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
    )
    size = 200 * 1024 * 1024 + 512 * 1024
    body = _Unread(head, size)
    before = fingerprint()
    response = coordinator_client.post(
        reverse("review:report_import"),
        content_type=f"multipart/form-data; boundary={boundary}",
        **{"wsgi.input": body, "CONTENT_LENGTH": str(size)},
    )
    assert response.status_code == 413
    assert "over the upload limit of 200 MB (IMPORT_MAX_UPLOAD_BYTES)" in response.content.decode()
    assert body.read_bytes == 0
    assert fingerprint() == before


def _zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"big.txt": b"a" * 5_000_000}, "looks like a ZIP bomb"),
        (
            {"../../etc/evil.txt": b"x", "ok.txt": b"fine"},
            "unsafe path (absolute or &#x27;..&#x27;)",
        ),
        ({"/abs/evil.txt": b"x"}, "unsafe path (absolute or &#x27;..&#x27;)"),
    ],
)
def test_import_zip_bomb_and_path_traversal_400_db_unchanged(
    coordinator_client, media_root, members, message
):
    before = fingerprint()
    response = _upload(coordinator_client, _zip(members), "cr.zip")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert fingerprint() == before
    assert _pending_files(media_root) == []
    assert not (media_root.parent / "etc").exists()


def test_import_formula_cell_kept_as_text_and_defused_in_csv_export(
    coordinator_client, coordinator, open_study, reviewer, media_root
):
    formula = "=cmd|' /C calc'!A0 hospitalisé pour bilan."
    data = f'id,texte\n=HYPERLINK("x"),{json.dumps(formula, ensure_ascii=False)}\n'.encode()
    preview = _upload(coordinator_client, data, "cr.csv", text_column="texte", id_column="id")
    assert preview.status_code == 200
    committed = coordinator_client.post(
        reverse("review:report_import_commit"), {"token": preview.context["token"]}
    )
    assert committed.status_code == 302
    report = Report.objects.get(source="real", report_import__isnull=False)
    # Data, not a formula: stored as received (it is never evaluated by the app).
    assert report.text == formula
    assert report.external_id == '=HYPERLINK("x")'
    # A reviewer's comment of the same kind reaches the ratings CSV defused.
    assignment = Assignment.objects.filter(study=open_study, reviewer=reviewer).first()
    for domain in open_study.domains.all():
        services.rating_save(assignment=assignment, domain_key=domain.key, score=5)
    services.assignment_comment_save(assignment=assignment, comment="@SUM(A1:A9) -2+3 =1+1")
    services.assignment_submit(assignment=assignment)
    lines = "".join(csv_lines(RATING_FIELDS, study_ratings_rows(study=open_study)))
    assert "'@SUM(A1:A9) -2+3 =1+1" in lines
    assert ",@SUM" not in lines
    exported = coordinator_client.get(
        reverse("review:study_export_csv", args=[open_study.pk, "ratings"])
    )
    body = b"".join(exported.streaming_content).decode()
    assert "'@SUM(A1:A9) -2+3 =1+1" in body
    for line in body.splitlines()[1:]:
        assert not any(cell.startswith(("=", "+", "@")) for cell in line.split(","))
