"""A coordinator's work in a real browser: compose and open a study from existing reports,
follow the reviewers, read the results and download the ratings (scenario 4)."""

import csv
import io

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from review import services
from review.computations import computations_refresh
from review.models import Assignment, Report, Study, StudyReviewer
from tests.e2e.conftest import log_in, run_axe, screenshot
from tests.factories import CoordinatorFactory, ReportFactory, ReviewerFactory

pytestmark = pytest.mark.e2e

RATINGS_CSV_COLUMNS = [
    "study",
    "report",
    "source",
    "batch",
    "model",
    "prompt_version",
    "reviewer",
    "domain",
    "score",
    "comment",
    "submitted_at",
    "active_ms",
]
DOMAIN_LABELS = [
    "Language quality",
    "Medical consistency",
    "Completeness",
    "Conciseness",
    "Overall impression",
    "Likelihood of AI authorship",
]


def score_for(report: Report, reviewer_index: int, domain_key: str) -> int:
    """Scores shaped like the reference study: language alike, synthetic reports weaker on
    medical consistency and more often taken for AI; the second reviewer a little harsher."""
    synthetic = report.source == Report.Source.SYNTHETIC
    spread = report.pk % 2  # two neighbouring values so that no column is constant
    base = {
        "language_quality": 9,
        "medical_consistency": 6 if synthetic else 9,
        "completeness": 8,
        "conciseness": 7 if synthetic else 8,
        "overall_impression": 7 if synthetic else 8,
        "ai_authorship": 7 if synthetic else 3,
    }[domain_key]
    return base - spread - reviewer_index


def rate_and_submit(study: Study, reviewer, *, count: int) -> None:
    """The reviewer rates and submits the first `count` reports of their queue (services,
    the same calls the rating page makes)."""
    seat = StudyReviewer.objects.get(study=study, reviewer=reviewer)
    reviewer_index = int(seat.pseudonym[1:]) - 1
    keys = list(study.domains.order_by("order").values_list("key", flat=True))
    queue = Assignment.objects.filter(study=study, reviewer=reviewer).select_related("report")
    for assignment in queue.order_by("position")[:count]:
        for key in keys:
            services.rating_save(
                assignment=assignment,
                domain_key=key,
                score=score_for(assignment.report, reviewer_index, key),
            )
        services.assignment_submit(assignment=assignment)


def progress_row(page: Page, pseudonym: str):
    return page.locator("#progress tbody tr", has=page.locator("td", has_text=pseudonym))


@pytest.fixture
def report_pool(roles):
    """Six real and six synthetic reports already in the database, two reviewers."""
    reports = ReportFactory.create_batch(6) + [
        ReportFactory(
            source=Report.Source.SYNTHETIC,
            provenance={
                "kind": "generation",
                "batch": "4",
                "model": "mistral-large-latest",
                "prompt_version": "fr-v1",
            },
        )
        for _ in range(6)
    ]
    return {
        "coordinator": CoordinatorFactory(),
        "reviewers": [ReviewerFactory(username="dr-martin"), ReviewerFactory(username="dr-petit")],
        "reports": reports,
    }


