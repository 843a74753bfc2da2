"""Scheduled reminders end to end: a real `celery beat` puts review.reminders_send_due on
Redis (DB 11) every second, a real worker runs it against the test database and e-mails
through the console backend. Several ticks, one reminder: never twice within the interval."""

import datetime as dt
import subprocess
import sys

import pytest
import redis
from django.utils import timezone

from review.models import AuditEvent, Reminder, Study
from tests import celery_workers as workers
from tests.transactional_fixtures import roles  # noqa: F401 (a fixture, requested by name)

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/11"


@pytest.fixture
def clean_redis():
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()


def _env(tmp_path) -> dict[str, str]:
    return workers.database_worker_env(
        REDIS_URL,
        EMAIL_BACKEND="console",
        SITE_URL="https://synth.example/",
        REVIEW_REMINDERS_CHECK_SECONDS="1",
        # The generation sweeps of the same schedule stay out of the way.
        GENERATION_SWEEP_INTERVAL_SECONDS="3600",
        GENERATION_BATCH_API_POLL_SECONDS="3600",
    )


def _start_beat(env, tmp_path, log):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "synthreports",
            "beat",
            "--loglevel=INFO",
            f"--schedule={tmp_path / 'beat-schedule'}",
            f"--pidfile={tmp_path / 'beat.pid'}",
        ],
        cwd=workers.ROOT,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )


@pytest.mark.usefixtures("roles")
def test_beat_and_worker_send_one_reminder_per_interval(
    transactional_db, open_study, reviewers, clean_redis, tmp_path
):
    idle, finished = reviewers
    idle.email = "idle@chu.example"
    idle.save()
    finished.email = "finished@chu.example"
    finished.save()
    finished.assignments.filter(study=open_study).update(
        status="submitted", submitted_at=timezone.now() - dt.timedelta(days=8)
    )
    Study.objects.filter(pk=open_study.pk).update(
        opened_at=timezone.now() - dt.timedelta(days=8), reminder_every_days=7
    )
    env = _env(tmp_path)
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    worker = workers.start_worker(env, "reminders", concurrency=2, log_path=worker_log)
    with beat_log.open("ab") as output:
        beat = _start_beat(env, tmp_path, output)
    try:
        assert workers.wait_until(lambda: Reminder.objects.exists(), 60), (
            beat_log.read_text() + worker_log.read_text()
        )
        # Let beat send the task a few more times: the worker must send nothing more.
        assert workers.wait_until(
            lambda: beat_log.read_text().count("review.reminders_send_due") >= 4, 30
        ), beat_log.read_text()
        workers.wait_until(lambda: False, 2)  # the last task sent has run by now
    finally:
        workers.stop(beat)
        workers.stop(worker)
    reminder = Reminder.objects.get()
    remaining = idle.assignments.filter(study=open_study).count()
    assert (reminder.reviewer, reminder.kind, reminder.remaining) == (idle, "scheduled", remaining)
    assert AuditEvent.objects.filter(action="study.reminder_scheduled").count() == 1
    log = worker_log.read_text()
    assert log.count("Subject: Reminder: Test study") == 1
    assert "To: idle@chu.example" in log
    assert f"https://synth.example/s/{open_study.code}/continue/" in log
    assert "finished@chu.example" not in log
