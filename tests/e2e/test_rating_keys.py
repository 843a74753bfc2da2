"""Issue 17 in a real browser: reading-safe keys, one screen at 1280x900, the phone and
tablet bar, cannot assess, reading time, dark mode. Screenshots of each at 1280x900,
1920x1080, 390x844 and 768x1024 go to test-artifacts/screenshots/."""

import re
import time

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from review.models import Assignment, CannotAssess, Rating
from review.results import study_ratings_frame
from tests.conftest import make_open_study
from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    SAMPLE_REPORT,
    TABLET,
    WIDE,
    log_in,
    queue,
    run_axe,
    screenshot,
    shots,
)
from tests.factories import CoordinatorFactory, ReviewerFactory

pytestmark = pytest.mark.e2e


def long_report(assignment) -> None:
    """The sample report twice over: long enough to scroll at every size."""
    report = assignment.report
    report.text = SAMPLE_REPORT + "\n" + SAMPLE_REPORT
    report.save(update_fields=["text"])


def open_first(new_context, study_setup, *, viewport=None, **options) -> tuple[Page, Assignment]:
    study, reviewer = study_setup["study"], study_setup["reviewers"][0]
    first = queue(reviewer, study)[0]
    long_report(first)
    page = new_context(viewport=viewport, **options).new_page()
    log_in(page, reviewer)
    page.goto(reverse("review:rate", args=[first.code]))
    expect(page.locator("fieldset.domain.current")).to_have_count(1)
    return page, first


def settled(page: Page) -> None:
    """No htmx request, swap or settle under way (the next key acts on the new row)."""
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


def scroll_y(page: Page) -> float:
    return page.evaluate("() => window.scrollY")


def test_reading_keys_scroll_the_report_and_never_save(new_context, study_setup):
    page, first = open_first(new_context, study_setup)
    expect(page.locator("#report")).to_be_focused()
    assert scroll_y(page) == 0
    for key in ["Space", "PageDown", "ArrowDown"]:
        before = scroll_y(page)
        page.keyboard.press(key)
        page.wait_for_function(f"() => window.scrollY > {before}")
    page.keyboard.press("PageUp")
    page.keyboard.press("ArrowUp")
    # On a score button too (reached with Tab), the reading keys scroll and do not choose.
    page.keyboard.press("Tab")
    expect(page.locator("fieldset[data-domain=language_quality] input").first).to_be_focused()
    page.evaluate("() => window.scrollTo(0, 0)")
    for key in ["ArrowDown", "ArrowRight", "Space", "PageDown", "ArrowLeft", "ArrowUp"]:
        page.keyboard.press(key)
    page.wait_for_timeout(300)
    assert page.locator("fieldset.domain input:checked").count() == 0
    assert Rating.objects.filter(assignment=first).count() == 0
    shots(page, "keys-reading")


def test_digits_save_one_score_of_the_highlighted_domain_and_u_undoes(new_context, study_setup):
    page, first = open_first(new_context, study_setup)
    with page.expect_response(lambda r: "/score/language_quality/" in r.url) as saved:
        page.keyboard.press("7")
    assert saved.value.status == 200
    expect(page.locator("fieldset[data-domain=language_quality] .saved-score")).to_have_text(
        " — saved: 7"
    )
    assert list(Rating.objects.filter(assignment=first).values_list("domain__key", "score")) == [
        ("language_quality", 7)
    ]
    # The highlight moved on; the focus stayed on the report, so reading keys still scroll.
    expect(page.locator("fieldset.domain.current")).to_have_attribute(
        "data-domain", "medical_consistency"
    )
    expect(page.locator("#report")).to_be_focused()

    # u: the first score of a domain is removed again.
    with page.expect_response(lambda r: "/score/language_quality/clear/" in r.url):
        page.keyboard.press("u")
    expect(page.locator("fieldset[data-domain=language_quality] .saved-score")).to_have_count(0)
    settled(page)
    assert Rating.objects.filter(assignment=first).count() == 0

    # A changed score: u puts the previous one back. 0 means 10.
    page.keyboard.press("k")
    with page.expect_response(lambda r: "/score/language_quality/" in r.url):
        page.keyboard.press("0")
    expect(page.locator("fieldset[data-domain=language_quality] .saved-score")).to_have_text(
        " — saved: 10"
    )
    settled(page)
    page.keyboard.press("k")
    with page.expect_response(lambda r: "/score/language_quality/" in r.url):
        page.keyboard.press("3")
    expect(page.locator("fieldset[data-domain=language_quality] .saved-score")).to_have_text(
        " — saved: 3"
    )
    settled(page)
    assert Rating.objects.get(assignment=first, domain__key="language_quality").score == 3
    with page.expect_response(lambda r: "/score/language_quality/" in r.url):
        page.keyboard.press("u")
    expect(page.locator("fieldset[data-domain=language_quality] .saved-score")).to_have_text(
        " — saved: 10"
    )
    assert list(Rating.objects.filter(assignment=first).values_list("domain__key", "score")) == [
        ("language_quality", 10)
    ]
    # j/k and Tab move between domains without scoring.
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator("fieldset.domain.current")).to_have_attribute("data-domain", "completeness")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.locator("fieldset.domain.current")).to_have_attribute("data-domain", "conciseness")
    page.keyboard.press("Shift+Tab")
    expect(page.locator("fieldset.domain.current")).to_have_attribute("data-domain", "completeness")
    assert Rating.objects.filter(assignment=first).count() == 1
    shots(page, "keys-digits-undo")


