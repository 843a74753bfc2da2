"""Issue 17 on the server: reading time bound, undo, cannot assess, calibration items and
attention checks kept out of the statistics, My reports, instructions, favicon."""

import re
import time
from datetime import timedelta

import pytest
from django.urls import reverse

from review import selectors, services
from review.exceptions import Conflict, InvalidInput
from review.instructions import instructions_html
from review.models import Assignment, CannotAssess, Rating, StudyReport
from review.results import study_ratings_frame
from review.selectors_queue import study_calibration_agreement, study_test_retest
from review.services import reviewer as services_reviewer
from tests.conftest import make_open_study
from tests.factories import PASSWORD, ReportFactory, ReviewerFactory

pytestmark = pytest.mark.django_db


def _rate_all(assignment, score_of):
    for domain in assignment.study.domains.all():
        services.rating_save(assignment=assignment, domain_key=domain.key, score=score_of(domain))
    services.assignment_submit(assignment=assignment)


def test_reading_time_counts_each_visit_once_capped_by_its_wall_time(open_study, reviewers):
    assignment = Assignment.objects.filter(reviewer=reviewers[0], study=open_study).first()
    services.assignment_open(assignment=assignment)
    opened = assignment.reading_visit_at
    add = services_reviewer.assignment_reading_time_add
    # 2.5 s after the page was served, the page has measured 1,234 ms: all of it counts.
    assert (
        add(assignment=assignment, visit_ms=1234, now=opened + timedelta(milliseconds=2500)) == 1234
    )
    # 0.4 s later it claims 9 s of this visit: only the wall time, 2,900 ms, is possible.
    assert (
        add(assignment=assignment, visit_ms=9000, now=opened + timedelta(milliseconds=2900)) == 1666
    )
    # A late or repeated save carrying a smaller running total adds nothing.
    assert add(assignment=assignment, visit_ms=2000, now=opened + timedelta(seconds=4)) == 0
    assert add(assignment=assignment, visit_ms=3100, now=opened + timedelta(seconds=4)) == 200
    assignment.refresh_from_db()
    assert (assignment.active_ms, assignment.reading_visit_ms) == (3100, 3100)
    # A second visit starts from zero and adds to the first.
    services.assignment_open(assignment=assignment)
    second = assignment.reading_visit_at
    assert add(assignment=assignment, visit_ms=700, now=second + timedelta(seconds=1)) == 700
    # A copy of the assignment read before the new visit (an old tab) adds nothing.
    stale = Assignment.objects.get(pk=assignment.pk)
    stale.reading_visit_at = opened
    assert add(assignment=stale, visit_ms=9000, now=second + timedelta(seconds=2)) == 0
    # A visit never counts more than 30 minutes, whatever the wall clock says.
    services.assignment_open(assignment=assignment)
    third = assignment.reading_visit_at
    assert add(assignment=assignment, visit_ms=10**9, now=third + timedelta(hours=5)) == 1_800_000
    assignment.refresh_from_db()
    assert assignment.active_ms == 3100 + 700 + 1_800_000
    assert services_reviewer.reading_ms_parse("12.5") is None
    assert services_reviewer.reading_ms_parse("²") is None
    assert services_reviewer.reading_ms_parse(" 250 ") == 250


def test_saves_heartbeat_and_undo_carry_the_reading_time_and_no_other_counter(
    client, open_study, reviewers
):
    """The rating page's requests all go through the one reading-time service."""
    assignment = Assignment.objects.filter(reviewer=reviewers[0], study=open_study).first()
    client.login(username=reviewers[0].username, password=PASSWORD)
    assert client.get(reverse("review:rate", args=[assignment.code])).status_code == 200
    time.sleep(0.3)
    score_url = reverse("review:rate_score", args=[assignment.code, "completeness"])
    client.post(score_url, {"score-completeness": "6", "active_ms": "120"}, HTTP_HX_REQUEST="true")
    heartbeat = reverse("review:rate_heartbeat", args=[assignment.code])
    assert client.post(heartbeat, {"active_ms": "250"}).status_code == 204
    assert client.post(heartbeat, {"active_ms": "2.5"}).status_code == 400
    client.post(score_url + "clear/", {"active_ms": "280"}, HTTP_HX_REQUEST="true")
    assignment.refresh_from_db()
    assert assignment.active_ms == 280
    assert not hasattr(assignment, "active_seconds")


def test_rating_clear_removes_a_first_score_but_not_on_a_submitted_report(open_study, reviewers):
    first, second = Assignment.objects.filter(reviewer=reviewers[0], study=open_study)[:2]
    services.rating_save(assignment=first, domain_key="completeness", score=6)
    services_reviewer.rating_clear(assignment=first, domain_key="completeness")
    assert Rating.objects.filter(assignment=first).count() == 0
    _rate_all(second, lambda d: 5)
    with pytest.raises(Conflict):
        services_reviewer.rating_clear(assignment=second, domain_key="completeness")
    assert Rating.objects.filter(assignment=second).count() == 6


