"""The study figures' refresh task run by a real Celery worker on Redis (DB 1, as the other
integration tests), the results page then served from what the worker stored."""

import os

import pytest
import redis
from django.urls import reverse

from review.models import StudyComputation
from synthreports.celery import app
from tests import celery_workers as workers
from tests.factories import PASSWORD
from tests.review.rated_study import rated_study
from tests.transactional_fixtures import roles  # noqa: F401 (a fixture, requested by name)

pytestmark = pytest.mark.integration

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


@pytest.mark.usefixtures("roles")
def test_worker_computes_and_stores_the_figures_the_page_then_serves(
    transactional_db, client, coordinator, reviewers
):
    redis.Redis.from_url(REDIS_URL).flushdb()
    study = rated_study(coordinator=coordinator, reviewers=reviewers, n_real=2, n_synthetic=2)
    worker = workers.start_worker(workers.database_worker_env(REDIS_URL), "figures", concurrency=1)
    try:
        with app.connection_for_write(REDIS_URL) as conn:
            app.send_task(
                "review.study_computations_refresh",
                kwargs={"study_id": study.pk, "kinds": ["results", "judge", "surface"]},
                connection=conn,
            )
        assert workers.wait_until(
            lambda: StudyComputation.objects.filter(study=study).count() == 4, 180
        ), list(StudyComputation.objects.filter(study=study).values_list("kind", "language"))
    finally:
        workers.stop(worker)
        redis.Redis.from_url(REDIS_URL).flushdb()
    client.login(username=coordinator.username, password=PASSWORD)
    page = client.get(reverse("review:study_results", args=[study.pk])).content.decode()
    assert "Being computed in the background" not in page
    assert "48 ratings of 4 reports by 2 reviewers" in page