def test_bracket_keys_go_to_the_previous_and_next_report(new_context, study_setup):
    page, first = open_first(new_context, study_setup)
    study, reviewer = study_setup["study"], study_setup["reviewers"][0]
    second, third = queue(reviewer, study)[1:3]
    page.keyboard.press("]")
    page.wait_for_url(f"**{reverse('review:rate', args=[second.code])}")
    page.keyboard.press("Alt+ArrowRight")
    page.wait_for_url(f"**{reverse('review:rate', args=[third.code])}")
    page.keyboard.press("[")
    page.wait_for_url(f"**{reverse('review:rate', args=[second.code])}")
    page.keyboard.press("Alt+ArrowLeft")
    page.wait_for_url(f"**{reverse('review:rate', args=[first.code])}")
    assert Rating.objects.filter(assignment__reviewer=reviewer).count() == 0


def test_question_mark_opens_the_shortcut_sheet(new_context, study_setup):
    page, _first = open_first(new_context, study_setup)
    page.keyboard.press("?")
    sheet = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(sheet).to_be_visible()
    expect(sheet.locator("dt")).to_have_count(8)
    assert run_axe(page) == []
    shots(page, "keys-shortcut-sheet")
    page.keyboard.press("Escape")
    expect(sheet).to_be_hidden()


def _in_viewport(page: Page, selector: str) -> list[str]:
    """Selectors of the matching elements that are not wholly inside the viewport."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)].filter(el => {
            const r = el.getBoundingClientRect();
            return r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth
                   || r.width === 0;
        }).map(el => el.outerHTML.slice(0, 80))""",
        selector,
    )


def _one_line_rows(page: Page) -> list[str]:
    """The domains whose label, anchors and buttons are not laid out on one line, left to
    right: label | lowest anchor | 1 … 10 | highest anchor, each vertically overlapping
    the row of buttons, none overlapping its neighbour."""
    return page.evaluate(
        """() => [...document.querySelectorAll('fieldset.domain')].filter(row => {
            const box = (sel) => row.querySelector(sel).getBoundingClientRect();
            const label = box('.domain-label'), low = box('.anchor-low'),
                  high = box('.anchor-high');
            const buttons = [...row.querySelectorAll('.choice span')]
                .map(el => el.getBoundingClientRect());
            const first = buttons[0], last = buttons[buttons.length - 1];
            const level = (r) => r.top < first.bottom && r.bottom > first.top;
            const oneRow = buttons.every(b => Math.abs(b.top - first.top) < 1);
            return !(oneRow && level(label) && level(low) && level(high)
                     && label.right <= low.left && low.right <= first.left
                     && last.right <= high.left && high.right <= row.getBoundingClientRect().right
                     && low.width > 40 && high.width > 40);
        }).map(row => row.dataset.domain)"""
    )


@pytest.mark.parametrize("viewport", [DESKTOP, WIDE], ids=["1280x900", "1920x1080"])
def test_every_control_of_the_panel_is_on_screen_without_scrolling(
    new_context, study_setup, viewport
):
    page, _first = open_first(new_context, study_setup, viewport=viewport)
    controls = (
        "#rating-panel .choice span, #rating-panel legend, #rating-panel .anchor, "
        "#rating-panel summary, #submit-button"
    )
    assert page.locator(controls).count() == 6 * 10 + 6 + 12 + 6 + 1 + 1
    assert _in_viewport(page, controls) == []
    # Each domain on one line: its label, then the lowest anchor, 1-10, the highest anchor,
    # side by side and level with the buttons (not under them).
    assert _one_line_rows(page) == [], _one_line_rows(page)
    # No scrollbar of its own: the panel's content fits its box.
    sizes = page.evaluate(
        "() => { const p = document.getElementById('rating-panel');"
        " return [p.scrollHeight, p.clientHeight]; }"
    )
    assert sizes[0] <= sizes[1], sizes
    # Still all on screen once the reader has scrolled far down the report.
    page.keyboard.press("End")
    page.wait_for_function("() => window.scrollY > 300")
    assert _in_viewport(page, controls) == []
    shots(page, f"panel-one-screen-{viewport['width']}")


