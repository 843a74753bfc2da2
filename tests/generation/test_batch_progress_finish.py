"""The batch page's last progress poll (status 286) brings the rest of the page up to date."""

from django.urls import reverse

from generation.models import Batch
from tests.generation.conftest import process_all


def test_batch_progress_running_partial_has_no_out_of_band_parts(coordinator_client, launch):
    batch = launch(count=2)
    url = reverse("generation:batch_detail", args=[batch.pk]) + "?part=progress"
    body = coordinator_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'class="progress-count">0 / 2<' in body
    assert "hx-swap-oob" not in body


def test_batch_progress_finished_partial_swaps_status_actions_and_items(coordinator_client, launch):
    batch = launch(count=2)
    process_all(batch)
    url = reverse("generation:batch_detail", args=[batch.pk]) + "?part=progress"
    response = coordinator_client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 286
    body = response.content.decode()
    assert 'class="progress-count">2 / 2<' in body
    assert body.count('hx-swap-oob="true"') == 4
    assert '<span id="batch-status" class="badge" hx-swap-oob="true">Finished</span>' in body
    assert "Cancel the batch" not in body
    codes = list(batch.items.order_by("index").values_list("report__code", flat=True))
    for code in codes:
        assert f">{code}</a>" in body


def test_batch_detail_full_page_has_no_out_of_band_markers(coordinator_client, launch):
    batch = launch(count=1)
    body = coordinator_client.get(
        reverse("generation:batch_detail", args=[batch.pk])
    ).content.decode()
    assert "hx-swap-oob" not in body
    assert 'id="batch-items"' in body and 'id="batch-status"' in body
    assert "Cancel the batch" in body


def test_last_poll_settles_a_batch_whose_row_lags_its_items(coordinator_client, launch):
    # Every item done, the batch row still running (the worker marks it in a statement after
    # the item's; CI caught a poll in between): the last poll must not swap in "Running".
    batch = launch(count=2)
    process_all(batch)
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.RUNNING, finished_at=None)
    url = reverse("generation:batch_detail", args=[batch.pk]) + "?part=progress"
    response = coordinator_client.get(url, headers={"HX-Request": "true"})
    assert response.status_code == 286
    assert '<span id="batch-status" class="badge" hx-swap-oob="true">Finished</span>' in (
        response.content.decode()
    )
    batch.refresh_from_db()
    assert batch.status == Batch.Status.FINISHED and batch.finished_at is not None


def test_a_poll_with_items_still_open_leaves_the_batch_running(coordinator_client, launch):
    batch = launch(count=2)
    url = reverse("generation:batch_detail", args=[batch.pk]) + "?part=progress"
    assert coordinator_client.get(url, headers={"HX-Request": "true"}).status_code == 200
    batch.refresh_from_db()
    assert batch.status == Batch.Status.RUNNING
