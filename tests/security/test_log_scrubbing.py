"""A patient's name, birth date and IPP, planted in data that makes PostgreSQL or Python
fail, never reach a log line: not through Django's "Internal Server Error" record, not
through a message that repeats the exception, not through a worker's own handlers.

Logs are captured with a real StreamHandler and the project's formatter, at DEBUG, the
way a production log file would be written."""

import io
import json
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from review.models import Assignment, Report
from synthreports.log_hygiene import exception_summary
from tests.factories import PASSWORD
from tests.security.failing_urls import PATIENT

PIECES = ["Quenouille", "03/04/1951", "8812345"]


@pytest.fixture
def log_file():
    """Every record of every logger, formatted as the production handler formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


def _leaks(stream: io.StringIO) -> list[str]:
    text = stream.getvalue()
    return [piece for piece in PIECES if piece in text]


@pytest.mark.parametrize("kind", ["json-nul", "integer", "unique"])
@override_settings(ROOT_URLCONF="tests.security.failing_urls")
def test_database_error_500_logged_without_the_planted_patient(db, log_file, kind):
    client = Client(raise_request_exception=False)
    response = client.get(f"/test-failures/db/{kind}/")
    assert response.status_code == 500
    logged = log_file.getvalue()
    # The error is logged, with its traceback and SQLSTATE, but none of the row's data.
    assert "Internal Server Error: /test-failures/db/" in logged
    assert "Traceback (most recent call last)" in logged
    assert "SQLSTATE" in logged
    assert _leaks(log_file) == []


@override_settings(ROOT_URLCONF="tests.security.failing_urls")
def test_python_error_500_logged_without_the_planted_patient(db, log_file):
    client = Client(raise_request_exception=False)
    assert client.get("/test-failures/python/").status_code == 500
    assert "ValueError: (message withheld from logs" in log_file.getvalue()
    assert _leaks(log_file) == []


def test_message_repeating_the_exception_is_scrubbed(log_file):
    # As Celery logs a failed task: the exception's text inside the message itself.
    try:
        int(PATIENT)
    except ValueError as exc:
        logging.getLogger("celery.app.trace").error(
            "Task %(name)s raised unexpected: %(exc)s",
            {"name": "generation.item_generate", "exc": str(exc)},
            exc_info=True,
        )
        logging.getLogger("worker").warning("failed: %s", exc)
    assert "generation.item_generate raised unexpected" in log_file.getvalue()
    assert _leaks(log_file) == []


def test_handlers_configured_later_are_scrubbed_too(log_file):
    # A worker replaces the root logger's handlers: scrubbing happens when the record is
    # made, not in one handler.
    other = io.StringIO()
    handler = logging.StreamHandler(other)
    logger = logging.getLogger("late.configured")
    logger.addHandler(handler)
    try:
        try:
            json.loads("{" + PATIENT)
        except ValueError:
            logger.exception("parse failed")
    finally:
        logger.removeHandler(handler)
    assert "parse failed" in other.getvalue()
    assert [piece for piece in PIECES if piece in other.getvalue()] == []


def test_summary_keeps_code_errors_and_database_problem_names():
    assert exception_summary(AttributeError("'NoneType' object has no attribute 'pk'")) == (
        "AttributeError: 'NoneType' object has no attribute 'pk'"
    )
    with pytest.raises(Exception) as caught, connection.cursor() as cursor:
        cursor.execute("SELECT %s::integer", [PATIENT])
    summary = exception_summary(caught.value)
    assert summary.startswith("DataError [SQLSTATE 22P02]: invalid input syntax for type integer")
    assert "Quenouille" not in summary


pytestmark = pytest.mark.django_db


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_jsonl_import_with_nul_in_metadata_4xx_nothing_stored_nothing_logged(
    client, coordinator, media_root, log_file
):
    client.login(username=coordinator.username, password=PASSWORD)
    line = json.dumps(
        {"text": f"Patiente {PATIENT} hospitalisée pour bilan.", "metadata": {"nom": "A\x00B"}}
    )
    before = Report.objects.count()
    preview = client.post(
        reverse("review:report_import"),
        {"file": SimpleUploadedFile("cr.jsonl", line.encode()), "language": "fr"},
    )
    assert preview.status_code == 400
    assert "NUL" in preview.content.decode()
    assert Report.objects.count() == before
    assert _leaks(log_file) == []


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", f"/coordinate/reports/?q={PATIENT}%00", None),
        ("get", f"/admin/review/report/?source__exact={PATIENT}%00", None),
        ("get", f"/api/v1/reports/{PATIENT}%00/", None),
        ("get", f"/api/v1/reports/?limit=18446744073709551617&q={PATIENT}", None),
        ("post", "/api/v1/studies/", '{"name": "x", "' + PATIENT + '\\u0000": 1}'),
        ("post", "/api/v1/studies/", '{"name": "' + PATIENT + '\\ud800"}'),
        ("post", "/api/v1/studies/", '{"name": ' + "[" * 5000 + "]" * 5000 + "}"),
    ],
)
def test_former_500_coordinator_inputs_answer_4xx_and_log_no_patient(
    client, coordinator, open_study, log_file, method, url, body
):
    client.login(username=coordinator.username, password=PASSWORD)
    if body is None:
        response = client.get(url)
    else:
        response = client.post(url, body, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert _leaks(log_file) == []


def test_remove_reviewer_with_patient_in_the_id_4xx_logs_no_patient(
    client, coordinator, open_study, log_file
):
    client.login(username=coordinator.username, password=PASSWORD)
    response = client.post(
        reverse("review:study_action", args=[open_study.pk, "remove-reviewer"]),
        {"reviewer": PATIENT},
    )
    assert response.status_code == 400
    assert _leaks(log_file) == []


def test_former_500_inputs_answer_4xx_and_log_no_patient(client, reviewer, open_study, log_file):
    client.login(username=reviewer.username, password=PASSWORD)
    mine = Assignment.objects.filter(study=open_study, reviewer=reviewer).first()
    answers = [
        client.get(f"/r/{PATIENT}%00/").status_code,
        client.post(
            reverse("review:rate_comment", args=[mine.code]), {"comment": f"{PATIENT}\x00"}
        ).status_code,
        client.put(
            f"/api/v1/me/assignments/{mine.code}/ratings/",
            json.dumps({"scores": {}, "comment": PATIENT + "\ud800"}),
            content_type="application/json",
        ).status_code,
    ]
    assert answers == [400, 400, 400]
    assert _leaks(log_file) == []