def test_cannot_assess_needs_a_known_reason_and_changes_nothing_otherwise(open_study, reviewers):
    assignment = Assignment.objects.filter(reviewer=reviewers[0], study=open_study).first()
    with pytest.raises(InvalidInput):
        services_reviewer.assignment_cannot_assess(assignment=assignment, reason="bored")
    assert Assignment.objects.filter(pk=assignment.pk).exists()
    assert CannotAssess.objects.count() == 0


def test_cannot_assess_without_a_free_reviewer_keeps_the_flag_unassigned(open_study, reviewers):
    # Two reviewers, two raters per report: nobody else can take it.
    assignment = Assignment.objects.filter(reviewer=reviewers[0], study=open_study).first()
    outcome = services_reviewer.assignment_cannot_assess(
        assignment=assignment, reason="truncated", note="  ends mid-sentence "
    )
    assert outcome.reassigned is False
    assert (outcome.flag.reason, outcome.flag.note, outcome.flag.reassigned_to) == (
        "truncated",
        "ends mid-sentence",
        None,
    )
    assert Assignment.objects.filter(report=assignment.report, study=open_study).count() == 1


@pytest.fixture
def guided_study(coordinator):
    """Three reviewers, four reports (k=2), two calibration items, one attention check each."""
    reviewers = [ReviewerFactory(), ReviewerFactory(), ReviewerFactory()]
    study = services.study_create(
        name="Guided", created_by=coordinator, raters_per_report=2, seed=5
    )
    services.study_reports_add(study=study, reports=ReportFactory.create_batch(4))
    services.study_reviewers_set(study=study, reviewers=reviewers, actor=coordinator)
    calibration = ReportFactory.create_batch(2)
    text = "\n".join(f"{report.code} 9 8 7 6 5 4" for report in calibration)
    items = services_reviewer.calibration_items_parse(study=study, text=text)
    assert services_reviewer.study_calibration_set(study=study, items=items) == 2
    services_reviewer.study_guidance_update(
        study=study, instructions="Read **all** of it.", instructions_fr="", attention_checks=1
    )
    study = services.study_open(study=study, actor=coordinator)
    return study, reviewers, calibration


def test_calibration_items_come_first_and_never_count_in_statistics(guided_study):
    study, reviewers, calibration = guided_study
    calibration_ids = {report.pk for report in calibration}
    for reviewer in reviewers:
        queue = list(Assignment.objects.filter(study=study, reviewer=reviewer).order_by("position"))
        assert [a.kind for a in queue[:2]] == ["calibration", "calibration"]
        assert {a.report_id for a in queue[:2]} == calibration_ids
        # Each reviewer's regular reports are shared out as before (4 reports x 2 raters).
        assert sum(a.kind == "regular" for a in queue) in {2, 3}
        assert not any(a.report_id in calibration_ids for a in queue[2:])
    # Everyone rates everything they have: calibration at 7 everywhere, regular at 6.
    for assignment in Assignment.objects.filter(study=study):
        _rate_all(assignment, lambda d, a=assignment: 7 if a.kind == "calibration" else 6)
    frame = study_ratings_frame(study=study)
    assert not set(frame["report"]) & {report.code for report in calibration}
    assert len(frame) == 4 * 2 * 6  # regular ratings only: no calibration, no repeat
    assert set(frame["score"]) == {6}
    # Reference 9 8 7 6 5 4 against 7 everywhere: |2|+|1|+0+|1|+|2|+|3| over 6 domains.
    agreement = study_calibration_agreement(study=study)
    assert [(row.pseudonym, row.pairs) for row in agreement] == [("R1", 12), ("R2", 12), ("R3", 12)]
    assert {row.mean_abs_difference for row in agreement} == {1.5}
    assert {row.within_one for row in agreement} == {0.5}


