"""Query budgets of the generation list pages (batches, frames): the same number of queries
for one row or many. Timings live in bench/, not here."""

import json

import pytest
from django.urls import reverse

from generation import catalogue, services
from generation.models import Batch, SamplingFrame
from tests.review.test_query_budgets import REQUEST_OVERHEAD

SIZES = [1, 12]


@pytest.mark.parametrize("size", SIZES)
def test_batch_list_queries_fixed(coordinator_client, coordinator, django_assert_num_queries, size):
    for _ in range(size):
        services.batch_launch(count=2, backend="offline", created_by=coordinator, enqueue=False)
    # Batches with frame, prompt and creator joined and item counts annotated; the prompt
    # versions compared in one aggregate.
    with django_assert_num_queries(REQUEST_OVERHEAD + 2):
        response = coordinator_client.get(reverse("generation:batch_list"))
    assert response.status_code == 200
    assert len(response.context["batches"]) == size == Batch.objects.count()


@pytest.mark.parametrize("size", SIZES)
def test_frame_list_queries_fixed(coordinator_client, coordinator, django_assert_num_queries, size):
    default = SamplingFrame.objects.order_by("name", "version").first()
    assert default is not None  # seeded by migration
    before = SamplingFrame.objects.count()
    for version in range(size):
        data = dict(default.data, name="local-frame", version=version + 1)
        catalogue.frame_create(text=json.dumps(data), created_by=coordinator)
    with django_assert_num_queries(REQUEST_OVERHEAD + 1):  # the frames; a GET writes nothing
        response = coordinator_client.get(reverse("generation:frame_list"))
    assert response.status_code == 200
    assert SamplingFrame.objects.count() == before + size
    assert response.content.decode().count("local-frame@") == size
