"""Generation batches that survive faults: LLM errors, a killed worker, a restarted broker.

Real Celery worker processes, real PostgreSQL (the test database), the real `mistralai`
SDK against the local fake Mistral server. The broker is Redis DB 7 of the machine's
server, except for the restart test, which starts (and kills) its own redis-server.
Figures printed with `-s` are recorded in bench/RELIABILITY.md.
"""

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis

from generation.testing.fake_mistral import FakeMistral
from tests import celery_workers as workers

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/7"
MAX_ATTEMPTS = 5
# 20 % of answers are faults, spread over the six kinds the brief names.
FAULT_RATES = {
    "429": 0.04,
    "500": 0.04,
    "503": 0.03,
    "slow": 0.03,  # hung past the client's 1 s timeout
    "malformed": 0.03,  # prose instead of JSON
    "length": 0.03,  # truncated (finish_reason=length)
}


@pytest.fixture
def clean_redis():
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


def test_batch_of_50_with_20_percent_faults_every_item_accounted(
    transactional_db, settings, clean_redis
):
    assert sum(FAULT_RATES.values()) == pytest.approx(0.20)
    with FakeMistral(fault_rate=FAULT_RATES, seed=7, slow_seconds=2, retry_after=0.3) as fake:
        settings.MISTRAL_API_KEY, settings.MISTRAL_SERVER_URL = "test-key", fake.url
        batch = workers.launch(50, seed=57)
        env = workers.worker_env(fake, REDIS_URL, GENERATION_MAX_ATTEMPTS=str(MAX_ATTEMPTS))
        worker = workers.start_worker(env, "faults50")
        try:
            workers.send_items(batch, REDIS_URL)
            assert workers.wait_until(lambda: workers.settled(batch), 90), list(
                batch.items.values_list("status", "attempts", "error")
            )
        finally:
            workers.stop(worker)
        outcome = workers.assert_accounted(batch, 50)
        served = [r.fault for r in fake.requests]
    attempts = sum(batch.items.values_list("attempts", flat=True))
    faults_served = {kind: served.count(kind) for kind in FAULT_RATES if served.count(kind)}
    print(
        f"\nfaults: outcome={outcome} requests={len(served)} attempts={attempts} "
        f"bound={50 * MAX_ATTEMPTS} faults_served={faults_served}"
    )
    # Every request the server saw was an attempt counted on an item, and no more.
    assert attempts == len(served)
    assert attempts <= 50 * MAX_ATTEMPTS
    # The seeded fault stream does inject several kinds, and retries recover from them.
    assert len(faults_served) >= 4
    assert sum(faults_served.values()) >= 8
    assert served.count("ok") >= outcome["done"]
    for item in batch.items.filter(status="failed"):
        assert item.error.startswith(f"gave up after {MAX_ATTEMPTS} attempts; last error: ")
    batch.refresh_from_db()
    assert batch.status == "finished"


def test_worker_sigkilled_mid_batch_of_50_new_worker_completes_it(
    transactional_db, settings, clean_redis
):
    with FakeMistral(latency_seconds=0.3) as fake:
        settings.MISTRAL_API_KEY, settings.MISTRAL_SERVER_URL = "test-key", fake.url
        batch = workers.launch(50, seed=58)
        env = workers.worker_env(fake, REDIS_URL)
        first = workers.start_worker(env, "doomed")
        try:
            workers.send_items(batch, REDIS_URL)
            assert workers.wait_until(lambda: batch.items.filter(status="done").count() >= 10, 30)
        finally:
            workers.stop(first, signal.SIGKILL)
        interrupted = batch.items.filter(status__in=["pending", "running"]).count()
        running_at_kill = batch.items.filter(status="running").count()
        assert interrupted > 0
        # The sweep (Celery beat's task, here its CLI) puts the killed worker's items back.
        sweep = workers.run_sweep(env)
        assert sweep.returncode == 0, sweep.stderr
        second = workers.start_worker(env, "replacement")
        try:
            assert workers.wait_until(lambda: workers.settled(batch), 60)
        finally:
            workers.stop(second)
        outcome = workers.assert_accounted(batch, 50)
    print(f"\nsigkill: interrupted={interrupted} running_at_kill={running_at_kill} {outcome}")
    assert outcome == {"done": 50, "failed": 0}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _redis_server(port: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--logfile",
            str(log),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    client = redis.Redis(port=port)
    assert workers.wait_until(lambda: _answers(client), 10)
    return server


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def test_redis_restarted_mid_batch_worker_reconnects_and_batch_completes(
    transactional_db, settings, tmp_path
):
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    server = _redis_server(port, tmp_path / "redis-1.log")
    with FakeMistral(latency_seconds=0.3) as fake:
        settings.MISTRAL_API_KEY, settings.MISTRAL_SERVER_URL = "test-key", fake.url
        batch = workers.launch(50, seed=59)
        env = workers.worker_env(fake, url)
        worker = workers.start_worker(env, "survivor", log_path=tmp_path / "worker.log")
        replacement = None
        try:
            workers.send_items(batch, url)
            assert workers.wait_until(lambda: batch.items.filter(status="done").count() >= 10, 30)
            # Without persistence the restarted Redis has lost the queue and the limiter.
            workers.stop(server, signal.SIGKILL)
            done_at_restart = batch.items.filter(status="done").count()
            time.sleep(2)
            server = _redis_server(port, tmp_path / "redis-2.log")
            sweeps = 0

            def swept_and_settled() -> bool:
                nonlocal sweeps
                if workers.settled(batch):
                    return True
                # What beat would do every GENERATION_SWEEP_INTERVAL_SECONDS.
                sweeps += 1
                assert workers.run_sweep(env).returncode == 0
                return workers.wait_until(lambda: workers.settled(batch), 8)

            reconnected = workers.wait_until(swept_and_settled, 45)
            if not reconnected:
                # kombu's Redis consumer sometimes dies in its own reconnection (an upstream
                # bug: celery/kombu#659, goauthentik/authentik#9252): the process lives on
                # but consumes nothing. A supervisor restarts such a worker; do the same and
                # check that nothing was lost or duplicated on the way.
                workers.stop(worker)
                replacement = workers.start_worker(
                    env, "replacement", log_path=tmp_path / "replacement.log"
                )
                assert workers.wait_until(swept_and_settled, 60), list(
                    batch.items.values_list("status", "attempts", "error")
                )
            else:
                # The same worker process did the rest: it reconnected to the new server.
                assert worker.poll() is None
        finally:
            workers.stop(worker)
            if replacement is not None:
                workers.stop(replacement)
            workers.stop(server)
        outcome = workers.assert_accounted(batch, 50)
    print(
        f"\nredis restart: done_at_restart={done_at_restart} sweeps={sweeps} "
        f"same_worker_reconnected={reconnected} {outcome}"
    )
    assert done_at_restart < 50
    assert outcome == {"done": 50, "failed": 0}