def test_attention_check_repeats_a_report_later_under_another_code(guided_study):
    study, reviewers, _calibration = guided_study
    for reviewer in reviewers:
        queue = list(Assignment.objects.filter(study=study, reviewer=reviewer).order_by("position"))
        repeats = [a for a in queue if a.kind == "attention"]
        assert len(repeats) == 1
        original = next(
            a for a in queue if a.kind == "regular" and a.report_id == repeats[0].report_id
        )
        assert repeats[0].position > original.position
        assert repeats[0].display_code.startswith("R-")
        assert repeats[0].display_code != repeats[0].report.code
        # Nowhere a reviewer looks (queue API, My reports, rating page) shows a code twice.
        shown = [entry.report_code for entry in selectors.reviewer_queue(reviewer=reviewer)]
        assert len(shown) == len(set(shown)) == len(queue)
        assert repeats[0].display_code in shown
    # Test–retest: first showing at 8, repeat at 6 on every domain → difference 2 for all.
    for assignment in Assignment.objects.filter(study=study):
        _rate_all(assignment, lambda d, a=assignment: 6 if a.kind == "attention" else 8)
    retest = study_test_retest(study=study)
    assert [
        (row.pseudonym, row.pairs, row.mean_abs_difference, row.within_one) for row in retest
    ] == [
        ("R1", 6, 2.0, 0.0),
        ("R2", 6, 2.0, 0.0),
        ("R3", 6, 2.0, 0.0),
    ]


def test_submitted_calibration_item_shows_the_reference_scores(client, guided_study):
    study, reviewers, _calibration = guided_study
    item = Assignment.objects.get(study=study, reviewer=reviewers[0], position=1)
    client.login(username=reviewers[0].username, password=PASSWORD)
    before = client.get(reverse("review:rate", args=[item.code])).content.decode()
    assert "reference score" not in before
    assert "Calibration item" in before
    _rate_all(item, lambda d: 7)
    page = client.get(reverse("review:rate", args=[item.code])).content.decode()
    references = StudyReport.objects.get(study=study, report=item.report).reference_scores
    assert references == {
        "language_quality": 9,
        "medical_consistency": 8,
        "completeness": 7,
        "conciseness": 6,
        "overall_impression": 5,
        "ai_authorship": 4,
    }
    assert page.count("Panel's reference score:") == 6
    assert "Panel's reference score: 9" in page
    # Frozen once the references are shown: disabled on the page, refused by the service.
    assert page.count(" disabled>") == 60
    # Frozen, so not announced as "still editable".
    assert "✓ Submitted</span>" in page
    assert "still editable" not in page
    with pytest.raises(Conflict) as error:
        services.rating_save(assignment=item, domain_key="completeness", score=7)
    assert error.value.code == "calibration_locked"


def test_calibration_lines_with_a_wrong_score_are_refused(coordinator):
    study = services.study_create(name="S", created_by=coordinator)
    report = ReportFactory()
    with pytest.raises(InvalidInput) as error:
        services_reviewer.calibration_items_parse(study=study, text=f"{report.code} 9 8 7 6 5 11")
    assert error.value.message == "Line 1: 11 is not a score between 1 and 10."
    with pytest.raises(InvalidInput) as error:
        services_reviewer.calibration_items_parse(study=study, text=f"\n{report.code} 9 8")
    assert error.value.message == "Line 2: 6 scores expected (one per domain), 2 given."


def test_my_reports_lists_the_queue_with_statuses_and_filters(client, open_study, reviewers):
    queue = list(Assignment.objects.filter(study=open_study, reviewer=reviewers[0]))
    _rate_all(queue[0], lambda d: 5)
    services.rating_save(assignment=queue[1], domain_key="completeness", score=4)
    client.login(username=reviewers[0].username, password=PASSWORD)
    url = reverse("review:my_reports", args=[open_study.code])
    page = client.get(url).content.decode()
    assert page.count("<tr data-status=") == len(queue)
    assert page.count('<tr data-status="submitted">') == 1
    assert page.count('<tr data-status="in_progress">') == 1
    assert f'href="{reverse("review:rate", args=[queue[0].code])}"' in page
    assert f"Review {queue[0].report.code}" in page
    only = client.get(url, {"status": "pending"}).content.decode()
    assert only.count('<tr data-status="pending">') == len(queue) - 2
    assert '<tr data-status="submitted">' not in only
    # Another reviewer's study code: 404, nothing leaks.
    other = make_open_study(coordinator=open_study.created_by, reviewers=[reviewers[1]], k=1)
    assert client.get(reverse("review:my_reports", args=[other.code])).status_code == 404


def test_finished_open_study_keeps_a_review_my_ratings_link(client, open_study, reviewers):
    for assignment in Assignment.objects.filter(study=open_study, reviewer=reviewers[0]):
        _rate_all(assignment, lambda d: 5)
    client.login(username=reviewers[0].username, password=PASSWORD)
    page = client.get(reverse("review:home")).content.decode()
    assert "All reports rated. Thank you!" in page
    queue_url = reverse("review:my_reports", args=[open_study.code])
    link = f'<a class="button primary" href="{queue_url}">Review my ratings</a>'
    assert link in page
    services.study_close(study=open_study)
    assert "Review my ratings" not in client.get(reverse("review:home")).content.decode()


