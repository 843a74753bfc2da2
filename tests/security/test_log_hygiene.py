"""No report text in the logs (patient data), only codes; no secret in logs, pages,
provenance or the database.

Every logger is captured at DEBUG while the reviewer flow, an import, a generation batch
and a failing generation item run; no record may contain a piece of any report's text.
"""

import json
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from generation import services as generation_services
from generation.models import BatchItem
from generation.tasks import item_generate
from generation.testing.fake_mistral import OK_NARRATIVE, FakeMistral
from review import services
from review.models import Assignment, Report
from tests.factories import PASSWORD, ReviewerFactory

IMPORTED = [
    "Madame Quenouille présente une toux persistante depuis trois semaines.",
    "Le scanner thoracique montre une masse lobaire supérieure droite de 34 mm.",
]
SECRET_KEY_VALUE = "reliability-secret-key-0123456789-abcdefghijklmnop"
API_KEY_VALUE = "mistral-key-reliability-9f8e7d6c5b4a"


@pytest.fixture
def all_logs(caplog):
    """Every record at DEBUG and above, as with LOG_LEVEL=DEBUG in production: the root
    logger at DEBUG, the loggers the project's LOGGING pins (to keep report text out)
    left as configured."""
    caplog.set_level(logging.DEBUG)
    assert logging.getLogger("django.template").getEffectiveLevel() == logging.INFO
    return caplog


