"""The search index filled after an import commits (review.search_index): the import stores
no vectors and asks a worker once, the task indexes what has none, and a real Celery worker
on Redis does it. What the search finds, indexed or not: tests/review/test_report_search.py."""

import json
import os

import pytest
import redis
from django.core.cache import cache

from review import search_index
from review.imports.parsing import ImportOptions
from review.imports.services import report_import_commit
from review.models import ReportSearch
from review.selectors import report_list
from synthreports.celery import app
from tests import celery_workers as workers
from tests.factories import ReportFactory
from tests.transactional_fixtures import roles  # noqa: F401 (a fixture, requested by name)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


def _upload(*texts: str) -> bytes:
    return "".join(json.dumps({"text": text}) + "\n" for text in texts).encode()


@pytest.fixture
def sent(monkeypatch):
    """The task names the app sends (a unit test: no broker)."""
    names: list[str] = []
    monkeypatch.setattr(app, "send_task", lambda name, *a, **k: names.append(name))
    cache.delete(search_index._PENDING_KEY)
    yield names
    cache.delete(search_index._PENDING_KEY)


def test_import_stores_no_vectors_and_sends_the_task_once_after_commit(
    coordinator, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = report_import_commit(
            data=_upload("Reprise du pemetrexed.", "Bilan sans particularité."),
            file_name="a.jsonl",
            created_by=coordinator,
            options=ImportOptions(language="fr"),
        )
        report_import_commit(
            data=_upload("Patiente hospitalisée."),
            file_name="b.jsonl",
            created_by=coordinator,
            options=ImportOptions(language="fr"),
        )
    # Debounced: the second import finds a message pending and sends none.
    assert (len(callbacks), sent) == (1, [search_index.INDEX_TASK])
    assert ReportSearch.objects.count() == 0
    # Found before the worker has run, through vectors computed by the query.
    [found] = report_list(search="pémétrexed")
    assert found.report_import_id == first.pk
    # The task clears the debounce and indexes all three.
    from review.tasks import reports_search_index

    assert reports_search_index() == 3
    assert ReportSearch.objects.count() == 3
    assert cache.get(search_index._PENDING_KEY) is None
    assert reports_search_index() == 0
    assert [r.pk for r in report_list(search="pémétrexed")] == [found.pk]


def test_an_import_refused_sends_nothing(coordinator, sent, django_capture_on_commit_callbacks):
    from review.imports.services import ImportRejected

    ReportFactory(text="Déjà là.")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ImportRejected):
        report_import_commit(
            data=_upload("Déjà là."),
            file_name="a.jsonl",
            created_by=coordinator,
            options=ImportOptions(language="fr"),
        )
    assert sent == []


def test_indexing_works_in_chunks_and_skips_other_languages(db, monkeypatch):
    monkeypatch.setattr(search_index, "CHUNK", 2)
    reports = [ReportFactory(text=f"Compte rendu numéro {n}.") for n in range(5)]
    ReportFactory(language="de", text="Bericht ohne Suchkonfiguration.")
    assert search_index.reports_search_index_all() == 5
    assert sorted(ReportSearch.objects.values_list("report_id", flat=True)) == [
        r.pk for r in reports
    ]
    assert search_index.reports_search_index(report_ids=[]) == 0


@pytest.mark.integration
@pytest.mark.usefixtures("roles")  # a transactional test before may have flushed the groups
def test_a_real_worker_indexes_an_import(transactional_db, coordinator):
    redis.Redis.from_url(REDIS_URL).flushdb()
    report_import_commit(
        data=_upload(*(f"Cure {n} de pémétrexed, bien tolérée." for n in range(30))),
        file_name="worker.jsonl",
        created_by=coordinator,
        options=ImportOptions(language="fr"),
    )
    assert ReportSearch.objects.count() == 0
    worker = workers.start_worker(workers.database_worker_env(REDIS_URL), "search", concurrency=1)
    try:
        with app.connection_for_write(REDIS_URL) as conn:
            app.send_task(search_index.INDEX_TASK, connection=conn)
        assert workers.wait_until(lambda: ReportSearch.objects.count() == 30, 120)
    finally:
        workers.stop(worker)
        redis.Redis.from_url(REDIS_URL).flushdb()
    assert report_list(search="pemetrexed").count() == 30