def test_instructions_markdown_is_rendered_without_raw_html():
    html = instructions_html(
        "## Avant\n\n**Lire** tout. <script>alert(1)</script> [x](javascript:alert(1))"
    )
    assert "<h2>Avant</h2>" in html
    assert "<strong>Lire</strong>" in html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript' not in html


def test_first_start_goes_through_the_instructions(client, open_study, reviewers):
    services_reviewer.study_guidance_update(
        study=open_study,
        instructions="Read the **whole** report.",
        instructions_fr="Lisez le compte rendu **en entier**.",
        attention_checks=0,
    )
    client.login(username=reviewers[0].username, password=PASSWORD)
    home = client.get(reverse("review:home")).content.decode()
    assert f'href="{reverse("review:instructions", args=[open_study.code])}">Start</a>' in home
    page = client.get(reverse("review:instructions", args=[open_study.code]))
    assert "Read the <strong>whole</strong> report." in page.content.decode()
    french = client.get(
        reverse("review:instructions", args=[open_study.code]), HTTP_ACCEPT_LANGUAGE="fr"
    )
    assert "Lisez le compte rendu <strong>en entier</strong>." in french.content.decode()


def test_favicon_ico_redirects_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.svg"


def test_coordinator_saves_instructions_examples_and_calibration_items(
    coordinator_client, coordinator
):
    study = services.study_create(name="Draft", created_by=coordinator)
    reports = ReportFactory.create_batch(2)
    url = reverse("review:study_guidance", args=[study.pk])
    assert coordinator_client.get(url).status_code == 200
    response = coordinator_client.post(
        url,
        {
            "instructions": "Read it **all**.",
            "instructions_fr": "Lisez **tout**.",
            "attention_checks": "2",
            "completeness-example_low": "No discharge treatment, no conclusion.",
            "completeness-fr:example_low": "Ni traitement de sortie ni conclusion.",
            "calibration": f"{reports[0].code} 9 8 7 6 5 4\n\n{reports[1].code} 1 2 3 4 5 6",
        },
    )
    assert response.status_code == 302
    study.refresh_from_db()
    assert (study.instructions, study.instructions_fr, study.attention_checks) == (
        "Read it **all**.",
        "Lisez **tout**.",
        2,
    )
    domain = study.domains.get(key="completeness")
    assert domain.example_low == "No discharge treatment, no conclusion."
    assert domain.localized("example_low", "fr") == "Ni traitement de sortie ni conclusion."
    assert dict(
        StudyReport.objects.filter(study=study, role="calibration").values_list(
            "report__code", "reference_scores__completeness"
        )
    ) == {reports[0].code: 7, reports[1].code: 3}
    # A bad line: a clear message and nothing changed.
    response = coordinator_client.post(
        url,
        {"instructions": "Changed", "attention_checks": "2", "calibration": "R-NOPE00 1 2"},
        follow=True,
    )
    assert "Line 1: 6 scores expected (one per domain), 2 given." in response.content.decode()
    study.refresh_from_db()
    assert study.instructions == "Read it **all**."
    assert StudyReport.objects.filter(study=study, role="calibration").count() == 2


def test_reviewer_cannot_reach_the_guidance_page(reviewer_client, open_study):
    url = reverse("review:study_guidance", args=[open_study.pk])
    assert reviewer_client.get(url).status_code == 403


def test_positions_stay_1_to_n_after_a_report_is_handed_back(client, coordinator):
    """ "Report N of M" never shows N > M: a handed-back report leaves a gap in the stored
    positions, and the pages and the API show the rank instead."""
    reviewers = [ReviewerFactory(), ReviewerFactory(), ReviewerFactory()]
    study = make_open_study(coordinator=coordinator, reviewers=reviewers, k=2)
    queue = list(Assignment.objects.filter(study=study, reviewer=reviewers[0]).order_by("position"))
    n = len(queue)
    assert [a.position for a in queue] == list(range(1, n + 1))
    services_reviewer.assignment_cannot_assess(assignment=queue[1], reason="language")
    left = [a for a in queue if a.pk != queue[1].pk]
    assert [a.position for a in left] == [1, *range(3, n + 1)]  # the gap is stored

    client.login(username=reviewers[0].username, password=PASSWORD)
    shown = [client.get(reverse("review:rate", args=[a.code])).content.decode() for a in left]
    for rank, page in enumerate(shown, start=1):
        assert f"Report {rank} of {n - 1}" in page
    api = client.get(reverse("api-my-queue"), {"study": study.code}).json()
    assert [(entry["code"], entry["position"]) for entry in api] == [
        (a.code, rank) for rank, a in enumerate(left, start=1)
    ]
    page = client.get(reverse("review:my_reports", args=[study.code])).content.decode()
    cells = [int(cell) for cell in re.findall(r'<td class="num">(\d+)</td>', page)]
    assert cells == list(range(1, n))
