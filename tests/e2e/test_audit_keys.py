"""An annotation audit in a real browser, keyboard only: each verdict kind (1–4), a fixed
value, a fixed span and a missed annotation selected with Shift+arrows, then submit."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from review.models import AddedAnnotation, AnnotationVerdict, Assignment
from tests.e2e.conftest import log_in, run_axe, screenshot
from tests.factories import CoordinatorFactory, ReviewerFactory
from tests.review.audit_study.conftest import TEXT, make_audit_study, span

pytestmark = pytest.mark.e2e


def settled(page: Page) -> None:
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)


def select_with_keys(page: Page, at: int, start: int, end: int) -> None:
    """c puts the caret at the annotation in focus (offset `at`), → moves it to `start`,
    Shift+→ selects up to `end`: the keyboard only."""
    page.keyboard.press("c")
    for _ in range(start - at):
        page.keyboard.press("ArrowRight")
    for _ in range(end - start):
        page.keyboard.press("Shift+ArrowRight")
    assert page.evaluate("() => window.getSelection().toString()") == TEXT[start:end]


def current(page: Page) -> str:
    return page.locator(".audit-item.current").get_attribute("data-index")


def test_audit_with_the_keyboard(new_context, roles):  # roles: the live server needs them
    coordinator, reviewer = CoordinatorFactory(), ReviewerFactory()
    study = make_audit_study(coordinator=coordinator, reviewers=[reviewer], n_reports=2, k=1)
    first, second = Assignment.objects.filter(study=study, reviewer=reviewer).order_by("position")
    page = new_context().new_page()
    log_in(page, reviewer)
    page.goto(reverse("review:continue", args=[study.code]))
    page.wait_for_url(f"**{reverse('review:audit', args=[first.code])}")
    expect(page.locator("mark.ann")).to_have_count(5)
    assert current(page) == "0"

    # 1: correct, and on to the next annotation.
    with page.expect_response(lambda r: "/verdict/0/" in r.url):
        page.keyboard.press("1")
    settled(page)
    assert current(page) == "1"

    # 2: wrong value; the value field takes the focus; Enter saves it and moves on.
    with page.expect_response(lambda r: "/verdict/1/" in r.url):
        page.keyboard.press("2")
    settled(page)
    expect(page.locator("#value-1")).to_be_focused()
    page.keyboard.type("cT3N2M0")
    with page.expect_response(lambda r: "/verdict/1/" in r.url):
        page.keyboard.press("Enter")
    settled(page)
    assert current(page) == "2"

    # 3: wrong span; select the right text with the keyboard, s saves it.
    with page.expect_response(lambda r: "/verdict/2/" in r.url):
        page.keyboard.press("3")
    settled(page)
    right = span(TEXT, "FLOT après chirurgie")
    select_with_keys(page, right[0], *right)
    with page.expect_response(lambda r: "/verdict/2/" in r.url):
        page.keyboard.press("s")
    settled(page)
    expect(page.locator("#item-2 .corrected-span")).to_have_text("FLOT après chirurgie")
    assert current(page) == "3"

    # 4: not in text. k/j move back and forth without saving anything.
    with page.expect_response(lambda r: "/verdict/3/" in r.url):
        page.keyboard.press("4")
    settled(page)
    assert current(page) == "4"
    page.keyboard.press("k")
    assert current(page) == "3"
    page.keyboard.press("j")
    assert current(page) == "4"
    with page.expect_response(lambda r: "/verdict/4/" in r.url):
        page.keyboard.press("1")
    settled(page)

    # A missed annotation: select, a, field, Tab, value, Enter.
    missed = span(TEXT, "antalgiques")
    select_with_keys(page, span(TEXT, "Tabagisme actif")[0], *missed)
    page.keyboard.press("a")
    expect(page.locator("#add-field")).to_be_focused()
    expect(page.locator("#add-selected")).to_have_text("antalgiques")
    page.keyboard.type("discharge_treatment")
    page.keyboard.press("Tab")
    expect(page.locator("#add-value")).to_be_focused()
    page.keyboard.type("antalgiques de palier 1")
    with page.expect_response(lambda r: r.url.endswith("/add/")):
        page.keyboard.press("Enter")
    settled(page)
    expect(page.locator("#added-list .added-item")).to_have_count(1)
    expect(page.locator("#add-form")).to_be_hidden()
    # The addition is highlighted in the narrative at once, where it is: the characters
    # before the mark, counted by the browser, are the span's start.
    added_mark = page.locator("#audit-text mark.ann-added")
    expect(added_mark).to_have_count(1)
    expect(added_mark).to_have_text("antalgiques")
    assert added_mark.evaluate(
        """mark => {
            const range = document.createRange();
            range.setStart(document.getElementById("audit-text"), 0);
            range.setEndBefore(mark);
            const start = range.toString().length;
            return [start, start + mark.textContent.length, getComputedStyle(mark).outlineStyle];
        }"""
    ) == [*missed, "dashed"]
    expect(page.locator("mark.ann")).to_have_count(5)
    screenshot(page, "audit-keys-done")
    assert run_axe(page) == []

    saved = {
        v.annotation_index: (v.verdict, v.corrected_value, v.corrected_start, v.corrected_end)
        for v in AnnotationVerdict.objects.filter(assignment=first)
    }
    assert saved == {
        0: ("correct", "", None, None),
        1: ("wrong_value", "cT3N2M0", None, None),
        2: ("wrong_span", "", *right),
        3: ("not_in_text", "", None, None),
        4: ("correct", "", None, None),
    }
    added = AddedAnnotation.objects.get(assignment=first)
    assert (added.field, added.value, added.start, added.end) == (
        "discharge_treatment",
        "antalgiques de palier 1",
        *missed,
    )

    # Enter: submit and go to the next report.
    page.locator("#report").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{reverse('review:audit', args=[second.code])}")
    first.refresh_from_db()
    assert first.status == Assignment.Status.SUBMITTED
