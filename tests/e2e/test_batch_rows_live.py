"""Mid-batch, the batch page's item rows change as a real worker moves them: done rows,
pending rows, a retried row with its attempts and last error — without a reload and
before the batch ends (items go through the real mistralai SDK to the local fake server,
one second each, the first answer a 503)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from generation import services
from generation.models import Batch
from generation.testing.fake_mistral import FakeMistral
from tests.e2e import test_generation_flow as generation_flow
from tests.e2e.conftest import log_in
from tests.factories import CoordinatorFactory

pytestmark = pytest.mark.e2e
# The generation flow's Redis broker (DB 6) fixture and real worker, shared.
redis_broker = generation_flow.redis_broker
celery_worker = generation_flow.celery_worker

COUNT = 8


def test_item_rows_update_mid_batch_with_attempts_and_last_error(
    new_context,
    roles,
    redis_broker,
    settings,
):
    coordinator = CoordinatorFactory()
    # The 503 asks to come back in 4 s (Retry-After): a window several polls wide.
    with FakeMistral(faults=["503"], latency_seconds=1.0, retry_after=4.0) as fake:
        settings.MISTRAL_API_KEY = "test-key"
        settings.MISTRAL_SERVER_URL = fake.url
        batch = services.batch_launch(
            count=COUNT,
            backend="mistral",
            model="mistral-small-latest",
            seed=5,
            created_by=coordinator,
        )
        page = new_context().new_page()
        log_in(page, coordinator)
        page.goto(reverse("generation:batch_detail", args=[batch.pk]))
        rows = page.locator("#batch-items tbody tr")
        expect(rows).to_have_count(COUNT)
        expect(rows.locator("td:nth-child(3)")).to_have_text(["Pending"] * COUNT)

        worker_env = {
            "MISTRAL_API_KEY": "test-key",
            "MISTRAL_SERVER_URL": fake.url,
            "GENERATION_RATE_LIMIT_PER_SECOND": "0",
            "GENERATION_TOKENS_PER_MINUTE": "0",
        }
        with celery_worker(extra_env=worker_env, concurrency=1):
            retried = rows.filter(has_text="last error: attempt 1:")
            try:
                expect(retried).to_have_count(1, timeout=30_000)
            except AssertionError:
                states = list(batch.items.values_list("index", "status", "attempts", "error"))
                raise AssertionError(f"rows never showed the retry; items: {states}") from None
            expect(retried.locator("td:nth-child(3)")).to_contain_text("Pending")
            expect(retried.locator("td:nth-child(4)")).to_have_text("1")
            expect(page.locator("tr[data-status=done]").first).to_be_visible(timeout=30_000)
            # Read the page, then the database: the batch still ran after the rows showed.
            done_rows = page.locator("#batch-items tr[data-status=done]").count()
            pending_rows = page.locator("#batch-items tr[data-status=pending]").count()
            batch.refresh_from_db()
            assert batch.status == Batch.Status.RUNNING
            assert 1 <= done_rows < COUNT
            assert pending_rows >= 1

            expect(page.locator("#progress .progress-count")).to_have_text(
                f"{COUNT} / {COUNT}", timeout=60_000
            )
            expect(rows.locator("td:nth-child(3)")).to_have_text(["Done"] * COUNT)
            # The retried item: two attempts, the error cleared once it succeeded.
            expect(rows.filter(has_text="last error")).to_have_count(0)
            attempts = rows.locator("td:nth-child(4)").all_inner_texts()
            assert sorted(attempts) == ["1"] * (COUNT - 1) + ["2"]
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1
