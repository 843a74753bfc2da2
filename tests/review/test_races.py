"""Races between reviewers' writes and coordinators' state changes, with real threads on
PostgreSQL (committed data, one connection per thread).

Each test starts its threads behind a barrier so the requests really overlap, repeats the
race over several trials, and checks what is stored afterwards: nothing acknowledged is
lost, no write lands after the state change that forbids it without its audit row.
"""

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.http import Http404

from review import selectors, services
from review.exceptions import ServiceError
from review.models import Assignment, AuditEvent, Rating, StudyReviewer
from review.services import reviewer as services_reviewer
from tests.conftest import make_open_study
from tests.factories import CoordinatorFactory, ReviewerFactory
from tests.transactional_fixtures import roles

__all__ = ["roles"]

pytestmark = pytest.mark.django_db(transaction=True)

TRIALS = 6


def _run_together(calls: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    """Run the calls in one thread each, released at once; ("ok", value) or ("error", exc)."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, Any]] = [("error", None)] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = ("ok", call())
        except Exception as exc:
            results[index] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _score_all(assignment: Assignment, score: int = 5) -> None:
    for domain in assignment.study.domains.all():
        services.rating_save(assignment=assignment, domain_key=domain.key, score=score)


def _submit_as_the_view_does(reviewer, code: str) -> str:
    assignment = selectors.assignment_for_reviewer_update(reviewer=reviewer, code=code)
    services.assignment_submit(assignment=assignment)
    return code


def _save_as_the_view_does(reviewer, code: str, score: int) -> None:
    assignment = selectors.assignment_for_reviewer_update(reviewer=reviewer, code=code)
    services.rating_save(assignment=assignment, domain_key="completeness", score=score)


def test_remove_reviewer_while_submitting_loses_no_submission(roles):
    for trial in range(TRIALS):
        coordinator = CoordinatorFactory()
        panel = [ReviewerFactory() for _ in range(3)]
        leaving = panel[0]
        study = make_open_study(
            coordinator=coordinator, reviewers=panel, n_real=5, n_synthetic=5, seed=trial
        )
        mine = list(Assignment.objects.filter(study=study, reviewer=leaving).order_by("position"))
        for assignment in mine:
            _score_all(assignment)
        others_before = Assignment.objects.filter(study=study).exclude(reviewer=leaving).count()

        calls: list[Callable[[], Any]] = [
            partial(_submit_as_the_view_does, leaving, a.code) for a in mine
        ]
        calls.append(
            partial(
                services.study_reviewer_remove, study=study, reviewer=leaving, actor=coordinator
            )
        )
        results = _run_together(calls)

        outcome, moved = results[-1]
        assert outcome == "ok", moved
        acknowledged = [value for outcome, value in results[:-1] if outcome == "ok"]
        refused = [value for outcome, value in results[:-1] if outcome == "error"]
        # A submit that lost the race was refused as a reviewer no longer on the panel.
        assert all(isinstance(exc, Http404 | ServiceError) for exc in refused), refused
        kept = Assignment.objects.filter(study=study, reviewer=leaving)
        # Every acknowledged submit is stored, with all its scores.
        for code in acknowledged:
            stored = kept.get(code=code)
            assert stored.status == Assignment.Status.SUBMITTED
            assert Rating.objects.filter(assignment=stored).count() == 6
        # Nothing of the leaving reviewer is left unsubmitted; the rest went to the others.
        assert sorted(kept.values_list("status", flat=True)) == ["submitted"] * len(acknowledged)
        assert moved == len(mine) - len(acknowledged)
        others_after = Assignment.objects.filter(study=study).exclude(reviewer=leaving).count()
        assert others_after - others_before == moved
        audit = AuditEvent.objects.get(study=study, action="panel.remove")
        assert audit.details == {"reassigned": moved, "kept_submitted": len(acknowledged)}


def test_close_while_reviewers_save_leaves_no_write_after_closed_at(roles):
    for trial in range(TRIALS):
        coordinator = CoordinatorFactory()
        panel = [ReviewerFactory() for _ in range(4)]
        study = make_open_study(
            coordinator=coordinator, reviewers=panel, n_real=3, n_synthetic=3, seed=trial
        )
        firsts = [
            Assignment.objects.filter(study=study, reviewer=reviewer).order_by("position").first()
            for reviewer in panel
        ]

        def keep_saving(reviewer, code: str) -> int:
            saved = 0
            for score in [3, 4, 5, 6, 7, 8] * 3:
                try:
                    assignment = selectors.assignment_for_reviewer_update(
                        reviewer=reviewer, code=code
                    )
                    services.rating_save(
                        assignment=assignment, domain_key="completeness", score=score
                    )
                    services_reviewer.assignment_reading_time_add(
                        assignment=assignment, visit_ms=15000
                    )
                    saved += 1
                except ServiceError:
                    pass
            return saved

        calls: list[Callable[[], Any]] = [
            partial(keep_saving, r, a.code) for r, a in zip(panel, firsts, strict=True)
        ]
        calls.append(partial(services.study_close, study=study, actor=coordinator))
        results = _run_together(calls)
        assert all(outcome == "ok" for outcome, _ in results), results

        study.refresh_from_db()
        late = Rating.objects.filter(
            assignment__study=study, updated_at__gt=study.closed_at
        ).count()
        late_comments = Assignment.objects.filter(
            study=study, updated_at__gt=study.closed_at
        ).count()
        assert (late, late_comments) == (0, 0)


def test_submit_while_saving_never_changes_a_submitted_score_without_audit(roles):
    for trial in range(TRIALS * 2):
        coordinator = CoordinatorFactory()
        panel = [ReviewerFactory() for _ in range(2)]
        study = make_open_study(
            coordinator=coordinator, reviewers=panel, n_real=2, n_synthetic=2, seed=trial
        )
        reviewer = panel[0]
        assignment = (
            Assignment.objects.filter(study=study, reviewer=reviewer).order_by("position").first()
        )
        _score_all(assignment, score=5)

        results = _run_together(
            [
                partial(_submit_as_the_view_does, reviewer, assignment.code),
                partial(_save_as_the_view_does, reviewer, assignment.code, 9),
            ]
        )
        assert all(outcome == "ok" for outcome, _ in results), results

        assignment.refresh_from_db()
        rating = Rating.objects.get(assignment=assignment, domain__key="completeness")
        changes = list(
            AuditEvent.objects.filter(
                action="rating.change_after_submit", target=assignment.code
            ).values_list("details", flat=True)
        )
        assert rating.score == 9
        if rating.updated_at > assignment.submitted_at:
            # Saved after the submit: that change is on record, old to new.
            assert changes == [{"domain": "completeness", "old": 5, "new": 9}]
        else:
            assert changes == []


def test_two_coordinators_adding_reviewers_at_once_get_distinct_pseudonyms(roles):
    for trial in range(TRIALS):
        coordinator = CoordinatorFactory()
        study = make_open_study(
            coordinator=coordinator,
            reviewers=[ReviewerFactory() for _ in range(2)],
            n_real=2,
            n_synthetic=2,
            seed=trial,
        )
        newcomers = [ReviewerFactory() for _ in range(3)]
        results = _run_together(
            [partial(services.study_reviewer_add, study=study, reviewer=r) for r in newcomers]
        )
        assert all(outcome == "ok" for outcome, _ in results), results
        pseudonyms = sorted(
            StudyReviewer.objects.filter(study=study).values_list("pseudonym", flat=True)
        )
        assert pseudonyms == ["R1", "R2", "R3", "R4", "R5"]


def test_threads_leave_no_connection_open(roles):
    # The helper closes each thread's connection, so the flush after each test is not
    # blocked by an idle transaction.
    results = _run_together([lambda: Assignment.objects.count()] * 3)
    assert results == [("ok", 0)] * 3
    assert connection.vendor == "postgresql"


def test_undo_during_a_submit_waits_for_it_and_is_refused(roles):
    """An undo of a score (rating_clear) while the report's submit is in flight: the undo
    waits for the submit's locks, then is refused, and the submitted report keeps its six
    scores. Before the fix the undo deleted the score under the submit's feet."""
    coordinator = CoordinatorFactory()
    panel = [ReviewerFactory() for _ in range(2)]
    study = make_open_study(coordinator=coordinator, reviewers=panel, n_real=2, n_synthetic=2)
    reviewer = panel[0]
    assignment = Assignment.objects.filter(study=study, reviewer=reviewer).order_by("position")[0]
    _score_all(assignment)
    submitting, release = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def submit_held_open() -> None:
        try:
            with transaction.atomic():
                services.assignment_submit(assignment=Assignment.objects.get(pk=assignment.pk))
                submitting.set()
                release.wait(30)
        finally:
            connections.close_all()

    def undo() -> None:
        try:
            mine = selectors.assignment_for_reviewer_update(reviewer=reviewer, code=assignment.code)
            services_reviewer.rating_clear(assignment=mine, domain_key="completeness")
            outcome["undo"] = "cleared"
        except ServiceError as exc:
            outcome["undo"] = exc.code
        finally:
            connections.close_all()

    submitter = threading.Thread(target=submit_held_open)
    submitter.start()
    assert submitting.wait(30)
    undoer = threading.Thread(target=undo)
    undoer.start()
    # Until the undo is seen waiting for a lock (or has finished without waiting: the bug).
    with connection.cursor() as cursor:
        for _ in range(300):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0] or not undoer.is_alive():
                break
            threading.Event().wait(0.05)
    release.set()
    submitter.join(30)
    undoer.join(30)
    assert outcome == {"undo": "submitted_needs_score"}
    assert Rating.objects.filter(assignment=assignment).count() == 6
    assert Assignment.objects.get(pk=assignment.pk).status == Assignment.Status.SUBMITTED
