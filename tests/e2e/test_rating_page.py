"""The rating page as a physician meets it: accessible, light, readable on a tablet and
at 200% zoom, and a saved score only swaps its own row."""

import json

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from review.models import Rating
from tests.e2e.conftest import (
    ARTIFACTS,
    DESKTOP,
    TABLET,
    log_in,
    queue,
    run_axe,
    screenshot,
    use_sample_report,
)

pytestmark = pytest.mark.e2e

BYTE_BUDGET = 150 * 1024


def open_rating_page(new_context, study_setup, *, locale="en-GB", viewport=None) -> Page:
    study, reviewer = study_setup["study"], study_setup["reviewers"][0]
    page = new_context(locale=locale, viewport=viewport).new_page()
    log_in(page, reviewer)
    page.goto(reverse("review:rate", args=[queue(reviewer, study)[0].code]))
    expect(page.locator("fieldset.domain.current")).to_have_count(1)
    return page


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_reviewer_pages_have_no_serious_accessibility_violations(new_context, study_setup, locale):
    study, reviewer = study_setup["study"], study_setup["reviewers"][0]
    first = queue(reviewer, study)[0]
    page = new_context(locale=locale).new_page()
    log_in(page, reviewer)
    assert run_axe(page) == []

    page.goto(reverse("review:rate", args=[first.code]))
    expect(page.locator("fieldset.domain.current")).to_have_count(1)
    assert run_axe(page) == []
    # Once scored (the swapped-in rows) and with the focus moved on, still clean.
    page.keyboard.press("6")
    expect(page.locator("fieldset.domain.scored")).to_have_count(1)
    assert run_axe(page) == []


def test_each_domain_is_a_labelled_radio_group_with_its_anchors(new_context, study_setup):
    page = open_rating_page(new_context, study_setup)
    study = study_setup["study"]
    for domain in study.domains.order_by("order"):
        # The exact name: the highlight and tick symbols are decoration, not read out.
        group = page.get_by_role("radiogroup", name=domain.label, exact=True)
        expect(group).to_be_visible()
        expect(group.get_by_role("radio")).to_have_count(10)
        expect(group.get_by_role("radio", name="10", exact=True)).to_be_visible()
        row = page.locator(f"fieldset[data-domain={domain.key}]")
        expect(row.locator("legend")).to_be_visible()
        expect(row.locator(".anchor-low")).to_have_text(f"1 = {domain.anchor_low}")
        expect(row.locator(".anchor-high")).to_have_text(f"10 = {domain.anchor_high}")
        description = group.get_attribute("aria-describedby") or ""
        described = " ".join(page.locator(f"#{i}").inner_text() for i in description.split())
        assert domain.anchor_low in described
        assert domain.anchor_high in described


def test_focus_is_visible_and_a_score_is_shown_by_more_than_colour(new_context, study_setup):
    page = open_rating_page(new_context, study_setup)
    # The report holds the focus on arrival; Tab takes it to the highlighted domain.
    page.keyboard.press("Tab")
    focused_choice = page.locator("fieldset.domain.current input:focus + span")
    expect(focused_choice).to_have_count(1)
    assert focused_choice.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"
    assert focused_choice.evaluate("el => parseFloat(getComputedStyle(el).outlineWidth)") >= 2

    page.keyboard.press("8")
    row = page.locator("fieldset[data-domain=language_quality]")
    expect(row.locator(".saved-score")).to_have_text(" — saved: 8")
    checked = row.locator("input:checked + span")
    expect(checked).to_have_text("8")
    # Besides the fill colour: the chosen value is underlined and the legend says it in words.
    assert "underline" in checked.evaluate("el => getComputedStyle(el).textDecorationLine")
    unchecked = row.locator("input:not(:checked) + span").first
    assert "underline" not in unchecked.evaluate("el => getComputedStyle(el).textDecorationLine")


@pytest.mark.parametrize(
    "viewport",
    [TABLET, {"width": 640, "height": 450}],
    ids=["tablet-768", "desktop-1280-at-200pc-zoom"],
)
def test_report_text_never_scrolls_sideways(new_context, study_setup, viewport):
    # 200% zoom of a 1280x900 window lays the page out in a 640x450 CSS viewport.
    study, reviewer = study_setup["study"], study_setup["reviewers"][0]
    assignment = queue(reviewer, study)[0]
    use_sample_report(assignment)
    report = assignment.report
    # Plus the worst case for wrapping: one very long unbroken token.
    report.text += "\n\nhttps://exemple.invalid/un/tres/long/chemin/sans/espace/" + "x" * 120
    report.save(update_fields=["text"])
    page = open_rating_page(new_context, study_setup, viewport=viewport)
    widths = page.evaluate(
        """() => {
            const text = document.querySelector('.report-text');
            const root = document.documentElement;
            return {text: [text.scrollWidth, text.clientWidth],
                    page: [root.scrollWidth, root.clientWidth]};
        }"""
    )
    assert widths["text"][0] <= widths["text"][1], widths
    assert widths["page"][0] <= widths["page"][1], widths