def test_coordinator_composes_a_study_follows_it_and_reads_results(
    new_context, report_pool, settings
):
    # Fewer bootstrap resamples than the default keep the results page quick to compute.
    settings.STATS_BOOTSTRAP_RESAMPLES = 200
    coordinator, reviewers = report_pool["coordinator"], report_pool["reviewers"]
    page = new_context(accept_downloads=True).new_page()
    log_in(page, coordinator)

    # Compose the study on the real "New study" page.
    page.goto(reverse("review:study_list"))
    page.get_by_role("link", name="New study").click()
    page.wait_for_url(f"**{reverse('review:study_create')}")
    page.get_by_label("Name").fill("Pilot: synthetic vs real")
    page.get_by_label("Raters per report").fill("2")
    page.get_by_label("Random seed").fill("42")
    # Real reports by import (these six have none), synthetic ones by batch; the counts
    # show before anything is created.
    page.get_by_label("Not from an import (e.g. demo stand-ins) — 6 reports").check()
    expect(page.locator("#composition")).to_contain_text("6 reports in the study")
    page.get_by_label("batch (#4) — 6 reports").check()
    expect(page.locator("#composition")).to_contain_text("12 reports in the study")
    expect(page.locator("#composition")).to_contain_text("(6 real, 6 synthetic;")
    for reviewer in reviewers:
        page.get_by_label(reviewer.username, exact=True).check()
    page.get_by_role("button", name="Create draft study").click()

    study = Study.objects.get(name="Pilot: synthetic vs real")
    page.wait_for_url(f"**{reverse('review:study_detail', args=[study.pk])}")
    expect(page.locator(".messages")).to_contain_text("Study created as a draft.")
    expect(page.locator("main")).to_contain_text("6 real and 6 synthetic reports.")
    assert study.status == Study.Status.DRAFT
    assert (
        sorted(study.reports.values_list("source", flat=True)) == ["real"] * 6 + ["synthetic"] * 6
    )
    assert study.seed == 42

    page.get_by_role("button", name="Open the study").click()
    expect(page.locator("h1 .badge")).to_have_text("Open")
    study.refresh_from_db()
    assert study.status == Study.Status.OPEN
    assert Assignment.objects.filter(study=study).count() == 24
    pseudonyms = dict(
        StudyReviewer.objects.filter(study=study).values_list("reviewer__username", "pseudonym")
    )
    assert sorted(pseudonyms.values()) == ["R1", "R2"]
    for name in ["R1", "R2"]:
        cells = progress_row(page, name).locator("td.num")
        expect(cells.nth(0)).to_have_text("0")  # submitted
        expect(cells.nth(2)).to_have_text("12")  # assigned

    # The reviewers work: one finishes, the other is halfway.
    first, second = sorted(reviewers, key=lambda r: pseudonyms[r.username])
    rate_and_submit(study, first, count=12)
    rate_and_submit(study, second, count=6)
    page.reload()
    expect(progress_row(page, "R1").locator("td.num").nth(0)).to_have_text("12")
    expect(progress_row(page, "R1")).to_contain_text("100%")
    expect(progress_row(page, "R2").locator("td.num").nth(0)).to_have_text("6")
    expect(progress_row(page, "R2")).to_contain_text("50%")
    expect(page.locator("#progress progress").nth(1)).to_have_attribute("value", "6")

    rate_and_submit_rest = Assignment.objects.filter(
        study=study, reviewer=second, status=Assignment.Status.PENDING
    )
    assert rate_and_submit_rest.count() == 6
    for assignment in rate_and_submit_rest.select_related("report"):
        for key in study.domains.values_list("key", flat=True):
            services.rating_save(
                assignment=assignment,
                domain_key=key,
                score=score_for(assignment.report, 1, key),
            )
        services.assignment_submit(assignment=assignment)
    # What the debounced refresh task does in a worker after the submissions (the page
    # serves stored figures; the worker's own test is tests/review/test_computations_worker).
    computations_refresh(study=study, kinds=["results"])

    # Results: tables and the server-drawn plots.
    page.get_by_role("link", name="Results").click()
    page.wait_for_url(f"**{reverse('review:study_results', args=[study.pk])}")
    main = page.locator("main")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Results: Pilot: synthetic vs real Open"
    )
    expect(main).to_contain_text("144 ratings of 12 reports by 2 reviewers")
    for heading in [
        "Synthetic versus real",
        "Score distributions",
        "Inter-rater agreement",
        "Reviewer offset from the panel",
        "Could reviewers tell AI-written reports apart?",
        "Synthetic reports by batch, model and prompt version",
        "Reviewer progress",
    ]:
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()

    summary_rows = page.locator("#summary tbody tr")
    expect(summary_rows).to_have_count(6)
    expect(summary_rows.locator("td:first-child")).to_have_text(DOMAIN_LABELS)
    # Real reports scored 9/8 (R1) and 8/7 (R2) on medical consistency: mean 8.00 ± 0.74
    # over 12 ratings; the synthetic ones 6/5 and 5/4: 5.00; difference −3.00.
    medical = summary_rows.nth(1).locator("td")
    expect(medical.nth(1)).to_contain_text("8.00 ± 0.")
    expect(medical.nth(1)).to_contain_text("(n=6)")
    expect(medical.nth(2)).to_contain_text("5.00 ± 0.")
    expect(medical.nth(3)).to_contain_text("-3.00 [")
    expect(medical.nth(7)).to_have_text("inferior")
    expect(summary_rows.nth(0).locator("td").nth(3)).to_contain_text("0.00 [")
    expect(summary_rows.nth(0).locator("td").nth(7)).to_have_text("non-inferior")
    expect(summary_rows.nth(5).locator("td").nth(7)).to_contain_text("not applicable")
    expect(page.locator("#authorship tbody tr").first.locator("td").nth(2)).to_contain_text(
        "1.00 ["
    )
    tables = page.locator("#agreement table").all()
    # The recommended statistic, one detail table per domain (closed), the offsets.
    agreement, offsets = tables[0], tables[-1]
    assert len(tables) == 1 + 6 + 1
    expect(agreement.locator("tbody tr")).to_have_count(18)  # 6 domains × 3 scopes
    # Both reviewers rated every report: crossed, so ICC(2,1), per source before pooled.
    first_row = agreement.locator("tbody tr").nth(0).locator("td")
    expect(first_row.nth(1)).to_have_text("real")
    expect(first_row.nth(2)).to_have_text("ICC(2,1)")
    # The domain cell spans its three rows: the pooled row starts with its scope.
    pooled_row = agreement.locator("tbody tr").nth(2).locator("td")
    expect(pooled_row.nth(0)).to_have_text("all")
    expect(pooled_row.nth(1)).to_have_text("ICC(2,1)")
    details = page.locator("#agreement details").first
    details.locator("summary").click()
    expect(details.locator("tbody")).to_contain_text("Gwet AC2 (quadratic weights)")
    expect(offsets.locator("tbody tr td:first-child")).to_have_text(["R1", "R2"])
    # Readable at 1280 px: none of the result tables needs sideways scrolling.
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('.table-scroll')]
                 .filter(el => el.scrollWidth > el.clientWidth)
                 .map(el => el.closest('section').id)"""
    )
    assert overflowing == []
    expect(page.locator("#breakdown tbody tr").first).to_contain_text("batch")

    plots = {
        section: page.locator(f"#{section} figure svg")
        for section in ["summary", "distributions", "authorship", "progress"]
    }
    for section, svg in plots.items():
        expect(svg, section).to_have_count(1)
        expect(svg, section).to_be_visible()
        box = svg.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 150, (section, box)
        # A plot never overflows its card.
        card = page.locator(f"#{section}").bounding_box()
        assert card is not None and box["width"] <= card["width"], (section, box, card)
    screenshot(page, "results-en-1280")
    assert run_axe(page) == []

    # ratings.csv through the browser's own download.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="ratings.csv").click()
    download = download_info.value
    assert download.suggested_filename == f"{study.code}-ratings.csv"
    with open(download.path(), encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(io.StringIO(handle.read())))
    assert rows[0] == RATINGS_CSV_COLUMNS
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert len(records) == 144
    assert {r["study"] for r in records} == {study.code}
    assert sorted({r["reviewer"] for r in records}) == ["R1", "R2"]
    assert {r["source"] for r in records} == {"real", "synthetic"}
    assert {r["batch"] for r in records if r["source"] == "synthetic"} == {"4"}
    assert {r["batch"] for r in records if r["source"] == "real"} == {""}
    codes = {report.code for report in report_pool["reports"]}
    assert {r["report"] for r in records} == codes
    medical_r1 = sorted(
        int(r["score"])
        for r in records
        if r["reviewer"] == "R1" and r["domain"] == "medical_consistency"
    )
    assert medical_r1 == sorted(
        score_for(report, 0, "medical_consistency") for report in report_pool["reports"]
    )
    assert study.audit_events.filter(action="export.ratings").count() == 1

    # The same page in French, through the language switcher.
    page.get_by_label("Language", exact=True).select_option("fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", name="Synthétique contre réel")).to_be_visible()
    summary_rows = page.locator("#summary tbody tr")
    expect(summary_rows.locator("td:first-child")).to_have_text(
        [
            "Qualité de la langue",
            "Cohérence médicale",
            "Complétude",
            "Concision",
            "Impression générale",
            "Probabilité de rédaction par une IA",
        ]
    )
    expect(summary_rows.nth(0).locator("td").nth(7)).to_have_text("non inférieur")
    expect(summary_rows.nth(1).locator("td").nth(7)).to_have_text("inférieur")
    expect(summary_rows.nth(5).locator("td").nth(7)).to_have_text("sans objet")
    # The plots speak French too (their words and the domain labels).
    expect(page.locator("#summary figure svg")).to_be_visible()
    expect(page.locator("#summary figure svg")).to_contain_text("note moyenne (IC à 95 %)")
    expect(page.locator("#summary figure svg")).to_contain_text("Cohérence médicale")
    screenshot(page, "results-fr-1280")
    assert run_axe(page) == []
