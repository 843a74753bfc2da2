"""The batch page's item rows follow the work while the batch runs: each progress poll
carries the rows that moved since the previous one, swapped in place (htmx out of band)."""

import re

from django.urls import reverse
from django.utils import timezone

from generation import services
from generation.models import BatchItem

SINCE = re.compile(r"part=progress&amp;since=(\d+)")


def _poll(client, batch, since):
    url = reverse("generation:batch_detail", args=[batch.pk])
    return client.get(url, {"part": "progress", "since": since}, headers={"HX-Request": "true"})


def test_poll_sends_the_rows_that_moved_with_attempts_and_last_error(
    coordinator_client, launch, django_assert_num_queries
):
    batch = launch(count=4)
    page = coordinator_client.get(reverse("generation:batch_detail", args=[batch.pk]))
    since = SINCE.search(page.content.decode()).group(1)
    items = list(batch.items.order_by("index"))

    quiet = _poll(coordinator_client, batch, since).content.decode()
    assert 'hx-swap-oob="true"' not in quiet

    services.batch_item_process(item_id=items[0].pk, claim_token="t0")
    # A transient failure put back in the queue: attempts and the last error show at once.
    BatchItem.objects.filter(pk=items[2].pk).update(
        attempts=1, error="attempt 1: HTTP 503", enqueued_at=timezone.now()
    )
    # session, user with their roles, batch, progress aggregate, changed rows (with reports)
    with django_assert_num_queries(5):
        moved = _poll(coordinator_client, batch, since)
    body = moved.content.decode()
    assert moved.status_code == 200
    rows = re.findall(r'<tr id="item-(\d+)" data-status="(\w+)" hx-swap-oob="true">', body)
    assert rows == [("0", "done"), ("2", "pending")]
    row_2 = body.split('<tr id="item-2"')[1].split("</tr>")[0]
    assert '<td class="num">1</td>' in row_2
    assert "last error: attempt 1: HTTP 503" in row_2
    # The next answer asks from its own time onward.
    assert int(SINCE.search(body).group(1)) >= int(since)


def test_poll_with_a_bad_since_sends_no_rows(coordinator_client, launch):
    batch = launch(count=2)
    body = _poll(coordinator_client, batch, "yesterday").content.decode()
    assert 'hx-swap-oob="true"' not in body
    assert 'data-counter="pending">2<' in body
