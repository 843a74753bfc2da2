import pytest

from generation import pipeline, services
from generation.models import Batch, BatchItem
from review.exceptions import Conflict, InvalidInput
from review.models import Report
from synthreports.celery import app as celery_app
from tests.generation.conftest import process_all


def test_batch_launch_creates_items_with_scenarios_and_enqueues_on_commit(
    db, django_capture_on_commit_callbacks, monkeypatch
):
    sent = []
    # Services send the task by name (generation.queue); record instead of sending.
    monkeypatch.setattr(
        celery_app, "send_task", lambda name, kwargs: sent.append(kwargs["item_id"])
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        batch = services.batch_launch(count=4, seed=3, backend="offline", language="fr")
    assert len(callbacks) == 1
    items = list(batch.items.order_by("index"))
    assert [i.index for i in items] == [0, 1, 2, 3]
    assert all(i.status == "pending" and i.scenario["site"] for i in items)
    assert sorted(sent) == sorted(i.pk for i in items)
    assert all(i.enqueued_at is not None for i in BatchItem.objects.filter(batch=batch))
    assert (batch.backend, batch.model, batch.frame.label, batch.prompt.label) == (
        "offline",
        "offline",
        "france-incidence-2023@3",
        "compte-rendu-fr-v2",
    )


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"count": 0}, "bad_count"),
        ({"count": -3}, "bad_count"),
        ({"count": 5001}, "bad_count"),
        ({"count": 2, "frame": "nope"}, "unknown_frame"),
        ({"count": 2, "prompt": "nope-v9"}, "unknown_prompt"),
        ({"count": 2, "prompt": "discharge-report-en-v2", "language": "fr"}, "prompt_language"),
        ({"count": 2, "backend": "gpt"}, "unknown_backend"),
        ({"count": 2, "site_filter": "spleen"}, "unknown_site"),
        ({"count": 2, "temperature": 3.0}, "bad_temperature"),
        ({"count": 2, "backend": "mistral"}, "backend_unavailable"),
    ],
)
def test_batch_launch_bad_input_creates_nothing(db, settings, kwargs, code):
    settings.MISTRAL_API_KEY = ""
    settings.MISTRAL_SERVER_URL = ""
    with pytest.raises(InvalidInput) as info:
        services.batch_launch(**kwargs)
    assert info.value.code == code
    assert Batch.objects.count() == 0
    assert BatchItem.objects.count() == 0


def test_batch_launch_unknown_model_creates_nothing(db, mistral_settings):
    with pytest.raises(InvalidInput) as info:
        services.batch_launch(count=2, backend="mistral", model="gpt-4o")
    assert info.value.code == "unknown_model"
    assert "mistral-large-latest" in info.value.message
    assert Batch.objects.count() == 0


def test_batch_same_seed_same_scenarios(launch):
    first = launch(count=5, seed=99)
    second = launch(count=5, seed=99)
    assert [i.scenario for i in first.items.order_by("index")] == [
        i.scenario for i in second.items.order_by("index")
    ]


def test_batch_cancel_skips_pending_items(launch):
    batch = launch(count=4)
    first = batch.items.get(index=0)
    pipeline.batch_item_process(item_id=first.pk, claim_token="t")
    assert services.batch_cancel(batch=batch) == 3
    assert (
        pipeline.batch_item_process(item_id=batch.items.get(index=1).pk, claim_token="t")
        == "not_claimed"
    )
    counts = dict(batch.items.values_list("index", "status"))
    assert counts == {0: "done", 1: "skipped", 2: "skipped", 3: "skipped"}
    batch.refresh_from_db()
    assert batch.status == "cancelled"
    with pytest.raises(Conflict):
        services.batch_cancel(batch=batch)


def test_batch_retry_failed_requeues(launch, django_capture_on_commit_callbacks, monkeypatch):
    batch = launch(count=2)
    process_all(batch)
    BatchItem.objects.filter(batch=batch, index=1).update(status="failed", error="boom", attempts=5)
    sent = []
    monkeypatch.setattr(
        celery_app, "send_task", lambda name, kwargs: sent.append(kwargs["item_id"])
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.batch_retry_failed(batch=batch) == 1
    item = batch.items.get(index=1)
    assert (item.status, item.attempts) == ("pending", 0)
    assert sent == [item.pk]
    with pytest.raises(Conflict):
        services.batch_retry_failed(batch=batch)


def test_items_requeue_stuck_puts_running_back(launch, django_capture_on_commit_callbacks):
    batch = launch(count=2)
    from django.utils import timezone

    old = timezone.now() - timezone.timedelta(hours=2)
    BatchItem.objects.filter(batch=batch, index=0).update(
        status="running", claim_token="dead", claimed_at=old
    )
    BatchItem.objects.filter(batch=batch, index=1).update(enqueued_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=False):
        result = services.items_requeue_stuck()
    assert result == {"requeued_running": 1, "reenqueued_pending": 0}
    item = batch.items.get(index=0)
    assert (item.status, item.claim_token) == ("pending", "")
    assert pipeline.batch_item_process(item_id=item.pk, claim_token="new") == "done"


def test_batch_run_in_process_for_demo_seeding(db):
    batch = services.batch_launch(
        count=4, backend="offline", seed=2026, language="fr", name="Demo batch", enqueue=False
    )
    counts = services.batch_run_in_process(batch=batch)
    assert counts == {"pending": 0, "running": 0, "done": 4, "failed": 0, "skipped": 0}
    assert batch.status == "finished"
    assert Report.objects.filter(provenance__batch_name="Demo batch").count() == 4
