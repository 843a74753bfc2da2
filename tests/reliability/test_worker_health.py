"""The worker's health check (docker-compose.yml) tells a consuming worker from one that
lives on without consuming, against a real worker on Redis DB 7."""

import os
import shlex
import signal
import socket
import subprocess
import sys

import pytest
import redis
import yaml

from generation.testing.fake_mistral import FakeMistral
from tests import celery_workers as workers

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/7"


def health_command() -> list[str]:
    """The compose file's check, as Docker's shell would run it on this host."""
    compose = yaml.safe_load((workers.ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    kind, shell = compose["services"]["worker"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    argv = shlex.split(shell.replace("$$HOSTNAME", socket.gethostname()))
    assert argv[:2] == ["celery", "-A"]
    return [sys.executable, "-m", *argv]


def healthy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        health_command(),
        cwd=workers.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_health_check_follows_the_worker_consuming_or_not(transactional_db):
    redis.Redis.from_url(REDIS_URL).flushdb()
    with FakeMistral() as fake:
        env = workers.worker_env(fake, REDIS_URL)
        # Named as in production (the default celery@<host>), which the check addresses.
        worker = workers.start_worker(env, "celery", concurrency=1)
        try:
            answers: list[subprocess.CompletedProcess] = []
            assert workers.wait_until(
                lambda: answers.append(healthy(env)) or answers[-1].returncode == 0, 60
            ), answers[-1].stdout + answers[-1].stderr
            assert "pong" in answers[-1].stdout

            # Alive but not consuming (stopped, as a worker whose consumer died): unhealthy.
            os.killpg(worker.pid, signal.SIGSTOP)
            stalled = healthy(env)
            assert stalled.returncode != 0
            assert "No nodes replied" in stalled.stdout + stalled.stderr

            os.killpg(worker.pid, signal.SIGCONT)
            assert workers.wait_until(lambda: healthy(env).returncode == 0, 60)
        finally:
            os.killpg(worker.pid, signal.SIGCONT)
            workers.stop(worker)
    gone = healthy(env)
    assert gone.returncode != 0