def _pieces(text: str, size: int = 24) -> list[str]:
    """Overlapping windows of a report's text: any of them in a log line is a leak."""
    text = " ".join(text.split())
    return [text[i : i + size] for i in range(0, max(len(text) - size, 0) + 1, size // 2)]


def _record_texts(caplog) -> list[tuple[str, str]]:
    formatter = logging.Formatter()
    texts = []
    for record in caplog.records:
        text = record.getMessage()
        if record.exc_info:
            text += formatter.formatException(record.exc_info)
        texts.append((f"{record.levelname} {record.name}", " ".join(text.split())))
    return texts


def _leaks(caplog, reports) -> list[str]:
    found = []
    records = _record_texts(caplog)
    for text in reports:
        for piece in _pieces(text):
            found.extend(f"{where}: …{piece}…" for where, line in records if piece in line)
    return found


def test_no_report_text_in_logs_across_review_import_and_generation(
    all_logs, client, coordinator, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    # An import (preview, then commit).
    client.login(username=coordinator.username, password=PASSWORD)
    data = ("texte\n" + "\n".join(json.dumps(t, ensure_ascii=False) for t in IMPORTED)).encode()
    preview = client.post(
        reverse("review:report_import"),
        {"file": SimpleUploadedFile("cr.csv", data), "language": "fr", "text_column": "texte"},
    )
    assert preview.status_code == 200
    commit = client.post(
        reverse("review:report_import_commit"), {"token": preview.context["token"]}
    )
    assert commit.status_code == 302
    # A generation batch, offline, in-process.
    batch = generation_services.batch_launch(
        count=3, backend="offline", seed=4, created_by=coordinator, enqueue=False
    )
    assert generation_services.batch_run_in_process(batch=batch)["done"] == 3
    # A study over all of them, and the reviewer flow with a refusal on the way.
    reviewers = [ReviewerFactory(), ReviewerFactory()]
    study = services.study_create(name="Logs", created_by=coordinator, raters_per_report=2)
    services.study_reports_add(study=study, reports=Report.objects.all())
    services.study_reviewers_set(study=study, reviewers=reviewers)
    services.study_open(study=study, actor=coordinator)
    reviewer = reviewers[0]
    client.logout()
    client.login(username=reviewer.username, password=PASSWORD)
    for assignment in Assignment.objects.filter(study=study, reviewer=reviewer):
        assert client.get(reverse("review:rate", args=[assignment.code])).status_code == 200
        bad = client.post(
            reverse("review:rate_score", args=[assignment.code, "completeness"]),
            {"score-completeness": "99"},
            HTTP_HX_REQUEST="true",
        )
        assert bad.status_code == 400
        for domain in study.domains.all():
            client.post(
                reverse("review:rate_score", args=[assignment.code, domain.key]),
                {f"score-{domain.key}": "6"},
                HTTP_HX_REQUEST="true",
            )
        submitted = client.post(reverse("review:rate_submit", args=[assignment.code]))
        assert submitted.status_code == 302
    # The coordinator reads a report and exports the dataset.
    client.logout()
    client.login(username=coordinator.username, password=PASSWORD)
    for report in Report.objects.all():
        assert client.get(reverse("review:report_detail", args=[report.code])).status_code == 200

    texts = list(Report.objects.values_list("text", flat=True))
    assert len(texts) == 2 + 3
    assert all_logs.records, "nothing was logged: the capture is not working"
    assert _leaks(all_logs, texts) == []


def test_no_report_text_in_logs_for_failing_generation_item(all_logs, settings, roles):
    with FakeMistral(faults=["length", "malformed", "500", "length"], slow_seconds=2) as fake:
        settings.MISTRAL_API_KEY, settings.MISTRAL_SERVER_URL = "test-key", fake.url
        settings.MISTRAL_TIMEOUT_SECONDS = 1.0
        settings.GENERATION_MAX_ATTEMPTS = 4
        settings.GENERATION_RATE_LIMIT_PER_SECOND = 0
        settings.GENERATION_TOKENS_PER_MINUTE = 0
        settings.GENERATION_RETRY_BACKOFF_SECONDS = 0
        settings.GENERATION_RETRY_BACKOFF_MAX_SECONDS = 1
        # One-pass prompt: the fault script below is one request per attempt.
        batch = generation_services.batch_launch(
            count=1, backend="mistral", seed=8, enqueue=False, prompt="compte-rendu-fr-v1"
        )
        item = batch.items.get()
        # The Celery task itself (eager), with its retries, as a worker runs it.
        item_generate.apply(kwargs={"item_id": item.pk}, throw=False)
        item.refresh_from_db()
        assert [r.fault for r in fake.requests] == ["length", "malformed", "500", "length"]
    assert item.status == BatchItem.Status.FAILED
    assert item.error.startswith("gave up after 4 attempts; last error: ")
    leaked = _leaks(all_logs, [OK_NARRATIVE, "Voici le compte rendu demandé : le patient va bien."])
    assert leaked == []
    assert OK_NARRATIVE[:40] not in item.error


# --- secrets -----------------------------------------------------------------------------


def test_secrets_never_in_database_logs_or_pages(all_logs, settings, roles, coordinator, reviewer):
    with FakeMistral() as fake:
        settings.SECRET_KEY = SECRET_KEY_VALUE
        settings.MISTRAL_API_KEY, settings.MISTRAL_SERVER_URL = API_KEY_VALUE, fake.url
        settings.MISTRAL_TIMEOUT_SECONDS = 2.0
        settings.GENERATION_RATE_LIMIT_PER_SECOND = 0
        settings.GENERATION_TOKENS_PER_MINUTE = 0
        batch = generation_services.batch_launch(
            count=2,
            backend="mistral",
            seed=9,
            created_by=coordinator,
            enqueue=False,
            prompt="compte-rendu-fr-v1",  # one request per report, counted below
        )
        counts = generation_services.batch_run_in_process(batch=batch)
        assert counts["done"] == 2
        # The SDK really sent the key: it is in use, and still stored nowhere.
        assert fake.requests and len(fake.requests) == 2
    from django.test import Client

    pages = []
    client = Client()
    client.force_login(coordinator)
    item = batch.items.order_by("index").first()
    for url in (
        reverse("generation:batch_list"),
        reverse("generation:batch_detail", args=[batch.pk]),
        reverse("generation:batch_launch"),
        reverse("generation:item_report", args=[item.pk]),
        reverse("review:report_detail", args=[item.report.code]),
        reverse("review:audit_list"),
        f"/api/v1/batches/{batch.pk}/",
        f"/api/v1/reports/{item.report.code}/",
        "/api/schema/",
        "/admin/",
    ):
        response = client.get(url)
        assert response.status_code in (200, 302), url
        pages.append(response.content.decode())
    assert all(API_KEY_VALUE not in page and SECRET_KEY_VALUE not in page for page in pages)
    for report in Report.objects.all():
        assert API_KEY_VALUE not in json.dumps(report.provenance)
    # Every text-like column of every table of the database.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb')"
        )
        columns = cursor.fetchall()
        hits = []
        for table, column in columns:
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}"::text LIKE %s '
                f'OR "{column}"::text LIKE %s',
                [f"%{API_KEY_VALUE}%", f"%{SECRET_KEY_VALUE}%"],
            )
            if cursor.fetchone()[0]:
                hits.append(f"{table}.{column}")
    assert len(columns) > 50
    assert hits == []
    lines = [line for _where, line in _record_texts(all_logs)]
    assert not [line for line in lines if API_KEY_VALUE in line or SECRET_KEY_VALUE in line]
    assert settings.MISTRAL_API_KEY == API_KEY_VALUE
