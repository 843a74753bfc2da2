"""Real Celery workers (subprocesses) on Redis DB 1, against the fake Mistral server.

The workers see the test database through DATABASE_URL (pytest-django's test database,
committed with `transactional_db`). Tasks are sent to Redis explicitly, since the test
process's own Celery app is configured with the in-memory broker.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.db import connection

from generation import services
from generation.models import Batch
from generation.testing.fake_mistral import FakeMistral
from review.models import Report
from synthreports.celery import app

pytestmark = pytest.mark.integration

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clean_redis():
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


def _worker_env(fake: FakeMistral, **extra: str) -> dict[str, str]:
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": REDIS_URL,
            "REDIS_URL": REDIS_URL,
            "MISTRAL_API_KEY": "test-key",
            "MISTRAL_SERVER_URL": fake.url,
            "MISTRAL_TIMEOUT_SECONDS": "1",
            "GENERATION_MAX_ATTEMPTS": "5",
            "GENERATION_RETRY_BACKOFF_SECONDS": "0.2",
            "GENERATION_RETRY_BACKOFF_MAX_SECONDS": "1",
            "GENERATION_RATE_LIMIT_PER_SECOND": "50",
            "GENERATION_TOKENS_PER_MINUTE": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def _start_worker(env: dict[str, str], name: str, concurrency: int = 4) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "synthreports",
            "worker",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--loglevel=WARNING",
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop(worker: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=5)


def _send(batch: Batch) -> None:
    with app.connection_for_write(REDIS_URL) as conn:
        for item_id in batch.items.order_by("index").values_list("pk", flat=True):
            app.send_task("generation.item_generate", kwargs={"item_id": item_id}, connection=conn)


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return predicate()


def _settled(batch: Batch) -> bool:
    return not batch.items.filter(status__in=["pending", "running"]).exists()


def _launch(count: int) -> Batch:
    # The launch itself is checked in-process; here the settings must allow the backend.
    return services.batch_launch(count=count, backend="mistral", seed=31, enqueue=False)


def _assert_accounted(batch: Batch, count: int) -> dict[str, int]:
    statuses = list(batch.items.values_list("status", flat=True))
    assert len(statuses) == count
    done = statuses.count("done")
    failed = statuses.count("failed")
    assert done + failed == count
    reports = Report.objects.filter(source="synthetic", provenance__batch=str(batch.pk))
    assert reports.count() == done
    linked = list(batch.items.filter(status="done").values_list("report_id", flat=True))
    assert len(set(linked)) == done and None not in linked
    return {"done": done, "failed": failed}


def test_worker_batch_of_30_with_faults_all_accounted(transactional_db, settings, clean_redis):
    faults = {"429": 0.1, "500": 0.08, "503": 0.04, "slow": 0.04, "malformed": 0.04, "length": 0.04}
    with FakeMistral(fault_rate=faults, seed=3, slow_seconds=2, retry_after=0.5) as fake:
        settings.MISTRAL_API_KEY, settings.MISTRAL_SERVER_URL = "test-key", fake.url
        batch = _launch(30)
        worker = _start_worker(_worker_env(fake), "faults")
        try:
            _send(batch)
            assert _wait(lambda: _settled(batch), 50), list(
                batch.items.values_list("status", "attempts", "error")
            )
        finally:
            _stop(worker)
        outcome = _assert_accounted(batch, 30)
        served = [r.fault for r in fake.requests]
    assert outcome["done"] >= 25
    assert len(served) >= 30
    assert served.count("ok") >= outcome["done"]
    assert {"429", "500"} <= set(served)
    failed = batch.items.filter(status="failed")
    assert all(item.error.startswith("gave up after 5 attempts") for item in failed)
    batch.refresh_from_db()
    assert batch.status == "finished"


def test_worker_killed_mid_batch_then_new_worker_no_loss_no_duplicate(
    transactional_db, settings, clean_redis
):
    with FakeMistral(latency_seconds=0.3) as fake:
        settings.MISTRAL_API_KEY, settings.MISTRAL_SERVER_URL = "test-key", fake.url
        batch = _launch(30)
        env = _worker_env(fake)
        first = _start_worker(env, "first")
        try:
            _send(batch)
            assert _wait(lambda: batch.items.filter(status="done").count() >= 5, 30)
        finally:
            _stop(first, signal.SIGKILL)
        interrupted = batch.items.filter(status__in=["pending", "running"]).count()
        assert interrupted > 0
        # The periodic sweep's CLI form: nobody is alive, so every open item is requeued.
        sweep = subprocess.run(
            [sys.executable, "manage.py", "generation_sweep", "--older-than", "0"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert sweep.returncode == 0, sweep.stderr
        second = _start_worker(env, "second")
        try:
            assert _wait(lambda: _settled(batch), 40)
        finally:
            _stop(second)
        outcome = _assert_accounted(batch, 30)
    assert outcome == {"done": 30, "failed": 0}


def test_global_rate_limit_holds_with_two_workers(transactional_db, settings, clean_redis):
    rate = 4
    with FakeMistral(latency_seconds=0.05) as fake:
        settings.MISTRAL_API_KEY, settings.MISTRAL_SERVER_URL = "test-key", fake.url
        batch = _launch(24)
        env = _worker_env(fake, GENERATION_RATE_LIMIT_PER_SECOND=str(rate))
        workers = [_start_worker(env, "rl-a", 3), _start_worker(env, "rl-b", 3)]
        try:
            _send(batch)
            assert _wait(lambda: _settled(batch), 50)
        finally:
            for worker in workers:
                _stop(worker)
        arrivals = sorted(r.at for r in fake.requests)
    assert _assert_accounted(batch, 24) == {"done": 24, "failed": 0}
    assert len(arrivals) == 24
    # The limiter admits at most `rate` starts in any 1 s window; arrivals at the server
    # lag the admission by a few ms, hence windows of 0.9 s here.
    busiest = max(sum(1 for t in arrivals if start <= t < start + 0.9) for start in arrivals)
    assert busiest <= rate, " ".join(f"{t - arrivals[0]:.3f}" for t in arrivals)
    assert busiest == rate  # six busy processes really pushed against the limit