def test_incomplete_submit_focuses_the_missing_domain(new_context, study_setup):
    page, first = open_first(new_context, study_setup)
    for key in ["8", "7"]:
        with page.expect_response(lambda r: "/score/" in r.url):
            page.keyboard.press(key)
    page.keyboard.press("Enter")
    missing = page.locator("fieldset[data-domain=completeness]")
    expect(missing).to_have_class("domain current missing")
    expect(missing.locator("input").first).to_be_focused()
    expect(page.locator("#missing-message")).to_have_text(
        "Score this domain before submitting: Completeness"
    )
    assert _in_viewport(page, "fieldset[data-domain=completeness]") == []
    assert page.url.endswith(reverse("review:rate", args=[first.code]))
    first.refresh_from_db()
    assert first.status == Assignment.Status.IN_PROGRESS
    shots(page, "incomplete-submit")


@pytest.mark.parametrize("viewport", [PHONE, TABLET], ids=["390x844", "768x1024"])
def test_touch_flow_rates_a_report_with_taps_only(new_context, study_setup, viewport):
    page, first = open_first(
        new_context, study_setup, viewport=viewport, is_mobile=True, has_touch=True
    )
    study, reviewer = study_setup["study"], study_setup["reviewers"][0]
    # The report comes first; the bar at the bottom shows one domain, its ten scores on one
    # row of equal widths; no keyboard hints.
    report_box = page.locator(".report-text").bounding_box()
    bar = page.locator("#rating-panel").bounding_box()
    assert report_box["y"] < bar["y"]
    assert bar["y"] + bar["height"] == pytest.approx(viewport["height"], abs=1)
    expect(page.locator("fieldset.domain:visible")).to_have_count(1)
    boxes = [box for box in page.locator("fieldset.domain.current .choice span").all()]
    geometry = [b.bounding_box() for b in boxes]
    assert len({round(g["y"]) for g in geometry}) == 1
    widths = [g["width"] for g in geometry]
    assert max(widths) - min(widths) < 1
    assert min(g["height"] for g in geometry) >= 44
    expect(page.locator(".kbd-only:visible")).to_have_count(0)
    expect(page.locator("kbd:visible")).to_have_count(0)
    expect(page.get_by_role("button", name="Keyboard shortcuts")).to_be_hidden()
    shots(page, f"touch-bar-{viewport['width']}")

    # A swipe to the left shows the next domain, to the right the previous one.
    swipe = """([from, to]) => {
        const bar = document.getElementById('rating-panel');
        const touch = (x) => new Touch({identifier: 1, target: bar, clientX: x, clientY: 700});
        bar.dispatchEvent(new TouchEvent('touchstart', {touches: [touch(from)], bubbles: true}));
        bar.dispatchEvent(new TouchEvent('touchend', {changedTouches: [touch(to)], bubbles: true}));
    }"""
    page.evaluate(swipe, [300, 100])
    expect(page.locator("fieldset.domain.current")).to_have_attribute(
        "data-domain", "medical_consistency"
    )
    expect(page.locator(".step-count")).to_have_text("2 / 6")
    page.evaluate(swipe, [100, 300])
    expect(page.locator("fieldset.domain.current")).to_have_attribute(
        "data-domain", "language_quality"
    )
    taps = [9, 8, 7, 6, 5, 4]
    keys = list(study.domains.order_by("order", "id").values_list("key", flat=True))
    for key, score in zip(keys, taps, strict=True):
        current = page.locator("fieldset.domain.current")
        expect(current).to_have_attribute("data-domain", key)
        with page.expect_response(lambda r, key=key: f"/score/{key}/" in r.url):
            current.get_by_role("radio", name=str(score), exact=True).tap()
    # The last tap leaves the last domain highlighted; Submit is in the bar.
    page.locator("#submit-button").tap()
    second = queue(reviewer, study)[1]
    page.wait_for_url(f"**{reverse('review:rate', args=[second.code])}")
    first.refresh_from_db()
    assert first.status == Assignment.Status.SUBMITTED
    assert dict(first.ratings.values_list("domain__key", "score")) == dict(
        zip(keys, taps, strict=True)
    )


