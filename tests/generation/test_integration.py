"""Real Celery workers (subprocesses) on Redis DB 1, against the fake Mistral server.

The workers see the test database through DATABASE_URL (pytest-django's test database,
committed with `transactional_db`). Tasks are sent to Redis explicitly, since the test
process's own Celery app is configured with the in-memory broker.
"""

import os
import signal

import pytest
import redis

from generation.models import Batch
from generation.testing.fake_mistral import FakeMistral
from tests import celery_workers as workers

pytestmark = pytest.mark.integration

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


@pytest.fixture
def clean_redis():
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


def _worker_env(fake: FakeMistral, **extra: str) -> dict[str, str]:
    return workers.worker_env(fake, REDIS_URL, **extra)


def _send(batch: Batch) -> None:
    workers.send_items(batch, REDIS_URL)


_start_worker = workers.start_worker
_stop = workers.stop
_wait = workers.wait_until
_settled = workers.settled
_launch = workers.launch
_assert_accounted = workers.assert_accounted


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
        sweep = workers.run_sweep(env)
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
