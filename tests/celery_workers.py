"""Real Celery worker processes for integration tests, shared by the generation and
reliability suites.

The workers see pytest-django's test database through DATABASE_URL (the tests use
`transactional_db`, so what they write is committed and visible). Tasks are sent to the
given Redis explicitly, since the test process's own Celery app uses the in-memory broker.
Each suite passes its own Redis URL (its own DB number, or its own redis-server).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.db import connection

from generation import services
from generation.models import Batch
from generation.testing.fake_mistral import FakeMistral
from review.models import Report
from synthreports.celery import app

ROOT = Path(__file__).resolve().parents[1]


def database_worker_env(redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a worker on the test database and `redis_url` (broker and cache)."""
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": redis_url,
            "REDIS_URL": redis_url,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def worker_env(fake: FakeMistral, redis_url: str, **extra: str) -> dict[str, str]:
    """A generation worker's: the fake Mistral server, fast retries, a high rate limit."""
    return database_worker_env(
        redis_url,
        **{
            "MISTRAL_API_KEY": "test-key",
            "MISTRAL_SERVER_URL": fake.url,
            "MISTRAL_TIMEOUT_SECONDS": "1",
            "GENERATION_MAX_ATTEMPTS": "5",
            "GENERATION_RETRY_BACKOFF_SECONDS": "0.2",
            "GENERATION_RETRY_BACKOFF_MAX_SECONDS": "1",
            "GENERATION_RATE_LIMIT_PER_SECOND": "50",
            "GENERATION_TOKENS_PER_MINUTE": "0",
            **extra,
        },
    )


def _die_with_parent() -> None:
    # A worker outliving a killed pytest stays attached to its Redis DB and steals the next
    # run's tasks: on Linux the kernel sends it SIGTERM when the test process goes away.
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def start_worker(
    env: dict[str, str], name: str, concurrency: int = 4, log_path: Path | None = None
) -> subprocess.Popen:
    output = log_path.open("ab") if log_path is not None else subprocess.DEVNULL
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
        stdout=output,
        stderr=output,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop a process started by these tests (its whole session: the pool children too)."""
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def send_items(batch: Batch, redis_url: str) -> None:
    with app.connection_for_write(redis_url) as conn:
        for item_id in batch.items.order_by("index").values_list("pk", flat=True):
            app.send_task("generation.item_generate", kwargs={"item_id": item_id}, connection=conn)


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return predicate()


def settled(batch: Batch) -> bool:
    return not batch.items.filter(status__in=["pending", "running"]).exists()


def launch(count: int, seed: int = 31) -> Batch:
    # The launch itself is checked in-process; here the settings must allow the backend.
    # One-pass prompt (v1): these tests count one request per item (worker reliability,
    # not the two-pass pipeline, which has its own tests).
    return services.batch_launch(
        count=count, backend="mistral", seed=seed, enqueue=False, prompt="compte-rendu-fr-v1"
    )


def run_sweep(env: dict[str, str]) -> subprocess.CompletedProcess:
    """The periodic sweep's CLI form, requeueing every open item (nobody else is alive)."""
    return subprocess.run(
        [sys.executable, "manage.py", "generation_sweep", "--older-than", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def assert_accounted(batch: Batch, count: int) -> dict[str, int]:
    """Every item done or failed; one report per done item, none extra (no duplicates)."""
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
