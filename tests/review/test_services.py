import time

import pytest

from review import services
from review.exceptions import Conflict, InvalidInput
from review.models import Assignment, AuditEvent, Rating, Study
from review.services import reviewer as services_reviewer
from tests.conftest import make_open_study
from tests.factories import ReportFactory, ReviewerFactory


def _assignment(study, reviewer):
    return Assignment.objects.filter(study=study, reviewer=reviewer).order_by("position").first()


def _score_all(assignment, score=7):
    for key in assignment.study.domains.values_list("key", flat=True):
        services.rating_save(assignment=assignment, domain_key=key, score=score)


@pytest.mark.parametrize(
    ("score", "code"),
    [
        (0, "score_out_of_range"),
        (11, "score_out_of_range"),
        ("7.5", "score_not_integer"),
        ("abc", "score_not_integer"),
        (None, "score_not_integer"),
        (True, "score_not_integer"),
    ],
)
def test_rating_save_bad_score_rejected_and_nothing_stored(open_study, reviewer, score, code):
    assignment = _assignment(open_study, reviewer)
    with pytest.raises(InvalidInput) as error:
        services.rating_save(assignment=assignment, domain_key="completeness", score=score)
    assert error.value.code == code
    assert Rating.objects.count() == 0


def test_rating_save_unknown_domain_rejected(open_study, reviewer):
    assignment = _assignment(open_study, reviewer)
    with pytest.raises(InvalidInput) as error:
        services.rating_save(assignment=assignment, domain_key="readability", score=5)
    assert error.value.message == "This domain is not part of the study."
    assert Rating.objects.count() == 0


def test_rating_save_closed_study_rejected(open_study, reviewer, coordinator):
    services.study_close(study=open_study, actor=coordinator)
    assignment = _assignment(open_study, reviewer)
    with pytest.raises(Conflict) as error:
        services.rating_save(assignment=assignment, domain_key="completeness", score=5)
    assert error.value.code == "study_closed"
    assert Rating.objects.count() == 0


def test_rating_save_twice_last_write_wins_without_duplicate(open_study, reviewer):
    assignment = _assignment(open_study, reviewer)
    services.rating_save(assignment=assignment, domain_key="conciseness", score=3)
    services.rating_save(assignment=assignment, domain_key="conciseness", score=8)
    assert list(Rating.objects.values_list("domain__key", "score")) == [("conciseness", 8)]


def test_rating_save_marks_assignment_in_progress(open_study, reviewer):
    assignment = _assignment(open_study, reviewer)
    services.rating_save(assignment=assignment, domain_key="conciseness", score="4")
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.IN_PROGRESS
    assert assignment.first_opened_at is not None


def test_submit_incomplete_rejected(open_study, reviewer):
    assignment = _assignment(open_study, reviewer)
    services.rating_save(assignment=assignment, domain_key="conciseness", score=4)
    with pytest.raises(InvalidInput) as error:
        services.assignment_submit(assignment=assignment)
    assert error.value.message == (
        "Score every domain before submitting. Missing: Language quality, Medical consistency, "
        "Completeness, Overall impression, Likelihood of AI authorship."
    )
    assignment.refresh_from_db()
    assert assignment.status == Assignment.Status.IN_PROGRESS


def test_submit_replayed_is_refused_and_changes_nothing(open_study, reviewer):
    assignment = _assignment(open_study, reviewer)
    _score_all(assignment)
    services.assignment_submit(assignment=assignment)
    submitted_at = Assignment.objects.get(pk=assignment.pk).submitted_at
    with pytest.raises(Conflict):
        services.assignment_submit(assignment=Assignment.objects.get(pk=assignment.pk))
    assert Assignment.objects.get(pk=assignment.pk).submitted_at == submitted_at


def test_change_after_submit_is_audited(open_study, reviewer):
    assignment = _assignment(open_study, reviewer)
    _score_all(assignment, score=6)
    services.assignment_submit(assignment=assignment)
    assignment = Assignment.objects.select_related("study").get(pk=assignment.pk)
    services.rating_save(assignment=assignment, domain_key="completeness", score=9)
    event = AuditEvent.objects.get(action="rating.change_after_submit")
    assert event.details == {"domain": "completeness", "old": 6, "new": 9}
    assert event.target == assignment.code


def test_study_open_without_enough_reviewers_rejected(coordinator, reviewer):
    study = services.study_create(name="s", created_by=coordinator, raters_per_report=2)
    services.study_reports_add(study=study, reports=ReportFactory.create_batch(3))
    services.study_reviewers_set(study=study, reviewers=[reviewer])
    with pytest.raises(Conflict) as error:
        services.study_open(study=study)
    assert error.value.code == "too_few_reviewers"
    study.refresh_from_db()
    assert study.status == Study.Status.DRAFT
    assert Assignment.objects.count() == 0


def test_study_open_twice_rejected(open_study):
    with pytest.raises(Conflict):
        services.study_open(study=open_study)


def test_study_create_has_the_six_reference_domains(coordinator):
    study = services.study_create(name="s", created_by=coordinator)
    assert list(study.domains.values_list("key", flat=True)) == [
        "language_quality",
        "medical_consistency",
        "completeness",
        "conciseness",
        "overall_impression",
        "ai_authorship",
    ]
    assert study.domains.get(key="completeness").translations["fr"]["label"] == "Complétude"