def test_cannot_assess_hands_the_report_to_another_reviewer(new_context, roles):
    coordinator = CoordinatorFactory()
    reviewers = [ReviewerFactory(), ReviewerFactory(), ReviewerFactory()]
    study = make_open_study(coordinator=coordinator, reviewers=reviewers, k=2)
    leaving = queue(reviewers[0], study)[0]
    report = leaving.report
    taker = next(
        r for r in reviewers[1:] if not Assignment.objects.filter(reviewer=r, report=report)
    )
    page = new_context().new_page()
    log_in(page, reviewers[0])
    page.goto(reverse("review:rate", args=[leaving.code]))
    page.keyboard.press("6")  # a score that must vanish with the assignment
    expect(page.locator("fieldset.domain.scored")).to_have_count(1)
    page.get_by_text("Cannot assess this report").click()
    page.get_by_label("Identifying data left in").check()
    page.get_by_label("Details (optional)").fill("Nom du patient en clair")
    shots(page, "cannot-assess")
    page.get_by_role("button", name="Hand this report back").click()
    expect(page.locator(".message-success")).to_have_text(
        "Report handed back; it has left your queue."
    )
    assert not Assignment.objects.filter(reviewer=reviewers[0], report=report).exists()
    assert Rating.objects.filter(assignment__report=report, assignment__study=study).count() == 0
    moved = Assignment.objects.get(study=study, reviewer=taker, report=report)
    assert moved.status == Assignment.Status.PENDING
    flag = CannotAssess.objects.get(study=study)
    assert (flag.reviewer, flag.reason, flag.note, flag.reassigned_to) == (
        reviewers[0],
        "identifying",
        "Nom du patient en clair",
        taker,
    )
    assert report.code not in set(study_ratings_frame(study=study)["report"])

    # The coordinator sees it on the study page.
    coordinator_page = new_context().new_page()
    log_in(coordinator_page, coordinator)
    coordinator_page.goto(reverse("review:study_detail", args=[study.pk]))
    row = coordinator_page.locator("#cannot-assess tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text(report.code)
    expect(row.locator("td").nth(2)).to_have_text("Identifying data left in")


def test_reading_time_of_a_report_read_three_seconds(new_context, study_setup):
    page, first = open_first(new_context, study_setup)
    started = time.monotonic()
    # Reading: a little scrolling for three seconds, then a score.
    for _ in range(6):
        page.mouse.wheel(0, 120)
        page.wait_for_timeout(500)
    with page.expect_response(lambda r: "/score/" in r.url) as saved:
        page.keyboard.press("5")
    assert saved.value.status == 200
    wall_ms = (time.monotonic() - started) * 1000
    first.refresh_from_db()
    print(f"reading time: {first.active_ms} ms of {wall_ms:.0f} ms wall")
    assert 2900 <= first.active_ms <= wall_ms + 1000
    assert first.active_ms % 1000 != 0 or first.active_ms > 3000  # sub-second figure kept
    # One more second of reading, then the next score: the page sends the visit's running
    # total and the server adds only the new second (nothing counted twice).
    before, started = first.active_ms, time.monotonic()
    for _ in range(2):
        page.mouse.wheel(0, 120)
        page.wait_for_timeout(500)
    with page.expect_response(lambda r: "/score/" in r.url):
        page.keyboard.press("6")
    more_ms = (time.monotonic() - started) * 1000
    first.refresh_from_db()
    print(f"then: +{first.active_ms - before} ms of {more_ms:.0f} ms wall")
    assert 900 <= first.active_ms - before <= more_ms + 1000
    shots(page, "reading-time")


@pytest.mark.parametrize(
    "page_name", ["home", "rate", "my_reports", "instructions", "shortcuts", "phone"]
)
def test_dark_mode_pages_are_axe_clean(new_context, study_setup, page_name):
    study, reviewer = study_setup["study"], study_setup["reviewers"][0]
    first = queue(reviewer, study)[0]
    long_report(first)
    study.instructions = "## Avant de commencer\n\nLisez le compte rendu **en entier**."
    study.save(update_fields=["instructions"])
    options = {"color_scheme": "dark"}
    if page_name == "phone":
        options |= {"viewport": PHONE, "is_mobile": True, "has_touch": True}
    page = new_context(**options).new_page()
    not_found = []
    page.on("response", lambda r: not_found.append(r.url) if r.status == 404 else None)
    log_in(page, reviewer)
    urls = {
        "home": reverse("review:home"),
        "my_reports": reverse("review:my_reports", args=[study.code]),
        "instructions": reverse("review:instructions", args=[study.code]),
    }
    page.goto(urls.get(page_name, reverse("review:rate", args=[first.code])))
    if page_name in {"rate", "shortcuts", "phone"}:
        page.keyboard.press("6")
        expect(page.locator("fieldset.domain.scored")).to_have_count(1)
    if page_name == "shortcuts":
        page.keyboard.press("?")
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(20, 24, 29)"
    assert run_axe(page) == []
    assert not_found == []
    screenshot(page, f"dark-{page_name}")
    if page_name == "rate":
        shots(page, "dark-rate")


def test_text_size_is_remembered_per_reviewer(new_context, study_setup):
    page, first = open_first(new_context, study_setup)
    expect(page.locator(".report-text")).to_have_class("report-text text-size-m")
    page.get_by_label("Text size").select_option("xl")
    expect(page.locator(".report-text")).to_have_class("report-text text-size-xl")
    size = page.locator(".report-text p").first.evaluate("el => getComputedStyle(el).fontSize")
    assert size == "22.4px"
    # Another browser, a new login: the same size.
    other = new_context().new_page()
    log_in(other, study_setup["reviewers"][0])
    other.goto(reverse("review:rate", args=[first.code]))
    expect(other.locator(".report-text")).to_have_class("report-text text-size-xl")
    shots(other, "text-size-xl")


def test_reading_time_beats_once_a_minute_only_with_time_not_sent_and_on_leaving(
    new_context, study_setup
):
    # Issue 21: the beat went every 15 s whatever had been sent. Now it goes at most once a
    # minute, only with reading time no save carried, and leaving the page sends the rest
    # (sendBeacon). The page's clock is Playwright's; the server caps what it counts by the
    # real wall time, so the figures checked are the ones the page sends.
    study, reviewer = study_setup["study"], study_setup["reviewers"][0]
    first = queue(reviewer, study)[0]
    context = new_context()
    beats: list[str] = []
    context.on(
        "request",
        lambda r: beats.append(r.post_data or "") if "/heartbeat/" in r.url else None,
    )
    page = context.new_page()
    log_in(page, reviewer)
    page.clock.install()
    page.goto(reverse("review:rate", args=[first.code]))
    expect(page.locator("fieldset.domain.current")).to_have_count(1)

    def sent_ms(body: str) -> int:
        # An htmx beat is form-encoded, a beacon multipart: the value follows active_ms.
        match = re.search(r'active_ms(?:=|"\r\n\r\n)(\d+)', body)
        assert match, body
        return int(match.group(1))

    # Reading: input keeps the reviewer engaged (a pointer move: a wheel's scroll events come
    # late and would date the input after the fake clock's jump).
    page.mouse.move(400, 300)
    page.clock.run_for(45_000)
    assert beats == []  # before: three beats by now
    page.clock.run_for(15_000)
    page.wait_for_timeout(300)
    # A minute since the page opened (the fake clock also runs on its own between steps: the
    # pointer moved a few ms after the page opened, and engagement lasts 60 s from it).
    assert len(beats) == 1 and 59_000 <= sent_ms(beats[0]) <= 61_000
    # Idle for a minute (no input): nothing new to send, no beat.
    page.clock.run_for(120_000)
    page.wait_for_timeout(300)
    assert len(beats) == 1
    # A score carries the running total: no beat in the minute that follows it (30 s here,
    # then 15 s of reading below: well inside the minute, whatever the real seconds between).
    with page.expect_response(lambda r: "/score/" in r.url):
        page.keyboard.press("5")
    page.clock.run_for(30_000)
    page.wait_for_timeout(300)
    assert len(beats) == 1
    # Fifteen more seconds of reading, then the reviewer leaves: the page sends the total
    # with sendBeacon (which Playwright's request events do not show: the server's figure
    # tells it arrived, capped by the real seconds since the page was served).
    first.refresh_from_db()
    counted = first.active_ms
    page.evaluate(
        """() => { const send = navigator.sendBeacon.bind(navigator);
             navigator.sendBeacon = (url, data) => {
               sessionStorage.setItem("beacon", url + " " + data.get("active_ms"));
               return send(url, data); }; }"""
    )
    page.mouse.move(420, 320)
    page.clock.run_for(15_000)
    page.goto(reverse("review:home"))
    url, sent = page.evaluate("() => sessionStorage.getItem('beacon')").split()
    assert url == reverse("review:rate_heartbeat", args=[first.code])
    assert int(sent) > sent_ms(beats[0]) + 14_000
    assert len(beats) == 1  # no htmx beat besides
    for _ in range(30):
        first.refresh_from_db()
        if first.active_ms > counted:
            break
        page.wait_for_timeout(100)
    assert first.active_ms > counted
