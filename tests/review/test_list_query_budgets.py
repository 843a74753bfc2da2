"""Query budgets of the coordinator's list pages (studies, reports): the same number of
queries for one row or many, so a relation touched per row in a template fails here.
Timings live in bench/, not here."""

import pytest
from django.urls import reverse

from review.models import Report, Study
from tests.conftest import make_open_study
from tests.factories import ReportFactory, SyntheticReportFactory
from tests.review.test_query_budgets import REQUEST_OVERHEAD

SIZES = [1, 30]


@pytest.mark.parametrize("size", SIZES)
def test_study_list_queries_fixed(
    coordinator_client, coordinator, reviewers, django_assert_num_queries, size
):
    for seed in range(size):
        make_open_study(
            coordinator=coordinator, reviewers=reviewers, n_real=1, n_synthetic=1, k=1, seed=seed
        )
    with django_assert_num_queries(REQUEST_OVERHEAD + 1):  # studies with their counts
        response = coordinator_client.get(reverse("review:study_list"))
    assert response.status_code == 200
    assert len(response.context["studies"]) == size
    assert Study.objects.count() == size


@pytest.mark.parametrize("size", SIZES)
def test_report_list_queries_fixed(coordinator_client, django_assert_num_queries, size):
    ReportFactory.create_batch(size)
    SyntheticReportFactory.create_batch(size)
    # The paginator's count, one page of reports with their imports joined, and the audit
    # entry naming the reports shown (the page shows their sources).
    with django_assert_num_queries(REQUEST_OVERHEAD + 3):
        response = coordinator_client.get(reverse("review:report_list"))
    assert response.status_code == 200
    page = response.context["page"]
    assert page.paginator.count == 2 * size == Report.objects.count()
    assert len(page.object_list) == min(2 * size, 50)
