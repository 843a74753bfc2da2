"""Issue 17, the coordinator's "Guidance and checks" page in a real browser: instructions in
Markdown (English and French, sanitised), anchor examples, calibration items and attention
checks, and what reviewers then see. Screenshots at 1280x900, 1920x1080, 390x844, 768x1024."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from review import services
from review.models import Assignment, Rating, Study, StudyReport, StudyReviewer
from review.results import study_ratings_frame
from tests.e2e.conftest import log_in, queue, run_axe, shots
from tests.factories import CoordinatorFactory, ReportFactory, ReviewerFactory

pytestmark = pytest.mark.e2e

INSTRUCTIONS_EN = """## Before you start

Read the **whole** report before scoring.

<script>window.injected = 1</script>

[a trap](javascript:window.injected=2)
"""
INSTRUCTIONS_FR = "## Avant de commencer\n\nLisez le compte rendu **en entier**."


@pytest.fixture
def draft(roles):
    coordinator = CoordinatorFactory()
    reviewers = [ReviewerFactory(), ReviewerFactory()]
    study = services.study_create(
        name="Guided study", created_by=coordinator, raters_per_report=2, seed=3
    )
    services.study_reports_add(study=study, reports=ReportFactory.create_batch(4))
    services.study_reviewers_set(study=study, reviewers=reviewers, actor=coordinator)
    calibration = ReportFactory.create_batch(2)
    return study, coordinator, reviewers, calibration


def test_coordinator_writes_guidance_and_reviewers_read_it(new_context, draft):
    study, coordinator, reviewers, calibration = draft
    url = reverse("review:study_guidance", args=[study.pk])
    page = new_context().new_page()
    log_in(page, coordinator)
    page.goto(reverse("review:study_detail", args=[study.pk]))
    page.get_by_role("link", name="Guidance and checks").click()
    page.wait_for_url(f"**{url}")

    # A bad calibration line: one message, nothing saved.
    page.locator("#instructions").fill(INSTRUCTIONS_EN)
    page.locator("#calibration").fill("R-NOPE 9 8 7 6 5 4")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".message-error")).to_have_text("Unknown report codes: R-NOPE.")
    study.refresh_from_db()
    assert study.instructions == ""

    page.locator("#instructions").fill(INSTRUCTIONS_EN)
    page.locator("#instructions_fr").fill(INSTRUCTIONS_FR)
    page.locator("#completeness-example_low").fill("No discharge treatment, no conclusion.")
    page.locator("#completeness-fr-example_low").fill("Ni traitement de sortie ni conclusion.")
    page.locator("#completeness-example_mid").fill("Conclusion present, treatment incomplete.")
    page.locator("#completeness-example_high").fill("Every expected section present.")
    page.locator("#calibration").fill(
        "\n".join(f"{report.code} 9 8 7 6 5 4" for report in calibration)
    )
    page.locator("#attention_checks").fill("1")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".message-success")).to_have_text("Guidance saved.")
    # The form shows what was saved.
    expect(page.locator("#instructions")).to_have_value(INSTRUCTIONS_EN)
    expect(page.locator("#completeness-fr-example_low")).to_have_value(
        "Ni traitement de sortie ni conclusion."
    )
    expect(page.locator("#calibration")).to_have_value(
        "\n".join(f"{code} 9 8 7 6 5 4" for code in sorted(report.code for report in calibration))
    )
    assert run_axe(page) == []
    shots(page, "guidance-coordinator-draft")
    study.refresh_from_db()
    assert (study.instructions, study.instructions_fr, study.attention_checks) == (
        INSTRUCTIONS_EN,
        INSTRUCTIONS_FR,
        1,
    )
    assert StudyReport.objects.filter(study=study, role="calibration").count() == 2

    study = services.study_open(study=study, actor=coordinator)
    for reviewer in reviewers:
        kinds = [a.kind for a in queue(reviewer, study)]
        assert kinds[:2] == ["calibration", "calibration"]
        assert kinds.count("attention") == 1

    # A reviewer (English) starts through the instructions: Markdown rendered, the raw HTML
    # shown as text and not run, the javascript: link not made a link.
    reviewer = reviewers[0]
    reader = new_context().new_page()
    log_in(reader, reviewer)
    reader.goto(reverse("review:home"))
    reader.get_by_role("link", name="Start", exact=True).click()
    reader.wait_for_url(f"**{reverse('review:instructions', args=[study.code])}")
    box = reader.locator(".instructions")
    expect(box.get_by_role("heading", name="Before you start")).to_be_visible()
    expect(box.locator("strong")).to_have_text("whole")
    expect(box).to_contain_text("<script>window.injected = 1</script>")
    expect(box.locator("script")).to_have_count(0)
    expect(box.locator("a")).to_have_count(0)
    assert reader.evaluate("() => window.injected") is None
    completeness = reader.locator("h3", has_text="Completeness").locator(
        "xpath=following-sibling::dl[1]"
    )
    expect(completeness.locator("dt")).to_have_text(["1", "5", "10"])
    expect(completeness.locator("dd")).to_have_text(
        [
            "No discharge treatment, no conclusion.",
            "Conclusion present, treatment incomplete.",
            "Every expected section present.",
        ]
    )
    assert run_axe(reader) == []
    shots(reader, "guidance-reviewer-instructions")

    # The first report is a calibration item; the examples are also on the rating page.
    reader.get_by_role("link", name="Start rating").click()
    first = queue(reviewer, study)[0]
    reader.wait_for_url(f"**{reverse('review:rate', args=[first.code])}")
    expect(reader.locator(".queue-position .badge")).to_have_text("Calibration item")
    for _ in range(6):
        with reader.expect_response(lambda r: "/score/" in r.url):
            reader.keyboard.press("7")
        expect(reader.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
    row = reader.locator("fieldset[data-domain=completeness]")
    row.get_by_text("Guidance: Completeness").click()
    expect(row.locator(".anchor-examples dd").first).to_have_text(
        "No discharge treatment, no conclusion."
    )
    reader.locator("#submit-button").click()
    reader.wait_for_url(f"**{reverse('review:rate', args=[queue(reviewer, study)[1].code])}")
    # Back on the submitted item: the panel's reference scores beside the reviewer's own.
    reader.keyboard.press("[")
    reader.wait_for_url(f"**{reverse('review:rate', args=[first.code])}")
    expect(reader.locator(".reference-score")).to_have_text(
        [f"Panel's reference score: {score}" for score in (9, 8, 7, 6, 5, 4)]
    )
    shots(reader, "guidance-calibration-reference")
    # Calibration scores never reach the statistics.
    assert Rating.objects.filter(assignment=first).count() == 6
    assert study_ratings_frame(study=study).empty

    # A French reviewer reads the French instructions and examples.
    french = new_context(locale="fr-FR").new_page()
    log_in(french, reviewers[1])
    french.goto(reverse("review:instructions", args=[study.code]))
    expect(french.locator(".instructions h2")).to_have_text("Avant de commencer")
    expect(french.locator(".instructions strong")).to_have_text("en entier")
    expect(french.get_by_text("Ni traitement de sortie ni conclusion.")).to_be_visible()
    assert run_axe(french) == []

    # The coordinator sees the reviewer's agreement with the reference scores: 7 everywhere
    # against 9 8 7 6 5 4, |2|+|1|+0+|1|+|2|+|3| over 6 = 1.5, 3 of 6 within one point.
    page.goto(url)
    pseudonym = StudyReviewer.objects.get(study=study, reviewer=reviewer).pseudonym
    agreement = page.locator("#calibration-agreement tbody tr", has_text=pseudonym)
    expect(agreement.locator("td")).to_have_text([pseudonym, "6", "1.5", "50%"])
    expect(page.locator("#test-retest tbody tr")).to_have_count(2)
    expect(page.get_by_text("1 attention check per reviewer.")).to_be_visible()
    # Once open, calibration items and attention checks are shown, not editable.
    expect(page.locator("#calibration")).to_have_count(0)
    expect(page.locator("#attention_checks")).to_have_count(0)
    assert run_axe(page) == []
    shots(page, "guidance-coordinator-open")
    assert Study.objects.get(pk=study.pk).status == "open"
    assert Assignment.objects.filter(study=study, kind="attention").count() == 2
