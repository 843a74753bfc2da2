"""Batch API mode end to end with a real Celery worker against Redis: the periodic poll
task (sent as beat would) submits the provider jobs through the real mistralai SDK to the
fake server, processes their results, and the items the jobs did not answer run as
`generation.item_generate` tasks in direct mode on the same worker.

Run under `flock /tmp/synth-suite.lock` (fixed Redis DB, a worker process)."""

import json
import os

import pytest
import redis

from generation import services
from generation.models import Batch, BatchItem
from generation.testing.fake_mistral import FakeMistral
from review.models import Report
from synthreports.celery import app
from tests import celery_workers as workers

pytestmark = pytest.mark.integration

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")

NOT_CONFORM = json.dumps(
    {
        "conform": False,
        "anomalies": [
            {
                "category": "chronology",
                "evidence": "Diagnostic récent",
                "explanation": "Date du diagnostic absente.",
                "correction": "Diagnostic posé le 12/03/2024",
            }
        ],
    },
    ensure_ascii=False,
)


@pytest.fixture
def clean_redis():
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


def _send_poll() -> None:
    with app.connection_for_write(REDIS_URL) as conn:
        app.send_task("generation.provider_jobs_poll", connection=conn)


def _drive(batch: Batch, timeout: float) -> bool:
    """Send the periodic poll every half second (as beat does every minute) until every
    item of the batch is settled."""

    def settled() -> bool:
        _send_poll()
        return workers.settled(batch)

    return workers.wait_until(settled, timeout)


def _run(fake: FakeMistral, batch: Batch, name: str, timeout: float) -> None:
    worker = workers.start_worker(workers.worker_env(fake, REDIS_URL), name, concurrency=3)
    try:
        assert _drive(batch, timeout), list(
            batch.items.exclude(status="done").values_list("index", "status", "error")
        )
    finally:
        workers.stop(worker)


def test_worker_runs_a_one_pass_batch_job_of_50_with_line_failures(
    transactional_db, settings, clean_redis
):
    with FakeMistral() as fake:
        settings.MISTRAL_API_KEY, settings.MISTRAL_SERVER_URL = "test-key", fake.url
        fake.batch_line_errors = {"3", "17", "29", "41"}
        fake.batch_line_malformed = {"8", "33"}
        batch = services.batch_launch(
            count=50,
            backend="mistral",
            seed=5,
            prompt="compte-rendu-fr-v1",
            mode="batch_api",
            enqueue=False,
        )
        _run(fake, batch, "batch-api-one", 90)
        chat = [r for r in fake.requests if r.kind == "report"]
        jobs = dict(fake.jobs)
    assert workers.assert_accounted(batch, 50) == {"done": 50, "failed": 0}
    assert len(jobs) == 1 and jobs["job-1"]["total_requests"] == 50
    # The six lines the job did not answer usefully, and only those, ran in direct mode.
    assert len(chat) == 6
    batch.refresh_from_db()
    assert (batch.status, batch.provider_status) == ("finished", "PROCESSED")
    modes = dict(
        Report.objects.filter(provenance__batch=str(batch.pk)).values_list(
            "provenance__item_index", "provenance__api_mode"
        )
    )
    assert sorted(index for index, mode in modes.items() if mode is None) == [3, 8, 17, 29, 33, 41]
    assert Report.objects.count() == 50


def test_worker_runs_a_two_pass_batch_as_a_chain_of_jobs(transactional_db, settings, clean_redis):
    with FakeMistral() as fake:
        settings.MISTRAL_API_KEY, settings.MISTRAL_SERVER_URL = "test-key", fake.url
        fake.batch_line_errors_by_kind = {
            "narrative": {"2"},
            "extraction": {"7"},
            "verdict": {"11"},
        }
        fake.batch_line_malformed = {"5"}
        # The first judgement of the verdict job (item 0) asks for a revision (the
        # stragglers' direct judgements, running meanwhile, do not take it).
        fake.script("verdict", NOT_CONFORM, batch_only=True)
        batch = services.batch_launch(
            count=20, backend="mistral", seed=9, mode="batch_api", enqueue=False
        )
        assert batch.prompt.passes == "two_pass"
        _run(fake, batch, "batch-api-two", 120)
        jobs = {job_id: (job["total_requests"], job["status"]) for job_id, job in fake.jobs.items()}
        direct = sorted(
            (r.kind, r.random_seed) for r in fake.requests if r.kind not in ("files", "batch_jobs")
        )
    assert workers.assert_accounted(batch, 20) == {"done": 20, "failed": 0}
    # Narratives (20), extractions (18: 2 errored, 5 unusable), judgements (17), then item
    # 0's revision, its extraction and its judgement.
    assert jobs == {
        "job-1": (20, "SUCCESS"),
        "job-2": (18, "SUCCESS"),
        "job-3": (17, "SUCCESS"),
        "job-4": (1, "SUCCESS"),
        "job-5": (1, "SUCCESS"),
        "job-6": (1, "SUCCESS"),
    }
    # Direct mode resumed each straggler at its step, with the seed of that call.
    assert direct == sorted(
        [
            ("narrative", 9 + 2),
            ("extraction", 9 + 2 + 7919),
            ("verdict", 9 + 2 + 2 * 7919),
            ("narrative", 9 + 5),
            ("extraction", 9 + 5 + 7919),
            ("verdict", 9 + 5 + 2 * 7919),
            ("extraction", 9 + 7 + 7919),
            ("verdict", 9 + 7 + 2 * 7919),
            ("verdict", 9 + 11 + 2 * 7919),
        ]
    )
    items = {i.index: i for i in BatchItem.objects.filter(batch=batch).select_related("report")}
    assert [(p["kind"], p["outcome"]) for p in items[0].passes] == [
        ("writer", "ok"),
        ("extraction", "ok"),
        ("judge", "not_conform"),
        ("revision", "ok"),
        ("extraction", "ok"),
        ("judge", "conform"),
    ]
    assert items[0].report.provenance["api_mode"] == "batch_api"
    assert items[11].report.provenance["api_mode"] == "batch_api+direct"
    assert all(item.pass_state == {} for item in items.values())
    batch.refresh_from_db()
    assert (batch.status, batch.provider_status) == ("finished", "PROCESSED")
    assert Report.objects.count() == 20
