"""A reviewer's day in a real browser: rate with the keyboard, come back, change a score."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from review import services
from review.models import Assignment, AuditEvent, Rating
from tests.e2e.conftest import log_in, queue

pytestmark = pytest.mark.e2e

# What the reviewer sees, per language. The French strings come from locale/fr.
UI = {
    "en-GB": {
        "lang": "en",
        "home_progress": "0 / 8 rated",
        "home_progress_after": "1 / 8 rated",
        "start": "Start",
        "continue": "Continue",
        "counter_first": "Report 1 of 8 · 0 rated",
        "counter_second": "Report 2 of 8 · 1 rated",
        "panel": "Your ratings",
        "first_domain": "Language quality",
        "last_domain": "Likelihood of AI authorship",
        "saved": "saved: {}",
        "submit": "Submit and next",
        "anchor_high_first": "10 = Flawless, idiomatic medical writing",
    },
    "fr-FR": {
        "lang": "fr",
        "home_progress": "0 / 8 évalués",
        "home_progress_after": "1 / 8 évalués",
        "start": "Commencer",
        "continue": "Continuer",
        "counter_first": "Compte rendu 1 sur 8 · 0 évalué",
        "counter_second": "Compte rendu 2 sur 8 · 1 évalué",
        "panel": "Vos notes",
        "first_domain": "Qualité de la langue",
        "last_domain": "Probabilité de rédaction par une IA",
        "saved": "enregistré\u00a0: {}",
        "submit": "Valider et suivant",
        "anchor_high_first": "10 = Rédaction médicale irréprochable",
    },
}
# Keys pressed for the six domains, in order, and the scores they mean (0 is 10).
KEYS = ["7", "8", "9", "0", "3", "1"]
SCORES = [7, 8, 9, 10, 3, 1]


def domain_keys(study) -> list[str]:
    return list(study.domains.order_by("order", "id").values_list("key", flat=True))


def wait_until_saved(page: Page, key: str, score: int, ui: dict) -> None:
    """The htmx swap of a row is done when its legend shows the saved score."""
    expect(page.locator(f"fieldset[data-domain={key}] .saved-score")).to_have_text(
        " — " + ui["saved"].format(score)
    )


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_reviewer_rates_a_report_with_the_keyboard_only(new_context, study_setup, locale):
    ui = UI[locale]
    study, reviewer = study_setup["study"], study_setup["reviewers"][0]
    first, second = queue(reviewer, study)[:2]
    keys = domain_keys(study)
    page = new_context(locale=locale).new_page()

    log_in(page, reviewer)
    expect(page.locator("html")).to_have_attribute("lang", ui["lang"])
    expect(page.locator(".progress-count")).to_have_text(ui["home_progress"])
    page.get_by_role("link", name=ui["start"]).click()
    page.wait_for_url(f"**{reverse('review:rate', args=[first.code])}")

    expect(page.locator("#queue-progress")).to_have_text(ui["counter_first"])
    expect(page.get_by_role("heading", name=ui["panel"])).to_be_visible()
    expect(page.locator("fieldset.domain legend").first).to_have_text(ui["first_domain"])
    expect(page.locator("fieldset.domain legend").last).to_have_text(ui["last_domain"])
    expect(page.locator("fieldset.domain .anchor-high").first).to_contain_text(
        ui["anchor_high_first"]
    )
    # rate.js highlights the first domain; the focus is on the report, so that reading keys
    # scroll it (issue 17) while digits still score the highlighted domain.
    expect(page.locator("fieldset.domain.current")).to_have_attribute("data-domain", keys[0])
    expect(page.locator("#report")).to_be_focused()

    for key in KEYS:
        page.keyboard.press(key)
    for key, score in zip(keys, SCORES, strict=True):
        wait_until_saved(page, key, score, ui)
        expect(page.locator(f"fieldset[data-domain={key}] input:checked")).to_have_value(str(score))
    # Every key press was saved at once, before any submit.
    saved = dict(Rating.objects.filter(assignment=first).values_list("domain__key", "score"))
    assert saved == dict(zip(keys, SCORES, strict=True))
    first.refresh_from_db()
    assert first.status == Assignment.Status.IN_PROGRESS

    submit_url = reverse("review:rate_submit", args=[first.code])
    with page.expect_response(lambda r: r.url.endswith(submit_url)) as submitted:
        page.keyboard.press("Enter")
    # The submit answers with the next report's page (no redirect and second request), and
    # the page then shows its own address.
    assert submitted.value.status == 200
    page.wait_for_url(f"**{reverse('review:rate', args=[second.code])}")
    expect(page.locator("#queue-progress")).to_have_text(ui["counter_second"])
    expect(page.locator("fieldset.domain input:checked")).to_have_count(0)

    first.refresh_from_db()
    assert first.status == Assignment.Status.SUBMITTED
    assert first.submitted_at is not None
    # A reload is a GET of that address: the submit is not sent again.
    with page.expect_request(lambda r: r.resource_type == "document") as reloaded:
        page.reload()
    assert (reloaded.value.method, reloaded.value.url.split("//", 1)[1].split("/", 1)[1]) == (
        "GET",
        reverse("review:rate", args=[second.code]).lstrip("/"),
    )
    expect(page.locator("#queue-progress")).to_have_text(ui["counter_second"])
    submitted_at = first.submitted_at
    first.refresh_from_db()
    assert first.submitted_at == submitted_at
    assert dict(Rating.objects.filter(assignment=first).values_list("domain__key", "score")) == {
        "language_quality": 7,
        "medical_consistency": 8,
        "completeness": 9,
        "conciseness": 10,
        "overall_impression": 3,
        "ai_authorship": 1,
    }
    assert Rating.objects.filter(assignment__reviewer=reviewer).count() == 6

    page.goto(reverse("review:home"))
    expect(page.locator(".progress-count")).to_have_text(ui["home_progress_after"])
    expect(page.get_by_role("link", name=ui["continue"])).to_be_visible()


def test_scores_survive_closing_the_page_mid_report(new_context, study_setup):
    ui = UI["en-GB"]
    study, reviewer = study_setup["study"], study_setup["reviewers"][0]
    first = queue(reviewer, study)[0]
    keys = domain_keys(study)
    context = new_context()
    page = context.new_page()
    log_in(page, reviewer)
    page.goto(reverse("review:rate", args=[first.code]))
    expect(page.locator("fieldset.domain.current")).to_have_attribute("data-domain", keys[0])
    for key in ["4", "6", "2"]:
        page.keyboard.press(key)
    for key, score in zip(keys[:3], [4, 6, 2], strict=True):
        wait_until_saved(page, key, score, ui)
    page.close()

    page = context.new_page()
    page.goto(reverse("review:home"))
    page.get_by_role("link", name="Start").click()
    page.wait_for_url(f"**{reverse('review:rate', args=[first.code])}")
    for key, score in zip(keys[:3], [4, 6, 2], strict=True):
        expect(page.locator(f"fieldset[data-domain={key}] input:checked")).to_have_value(str(score))
    for key in keys[3:]:
        expect(page.locator(f"fieldset[data-domain={key}] input:checked")).to_have_count(0)
    # The keyboard flow resumes on the first domain without a score.
    expect(page.locator("fieldset.domain.current")).to_have_attribute("data-domain", keys[3])
    assert dict(Rating.objects.filter(assignment=first).values_list("domain__key", "score")) == {
        keys[0]: 4,
        keys[1]: 6,
        keys[2]: 2,
    }
    first.refresh_from_db()
    assert first.status == Assignment.Status.IN_PROGRESS


def test_reviewer_changes_a_score_of_a_submitted_report(new_context, study_setup):
    study, reviewer = study_setup["study"], study_setup["reviewers"][0]
    first, second = queue(reviewer, study)[:2]
    keys = domain_keys(study)
    for key in keys:
        services.rating_save(assignment=first, domain_key=key, score=5)
    services.assignment_submit(assignment=first)
    page = new_context().new_page()
    log_in(page, reviewer)

    page.get_by_role("link", name="Continue").click()
    page.wait_for_url(f"**{reverse('review:rate', args=[second.code])}")
    page.get_by_role("link", name="Previous").click()
    page.wait_for_url(f"**{reverse('review:rate', args=[first.code])}")
    expect(page.locator("#queue-progress")).to_contain_text("Submitted — still editable")

    row = page.locator("fieldset[data-domain=medical_consistency]")
    expect(row.locator("input:checked")).to_have_value("5")
    row.locator("label.choice", has_text="9").first.click()
    expect(row.locator(".saved-score")).to_have_text(" — saved: 9")
    expect(row.locator("input:checked")).to_have_value("9")

    assert dict(Rating.objects.filter(assignment=first).values_list("domain__key", "score")) == {
        key: 9 if key == "medical_consistency" else 5 for key in keys
    }
    change = AuditEvent.objects.get(action="rating.change_after_submit")
    assert change.details == {"domain": "medical_consistency", "old": 5, "new": 9}

    page.get_by_role("button", name="Save and next").click()
    page.wait_for_url(f"**{reverse('review:rate', args=[second.code])}")
    first.refresh_from_db()
    assert first.status == Assignment.Status.SUBMITTED
    assert Rating.objects.get(assignment=first, domain__key="medical_consistency").score == 9


def test_reviewer_gets_403_on_coordinator_pages_and_404_on_other_reviewers_reports(
    page, study_setup
):
    study = study_setup["study"]
    reviewer, other = study_setup["reviewers"]
    others_first = queue(other, study)[0]
    log_in(page, reviewer)

    response = page.goto(reverse("review:study_list"))
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(page.locator("main")).to_contain_text("Your account is not allowed to open this page.")
    expect(page.locator("main")).not_to_contain_text(study.name)

    response = page.goto(reverse("review:study_detail", args=[study.pk]))
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")

    response = page.goto(reverse("review:rate", args=[others_first.code]))
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.locator("main")).to_contain_text("There is nothing at this address.")
    expect(page.locator("fieldset.domain")).to_have_count(0)
    # The other reviewer's assignment was not opened by the attempt.
    others_first.refresh_from_db()
    assert others_first.status == Assignment.Status.PENDING
    assert others_first.first_opened_at is None


def test_language_switcher_turns_the_rating_page_french(page, study_setup):
    study, reviewer = study_setup["study"], study_setup["reviewers"][0]
    first = queue(reviewer, study)[0]
    log_in(page, reviewer)
    page.goto(reverse("review:rate", args=[first.code]))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#queue-progress")).to_have_text(UI["en-GB"]["counter_first"])

    page.get_by_label("Language", exact=True).select_option("fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert page.url.endswith(reverse("review:rate", args=[first.code]))
    expect(page.locator("#queue-progress")).to_have_text(UI["fr-FR"]["counter_first"])
    expect(page.locator("fieldset.domain legend").first).to_have_text(UI["fr-FR"]["first_domain"])
    expect(page.get_by_role("button", name=UI["fr-FR"]["submit"])).to_be_visible()
