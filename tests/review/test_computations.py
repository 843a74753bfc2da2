"""Study figures computed in the background (review/computations.py, review/tasks.py):
scheduled once per burst of submissions, computed by the task, read back with their age."""

import pytest
from django.core.cache import cache

from review.computations import (
    computation_read,
    computations_refresh,
    computations_schedule,
)
from review.models import StudyComputation
from review.tasks import study_computations_refresh
from tests.review.rated_study import rated_study


@pytest.fixture
def study(coordinator, reviewers):
    return rated_study(coordinator=coordinator, reviewers=reviewers, n_real=2, n_synthetic=2)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_schedule_is_debounced_per_study_until_the_task_starts(
    study, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        assert computations_schedule(study_id=study.pk) is True
        # A burst of submissions: one message.
        assert computations_schedule(study_id=study.pk) is False
        assert computations_schedule(study_id=study.pk) is False
    assert len(callbacks) == 1
    # The task clears the mark as it starts; the next submission schedules again.
    kinds = ["results", "judge", "surface"]
    assert sorted(study_computations_refresh.run(study_id=study.pk, kinds=kinds)) == [
        "judge",
        "results:en",
        "results:fr",
        "surface",
    ]
    with django_capture_on_commit_callbacks() as callbacks:
        assert computations_schedule(study_id=study.pk) is True
    assert len(callbacks) == 1


def test_task_of_a_deleted_study_returns_quietly(db):
    assert study_computations_refresh.run(study_id=987654, kinds=["results"]) == []


def test_read_before_and_after_the_computation(study, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        assert computation_read(study=study, kind="results", language="en") is None
    assert len(callbacks) == 1  # the missing value asked for its computation
    computations_refresh(study=study, kinds=["results"])
    stored = computation_read(study=study, kind="results", language="en", schedule=False)
    assert stored is not None and stored.stale is False
    assert stored.value.figures["n_ratings"] == 4 * 2 * 6
    assert stored.age_seconds >= 0
    assert StudyComputation.objects.filter(study=study, kind="results").count() == 2


def test_submitted_rating_schedules_a_refresh(
    client, open_study, reviewer, django_capture_on_commit_callbacks
):
    from review import services
    from review.models import Assignment
    from tests.factories import PASSWORD

    assignment = Assignment.objects.filter(study=open_study, reviewer=reviewer).first()
    services.assignment_open(assignment=assignment)
    for key in open_study.domains.values_list("key", flat=True):
        services.rating_save(assignment=assignment, domain_key=key, score=7)
    client.login(username=reviewer.username, password=PASSWORD)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(f"/r/{assignment.code}/submit/")
    assert response.status_code == 302
    assert len(callbacks) == 1