def test_domains_editable_only_in_draft(open_study):
    with pytest.raises(Conflict):
        services.domains_update(study=open_study, rows=[{"key": "x", "label": "X"}])


def test_reviewer_drop_out_reassigns_unfinished_keeps_submitted(coordinator, db):
    reviewers = [ReviewerFactory() for _ in range(3)]
    study = make_open_study(
        coordinator=coordinator, reviewers=reviewers, n_real=6, n_synthetic=6, k=2
    )
    leaving = reviewers[0]
    done = _assignment(study, leaving)
    _score_all(done, score=5)
    services.assignment_submit(assignment=done)
    before = Assignment.objects.filter(study=study, reviewer=leaving).count()

    moved = services.study_reviewer_remove(study=study, reviewer=leaving, actor=coordinator)

    assert moved == before - 1
    assert list(
        Assignment.objects.filter(study=study, reviewer=leaving).values_list("pk", flat=True)
    ) == [done.pk]
    assert Rating.objects.filter(assignment=done).count() == 6
    per_report = {}
    for report_id, reviewer_id in Assignment.objects.filter(study=study).values_list(
        "report_id", "reviewer_id"
    ):
        per_report.setdefault(report_id, set()).add(reviewer_id)
    # Every report still has two distinct raters.
    assert {len(raters) for raters in per_report.values()} == {2}
    for reviewer in reviewers[1:]:
        positions = list(
            Assignment.objects.filter(study=study, reviewer=reviewer)
            .order_by("position")
            .values_list("position", flat=True)
        )
        assert positions == list(range(1, len(positions) + 1))
    assert AuditEvent.objects.filter(action="panel.remove").count() == 1


def test_reading_time_flood_adds_only_the_wall_clock_time(open_study, reviewer):
    # 200 saves claiming an hour each, sent as fast as possible: at most the time elapsed
    # since the page was served.
    assignment = _assignment(open_study, reviewer)
    services.assignment_open(assignment=assignment)
    started = time.monotonic()
    for _ in range(200):
        services_reviewer.assignment_reading_time_add(assignment=assignment, visit_ms=3_600_000)
    elapsed_ms = (time.monotonic() - started) * 1000
    assert 0 < Assignment.objects.get(pk=assignment.pk).active_ms <= elapsed_ms + 50


def test_reading_time_before_the_page_was_opened_adds_nothing(open_study, reviewer):
    assignment = _assignment(open_study, reviewer)
    assert services_reviewer.assignment_reading_time_add(assignment=assignment, visit_ms=15) == 0
    assert Assignment.objects.get(pk=assignment.pk).active_ms == 0


def test_reading_time_python_rule_and_one_statement_sql_agree(open_study, reviewers):
    """services_reviewer.assignment_reading_time_add and the rating page's one-statement
    save (services.score_save_in_one_statement) count the same visits the same way, both
    capped by services.READING_MS_MAX_PER_VISIT."""
    from datetime import timedelta

    from django.utils import timezone

    cap = services.READING_MS_MAX_PER_VISIT
    assert cap == 1_800_000
    by_python, by_sql = (_assignment(open_study, reviewer) for reviewer in reviewers[:2])
    domain = open_study.domains.order_by("order").first().key
    for assignment in (by_python, by_sql):
        services.assignment_open(assignment=assignment)

    def visit(assignment, served):
        # A page served at `served`: a wall time known to the millisecond, or none at all.
        Assignment.objects.filter(pk=assignment.pk).update(
            reading_visit_at=served, reading_visit_ms=0
        )

    def send(visit_ms):
        python = Assignment.objects.select_related("study").get(pk=by_python.pk)
        services_reviewer.assignment_reading_time_add(assignment=python, visit_ms=visit_ms)
        saved = services.score_save_in_one_statement(
            reviewer_id=by_sql.reviewer_id,
            code=by_sql.code,
            domain_key=domain,
            score=5,
            client_ms=visit_ms,
        )
        assert saved is not None and saved.score == 5

    def active_ms():
        return [
            Assignment.objects.values_list("active_ms", "reading_visit_ms").get(pk=a.pk)
            for a in (by_python, by_sql)
        ]

    now = timezone.now()
    long_ago = now - timedelta(hours=2)  # the wall time never binds: only the page's figures
    for assignment in (by_python, by_sql):
        visit(assignment, long_ago)
    for visit_ms in (1234, 9000, 2000, 9000, 0):  # running totals; smaller ones add nothing
        send(visit_ms)
    assert active_ms() == [(9000, 9000)] * 2
    for assignment in (by_python, by_sql):
        visit(assignment, long_ago)
    for visit_ms in (700, 10**9, 5000):  # beyond the per-visit cap
        send(visit_ms)
    assert active_ms() == [(9000 + cap, cap)] * 2
    for assignment in (by_python, by_sql):
        visit(assignment, now + timedelta(hours=1))  # served "later": no wall time yet
    send(4000)
    assert active_ms() == [(9000 + cap, 0)] * 2
