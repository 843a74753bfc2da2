"""Real Celery workers (subprocesses) on Redis DB 1, against the fake Mistral server.

The workers see the test database through DATABASE_URL (pytest-django's test database,
committed with `transactional_db`). Tasks are sent to Redis explicitly, since the test
process's own Celery app is configured with the in-memory broker.
"""

import os
import signal

import pytest
import redis

from generation import services
from generation.models import Batch
from generation.testing.fake_mistral import RATE_LIMITED, FakeMistral
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


def test_two_pass_critique_and_judge_model_stay_under_the_server_limit(
    transactional_db, settings, clean_redis
):
    """Issue found by benchmark 4: with the two-pass prompt, the critique and a judge on
    another model of the same account, the judge's requests were limited under a key of
    their own model, so writer + judge together went over the provider's limit (135 × 429
    for 100 items). Every pass now draws from the account's one budget."""
    limit = 5
    with FakeMistral(
        latency_seconds=0.2, rate_limit_per_second=limit, retry_after=1.0, seed=5
    ) as fake:
        settings.MISTRAL_API_KEY, settings.MISTRAL_SERVER_URL = "test-key", fake.url
        batch = services.batch_launch(
            count=8,
            backend="mistral",
            seed=31,
            enqueue=False,
            prompt="compte-rendu-fr-v2",
            critique=True,
            judge_model="mistral-small-latest",
        )
        assert (batch.prompt.passes, batch.model) == ("two_pass", "mistral-large-latest")
        env = _worker_env(
            fake,
            GENERATION_RATE_LIMIT_PER_SECOND=str(limit),
            # 4.25/s: arrivals of a loaded two-core test machine jitter by tens of ms; the
            # benchmark keeps the default 5 %. Two budgets (the bug) would still send 8.5/s.
            GENERATION_RATE_LIMIT_HEADROOM="0.15",
        )
        procs = [_start_worker(env, "tp-a", 3), _start_worker(env, "tp-b", 3)]
        try:
            _send(batch)
            assert _wait(lambda: _settled(batch), 45)
        finally:
            for proc in procs:
                _stop(proc)
        requests = list(fake.requests)
    assert _assert_accounted(batch, 8) == {"done": 8, "failed": 0}
    assert [r.fault for r in requests if r.fault == RATE_LIMITED] == []
    passes = [p for item in batch.items.all() for p in item.passes]
    # One request per pass made, no attempt repeated: nothing was refused or retried.
    assert len(requests) == len(passes)
    assert set(batch.items.values_list("attempts", flat=True)) == {1}
    kinds = {p["kind"] for p in passes}
    assert {"writer", "extraction", "judge"} <= kinds
    judge_models = {r.model for r in requests if r.kind == "verdict"}
    assert judge_models == {"mistral-small-latest"}
    assert sum(1 for r in requests if r.kind == "verdict") == sum(
        1 for p in passes if p["kind"] == "judge"
    )
