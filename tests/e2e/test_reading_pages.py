"""Coordinators' reading pages fit a 1280 px wide window (no horizontal scrolling of the
page), with long provenance, scenario and annotation tables, and a click on a highlighted
passage shows its row (field, value, offsets)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from generation import services as generation_services
from tests.e2e.conftest import log_in
from tests.factories import CoordinatorFactory

pytestmark = pytest.mark.e2e


def _page_width(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def test_report_and_generated_item_pages_fit_1280_and_spans_link_to_rows(new_context, roles):
    coordinator = CoordinatorFactory()
    batch = generation_services.batch_launch(
        count=1, backend="offline", seed=11, created_by=coordinator, enqueue=False
    )
    generation_services.batch_run_in_process(batch=batch)
    item = batch.items.get()
    report = item.report
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page, coordinator)

    for url in (
        reverse("generation:item_report", args=[item.pk]),
        reverse("review:report_detail", args=[report.code]),
    ):
        page.goto(url)
        expect(page.locator(".legend li").first).to_be_visible()
        assert _page_width(page) <= 1280, url

    first = page.locator("a.annotation").first
    target = first.get_attribute("href")
    first.click()
    row = page.locator(f"tr{target}")
    expect(row).to_be_visible()
    assert page.evaluate("() => location.hash") == target
    span = report.annotations[0]
    expect(row.locator("td").nth(3)).to_have_text(str(span["start"]))
    expect(row.locator("td").nth(4)).to_have_text(str(span["end"]))