def test_rating_page_weighs_under_budget_and_a_save_swaps_only_its_row(new_context, study_setup):
    study, reviewer = study_setup["study"], study_setup["reviewers"][0]
    first = queue(reviewer, study)[0]
    login_page = new_context().new_page()
    log_in(login_page, reviewer)
    # Measure a first visit: a fresh context (empty cache) holding only the session cookie.
    page = new_context(storage_state=login_page.context.storage_state()).new_page()
    page.goto(reverse("review:rate", args=[first.code]), wait_until="load")
    expect(page.locator("fieldset.domain.current")).to_have_count(1)

    entries = page.evaluate(
        """() => [...performance.getEntriesByType('navigation'),
                  ...performance.getEntriesByType('resource')]
                 .map(e => ({name: new URL(e.name).pathname, bytes: e.transferSize,
                             body: e.encodedBodySize}))"""
    )
    paths = sorted(entry["name"] for entry in entries)
    assert paths == sorted(
        [
            reverse("review:rate", args=[first.code]),
            "/static/css/app.css",
            # The page's declared icon (issue 17: no more /favicon.ico 404), 300 bytes.
            "/static/favicon.svg",
            "/static/js/rate.js",
            "/static/vendor/htmx.min.js",
        ]
    )
    total = sum(entry["bytes"] for entry in entries)
    assert all(entry["bytes"] > 0 for entry in entries), entries  # nothing came from a cache
    print(f"rating page: {total} bytes transferred", entries)
    assert total < BYTE_BUDGET

    # Mark the report text and the row; a save must replace the row but not the text.
    page.evaluate(
        """() => {
            document.querySelector('.report-text').synthreportsProbe = 'kept';
            document.querySelector('fieldset[data-domain=language_quality]')
                .synthreportsProbe = 'old row';
        }"""
    )
    with page.expect_response(lambda r: "/score/language_quality/" in r.url) as saved:
        page.keyboard.press("4")
    assert saved.value.status == 200
    fragment = saved.value.text()
    assert fragment.lstrip().startswith(
        '<fieldset class="domain scored" data-domain="language_quality"'
    )
    assert "report-text" not in fragment
    assert "<html" not in fragment
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "rating-page-bytes.json").write_text(
        json.dumps(
            {
                "total_transferred_bytes": total,
                "entries": entries,
                "score_save_response_body_bytes": len(saved.value.body()),
            },
            indent=2,
        )
    )
    row = page.locator("fieldset[data-domain=language_quality]")
    expect(row.locator(".saved-score")).to_have_text(" — saved: 4")
    assert page.evaluate("() => document.querySelector('.report-text').synthreportsProbe") == "kept"
    assert row.evaluate("el => el.synthreportsProbe === undefined") is True
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    assert Rating.objects.get(assignment=first, domain__key="language_quality").score == 4


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
def test_screenshots_of_reviewer_home_and_rating_page(new_context, study_setup, locale, viewport):
    study, reviewer = study_setup["study"], study_setup["reviewers"][0]
    first = queue(reviewer, study)[0]
    use_sample_report(first)
    study.name = "Synthetic oncology reports — pilot"
    study.description = "Hospitalization reports in oncology, real and synthetic, rated blind."
    study.save(update_fields=["name", "description"])
    suffix = f"{locale[:2]}-{viewport['width']}"
    page = new_context(locale=locale, viewport=viewport).new_page()
    log_in(page, reviewer)
    expect(page.locator(".study-cards")).to_be_visible()
    assert screenshot(page, f"reviewer-home-{suffix}").stat().st_size > 0

    page.goto(reverse("review:rate", args=[first.code]))
    expect(page.locator("fieldset.domain.current")).to_have_count(1)
    for key in ["8", "7"]:
        page.keyboard.press(key)
    expect(page.locator("fieldset.domain.scored")).to_have_count(2)
    assert screenshot(page, f"rating-page-{suffix}").stat().st_size > 0
