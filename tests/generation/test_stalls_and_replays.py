"""Generation does not stall on a database error or a lost message, and a replayed launch
does not pay twice.

- A generation task whose database connection is killed (by PostgreSQL itself, a trigger
  terminating the backend that writes the report) is retried and finishes the item, rather
  than leaving it RUNNING for the stuck-item sweep.
- The sweep re-sends the PENDING items of a batch that has made no progress for a minute
  (its messages were lost with a Redis restart), and leaves a moving queue alone.
- A launch replayed with the same Idempotency-Key (API) or form token (page), one after the
  other or at the same moment, creates one batch.
"""

import threading
from datetime import timedelta
from functools import partial

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from generation import services
from generation.models import Batch, BatchItem
from generation.tasks import item_generate
from review.models import Report
from tests.factories import PASSWORD, CoordinatorFactory
from tests.transactional_fixtures import connection_killed_on_first_insert, roles

__all__ = ["roles"]


@pytest.fixture
def connection_killed_on_first_report(roles):
    with connection_killed_on_first_insert(
        table="review_report", name="generation_drop_connection"
    ):
        yield


def test_task_retries_after_its_database_connection_is_killed(connection_killed_on_first_report):
    batch = services.batch_launch(count=1, backend="offline", seed=5, enqueue=False)
    item = batch.items.get()
    result = item_generate.apply(kwargs={"item_id": item.pk}, task_id="task-db-kill")
    assert result.get() == "done"
    item.refresh_from_db()
    # Claimed twice under the same task id (the first attempt's write was rolled back).
    assert (item.status, item.attempts) == ("done", 2)
    assert Report.objects.count() == 1
    assert item.report_id == Report.objects.get().pk


def _age(batch: Batch, **fields_seconds_ago: float) -> None:
    now = timezone.now()
    BatchItem.objects.filter(batch=batch).update(
        **{name: now - timedelta(seconds=s) for name, s in fields_seconds_ago.items()}
    )


def test_sweep_resends_pending_items_of_a_stalled_batch_after_a_minute(
    launch, django_capture_on_commit_callbacks
):
    batch = launch(count=3)
    _age(batch, enqueued_at=90)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = services.items_requeue_stuck()
    assert result == {"requeued_running": 0, "reenqueued_pending": 3}
    assert len(callbacks) == 1


def test_sweep_leaves_pending_items_of_a_moving_batch_alone(
    launch, django_capture_on_commit_callbacks
):
    batch = launch(count=3)
    _age(batch, enqueued_at=90)
    # One item was finished 10 s ago: the queue is moving, its messages are not lost.
    BatchItem.objects.filter(batch=batch, index=0).update(
        status="failed", finished_at=timezone.now() - timedelta(seconds=10)
    )
    with django_capture_on_commit_callbacks(execute=False):
        result = services.items_requeue_stuck()
    assert result == {"requeued_running": 0, "reenqueued_pending": 0}


def test_sweep_does_not_resend_items_enqueued_under_a_minute_ago(
    launch, django_capture_on_commit_callbacks
):
    batch = launch(count=2)
    _age(batch, enqueued_at=20)
    with django_capture_on_commit_callbacks(execute=False):
        assert services.items_requeue_stuck() == {"requeued_running": 0, "reenqueued_pending": 0}


def test_launch_replayed_with_the_same_key_returns_the_first_batch(launch):
    coordinator = CoordinatorFactory()
    first = launch(count=2, created_by=coordinator, idempotency_key="k-1")
    again = launch(count=2, created_by=coordinator, idempotency_key="k-1")
    other_key = launch(count=2, created_by=coordinator, idempotency_key="k-2")
    assert again.pk == first.pk
    assert other_key.pk != first.pk
    assert Batch.objects.count() == 2
    assert BatchItem.objects.filter(batch=first).count() == 2


def test_same_key_from_another_user_is_another_launch(launch):
    first = launch(created_by=CoordinatorFactory(), idempotency_key="shared")
    second = launch(created_by=CoordinatorFactory(), idempotency_key="shared")
    assert first.pk != second.pk


@pytest.mark.django_db
def test_api_launch_replay_with_idempotency_key_200_same_batch(client):
    coordinator = CoordinatorFactory()
    token = Token.objects.create(user=coordinator).key
    body = {"count": 2, "backend": "offline", "seed": 3}
    headers = {"HTTP_AUTHORIZATION": f"Token {token}", "HTTP_IDEMPOTENCY_KEY": "launch-42"}
    first = client.post("/api/v1/batches/", body, content_type="application/json", **headers)
    replay = client.post("/api/v1/batches/", body, content_type="application/json", **headers)
    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json()["id"] == first.json()["id"]
    assert Batch.objects.count() == 1


@pytest.mark.django_db
def test_launch_page_replayed_form_creates_one_batch(client):
    coordinator = CoordinatorFactory()
    client.login(username=coordinator.username, password=PASSWORD)
    page = client.get(reverse("generation:batch_launch"))
    form = page.context["form"]
    token = form["launch_token"].value()
    assert len(token) == 32
    assert f'name="launch_token" value="{token}"' in page.content.decode()
    data = {
        name: form[name].value()
        for name in form.fields
        if form[name].value() is not None and name != "launch_token"
    }
    data.update({"count": 2, "backend": "offline", "seed": 4, "launch_token": token})
    data["frame"] = form["frame"].value()
    first = client.post(reverse("generation:batch_launch"), data)
    replay = client.post(reverse("generation:batch_launch"), data)
    assert (first.status_code, replay.status_code) == (302, 302)
    assert first["Location"] == replay["Location"]
    assert Batch.objects.count() == 1
    # A new form is a new launch.
    fresh = client.get(reverse("generation:batch_launch")).context["form"]
    assert fresh["launch_token"].value() != token


def test_two_launches_with_one_key_at_the_same_moment_create_one_batch(roles):
    coordinator = CoordinatorFactory()
    barrier = threading.Barrier(3)
    results: list = []

    def launch_once() -> None:
        try:
            barrier.wait()
            results.append(
                services.batch_launch(
                    count=3,
                    backend="offline",
                    seed=9,
                    enqueue=False,
                    created_by=coordinator,
                    idempotency_key="race",
                ).pk
            )
        except Exception as exc:
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=partial(launch_once)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(set(results)) == 1, results
    assert Batch.objects.count() == 1
    assert BatchItem.objects.count() == 3
