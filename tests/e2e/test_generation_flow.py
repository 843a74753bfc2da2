"""A coordinator launches an offline generation batch in the browser and watches it finish
(scenario 5), processed by a real Celery worker (a subprocess) through Redis.

The live server runs in this process, so its Celery app is pointed at Redis for the test;
the worker reads the same PostgreSQL test database through DATABASE_URL.
"""

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.urls import reverse
from playwright.sync_api import Response, expect

from generation import catalogue
from generation.models import Batch, BatchItem
from review.models import Report
from synthreports.celery import app
from tests.e2e.conftest import log_in, run_axe, screenshot
from tests.factories import CoordinatorFactory

pytestmark = pytest.mark.e2e

# Redis database 6 belongs to the browser tests.
REDIS_URL = "redis://127.0.0.1:6379/6"
ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def celery_broker(url: str) -> Iterator[None]:
    """Send this process's tasks to `url`. Celery prefers the CELERY_BROKER_URL environment
    variable over its configuration and caches its producer pool, so all three change."""
    saved_env, saved_conf = os.environ.get("CELERY_BROKER_URL"), app.conf.broker_url

    def point_at(target: str | None) -> None:
        if target is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = target
        app.conf.broker_url = target if target is not None else saved_conf
        app._pool = None
        app.amqp._producer_pool = None

    point_at(url)
    try:
        yield
    finally:
        point_at(saved_env)
        app.conf.broker_url = saved_conf


@pytest.fixture
def redis_broker(transactional_db) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    with celery_broker(REDIS_URL):
        yield client
    client.flushdb()


@contextmanager
def celery_worker(
    *, extra_env: dict[str, str] | None = None, concurrency: int = 2
) -> Iterator[subprocess.Popen]:
    """A real worker process on Redis DB 6 and the test database, stopped on exit."""
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        {
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": REDIS_URL,
            "REDIS_URL": REDIS_URL,
            "GENERATION_DEFAULT_BACKEND": "offline",
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
    )
    worker = subprocess.Popen(
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
            "e2e@%h",
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
    try:
        yield worker
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=5)


@pytest.fixture
def generation_catalogue(transactional_db) -> None:
    """The default frame and prompts. A transactional test flushes the tables after it runs,
    which removes what the data migration seeded; put them back the same way."""
    catalogue.frame_default_ensure()
    catalogue.prompt_defaults_ensure()


def test_coordinator_watches_an_offline_batch_of_10_finish_without_reloading(
    new_context, roles, generation_catalogue, redis_broker
):
    coordinator = CoordinatorFactory()
    page = new_context().new_page()
    log_in(page, coordinator)

    page.goto(reverse("generation:batch_list"))
    page.get_by_role("link", name="Launch a batch").click()
    page.wait_for_url(f"**{reverse('generation:batch_launch')}")
    page.get_by_label("Number of reports").fill("10")
    page.locator("#id_backend").select_option("offline")
    page.locator("#id_language").select_option("fr")
    page.locator("#id_seed").fill("2024")
    expect(page.locator("#estimate")).to_have_text(
        "Estimated cost: €0 (offline writer, no API calls)."
    )
    page.get_by_role("button", name="Launch").click()

    batch = Batch.objects.get()
    page.wait_for_url(f"**{reverse('generation:batch_detail', args=[batch.pk])}")
    expect(page.locator(".messages")).to_contain_text("Batch launched: 10 reports queued.")
    assert (batch.count, batch.backend, batch.language, batch.seed) == (10, "offline", "fr", 2024)
    # Nothing runs yet: the ten tasks wait in Redis for a worker.
    bar = page.locator("#progress progress")
    expect(bar).to_have_attribute("max", "10")
    expect(bar).to_have_attribute("value", "0")
    expect(page.locator("[data-counter=pending]")).to_have_text("10")
    assert redis_broker.llen("celery") == 10
    assert BatchItem.objects.filter(batch=batch, enqueued_at__isnull=False).count() == 10
    screenshot(page, "batch-progress-start-en-1280")
    assert run_axe(page) == []

    polls: list[Response] = []
    page.on("response", lambda r: polls.append(r) if "part=progress" in r.url else None)
    # Anything a reload would wipe out.
    page.evaluate("() => { window.synthreportsProbe = 'same page'; }")

    with celery_worker():
        expect(bar).to_have_attribute("value", "10", timeout=60_000)
        expect(page.locator("[data-counter=done]")).to_have_text("10")
        expect(page.locator("[data-counter=failed]")).to_have_text("0")
        expect(page.locator("[data-counter=pending]")).to_have_text("0")
        expect(page.locator("#progress .progress-count")).to_have_text("10 / 10")
        expect(page.locator("#progress")).to_contain_text("(100%)")
        expect(page.locator("#progress")).to_contain_text("Finished.")
        # The last poll also brought the status, the buttons and the item list up to date.
        expect(page.locator("#batch-status")).to_have_text("Finished")
        expect(page.get_by_role("button", name="Cancel the batch")).to_have_count(0)
        rows = page.locator("#batch-items tbody tr")
        expect(rows).to_have_count(10)
        expect(rows.locator("td:nth-child(3)")).to_have_text(["Done"] * 10)
        expect(rows.locator("td:last-child a")).to_have_count(10)

    assert page.evaluate("() => window.synthreportsProbe") == "same page"
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    assert polls, "the page never polled"
    # The last poll answered 286, which stops htmx polling; the done counter only grew.
    assert polls[-1].status == 286
    assert all(r.status == 200 for r in polls[:-1])
    done_seen = [
        int(re.search(r'data-counter="done">(\d+)<', r.text()).group(1))  # type: ignore[union-attr]
        for r in polls
    ]
    assert done_seen == sorted(done_seen) and done_seen[-1] == 10
    count_after_stop = len(polls)
    page.wait_for_timeout(3500)  # two polling intervals
    assert len(polls) == count_after_stop
    assert page.locator("#progress").get_attribute("hx-get") is None

    batch.refresh_from_db()
    assert batch.status == Batch.Status.FINISHED
    items = BatchItem.objects.filter(batch=batch)
    assert sorted(items.values_list("status", flat=True)) == ["done"] * 10
    reports = Report.objects.filter(source=Report.Source.SYNTHETIC)
    assert reports.count() == 10
    assert set(items.values_list("report_id", flat=True)) == set(
        reports.values_list("pk", flat=True)
    )
    assert {r.provenance["batch"] for r in reports} == {str(batch.pk)}
    assert {r.provenance["backend"] for r in reports} == {"offline"}
    assert {r.language for r in reports} == {"fr"}
    assert redis_broker.llen("celery") == 0
    codes = sorted(rows.locator("td:last-child a").all_inner_texts())
    assert codes == sorted(reports.values_list("code", flat=True))
    screenshot(page, "batch-progress-done-en-1280")
    assert run_axe(page) == []

    # The finished batch in French (the switcher reloads the page).
    page.get_by_label("Language", exact=True).select_option("fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#progress .progress-count")).to_have_text("10 / 10")
    expect(page.locator("#batch-items tbody tr")).to_have_count(10)
    screenshot(page, "batch-progress-done-fr-1280")
    assert run_axe(page) == []
