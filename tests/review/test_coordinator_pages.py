from django.urls import reverse

from review.models import Assignment, Study
from tests.factories import ReportFactory, SyntheticReportFactory


def test_coordinator_creates_and_opens_study_from_the_page(coordinator_client, reviewers):
    ReportFactory.create_batch(4)
    SyntheticReportFactory.create_batch(6)
    response = coordinator_client.post(
        reverse("review:study_create"),
        {
            "name": "Pilot",
            "description": "",
            "raters_per_report": 2,
            "scale_min": 1,
            "scale_max": 10,
            "seed": 3,
            "noninferiority_margin": 1.0,
            "real_imports": ["none"],
            "synthetic_count": 4,
            "synthetic_batches": ["7"],
            "reviewers": [r.pk for r in reviewers],
        },
    )
    study = Study.objects.get(name="Pilot")
    assert response.status_code == 302
    assert response["Location"] == reverse("review:study_detail", args=[study.pk])
    assert study.memberships.count() == 8
    assert (
        sorted(study.reports.values_list("source", flat=True)) == ["real"] * 4 + ["synthetic"] * 4
    )

    detail = coordinator_client.get(response["Location"]).content.decode()
    assert "4 real and 4 synthetic reports." in detail

    opened = coordinator_client.post(reverse("review:study_action", args=[study.pk, "open"]))
    assert opened.status_code == 302
    study.refresh_from_db()
    assert study.status == "open"
    assert Assignment.objects.filter(study=study).count() == 16


def test_study_create_form_errors_create_nothing(coordinator_client, reviewers):
    response = coordinator_client.post(
        reverse("review:study_create"),
        {
            "name": "Bad",
            "raters_per_report": 3,
            "scale_min": 5,
            "scale_max": 2,
            "noninferiority_margin": 1,
            "synthetic_count": 0,
            "reviewers": [reviewers[0].pk],
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "The highest score must be above the lowest." in body
    assert "Choose at least 3 reviewers for 3 raters per report." in body
    assert "Choose some reports: an import, a batch, or both." in body
    assert Study.objects.count() == 0


def test_study_create_too_many_synthetic_requested(coordinator_client, reviewers):
    SyntheticReportFactory.create_batch(2)
    response = coordinator_client.post(
        reverse("review:study_create"),
        {
            "name": "Greedy",
            "raters_per_report": 2,
            "scale_min": 1,
            "scale_max": 10,
            "noninferiority_margin": 1,
            "synthetic_count": 5,
            "synthetic_batches": ["7"],
            "reviewers": [r.pk for r in reviewers],
        },
    )
    assert response.status_code == 400
    assert "Only 2 synthetic reports match; asked for 5." in response.content.decode()
    assert Study.objects.count() == 0


def test_study_progress_partial_and_close(coordinator_client, open_study):
    partial = coordinator_client.get(
        reverse("review:study_detail", args=[open_study.pk]) + "?part=progress",
        HTTP_HX_REQUEST="true",
    )
    body = partial.content.decode()
    assert partial.status_code == 200
    assert body.strip().startswith('<div id="progress"')
    assert "<html" not in body
    closed = coordinator_client.post(reverse("review:study_action", args=[open_study.pk, "close"]))
    assert closed.status_code == 302
    open_study.refresh_from_db()
    assert open_study.status == "closed"


def test_study_pages_query_count_independent_of_size(
    coordinator_client, coordinator, django_assert_num_queries
):
    from tests.conftest import make_open_study
    from tests.factories import ReviewerFactory

    small = make_open_study(
        coordinator=coordinator,
        reviewers=[ReviewerFactory(), ReviewerFactory()],
        n_real=1,
        n_synthetic=0,
        k=1,
    )
    big = make_open_study(
        coordinator=coordinator,
        reviewers=[ReviewerFactory(), ReviewerFactory()],
        n_real=25,
        n_synthetic=25,
        k=2,
    )
    counts = []
    for study in (small, big):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert (
                coordinator_client.get(reverse("review:study_detail", args=[study.pk])).status_code
                == 200
            )
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # Once computed in the background, the surface cues are read from their stored copy:
    # the page costs the same, and never reads the report texts.
    from review.computations import computations_refresh

    computations_refresh(study=big, kinds=["surface"])
    with django_assert_num_queries(counts[1]):
        coordinator_client.get(reverse("review:study_detail", args=[big.pk]))


def test_reviewer_home_query_count_fixed(client, coordinator, django_assert_num_queries):
    from tests.conftest import make_open_study
    from tests.factories import PASSWORD, ReviewerFactory

    reviewers = [ReviewerFactory(), ReviewerFactory()]
    make_open_study(coordinator=coordinator, reviewers=reviewers, n_real=1, n_synthetic=0, k=1)
    client.login(username=reviewers[0].username, password=PASSWORD)
    # session, user with their review roles (one query), studies with progress
    with django_assert_num_queries(3):
        assert client.get(reverse("review:home")).status_code == 200
    make_open_study(coordinator=coordinator, reviewers=reviewers, n_real=25, n_synthetic=25, k=2)
    with django_assert_num_queries(3):
        assert client.get(reverse("review:home")).status_code == 200


def test_rate_score_out_of_range_shows_message_and_stores_nothing(
    reviewer_client, reviewer, open_study
):
    assignment = Assignment.objects.filter(reviewer=reviewer).first()
    response = reviewer_client.post(
        reverse("review:rate_score", args=[assignment.code, "completeness"]),
        {"score-completeness": "12"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert "The score must be between 1 and 10." in response.content.decode()
    assert assignment.ratings.count() == 0


def test_rate_submit_incomplete_rerenders_with_message(reviewer_client, reviewer, open_study):
    assignment = Assignment.objects.filter(reviewer=reviewer).first()
    response = reviewer_client.post(reverse("review:rate_submit", args=[assignment.code]))
    assert response.status_code == 400
    assert "Score every domain before submitting." in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.status == "pending"


def test_domains_edit_in_draft(coordinator_client, coordinator):
    from review import services

    study = services.study_create(name="D", created_by=coordinator)
    data = {"form-TOTAL_FORMS": "2", "form-INITIAL_FORMS": "0"}
    data.update(
        {
            "form-0-key": "clarity",
            "form-0-label": "Clarity",
            "form-1-key": "accuracy",
            "form-1-label": "Accuracy",
        }
    )
    response = coordinator_client.post(reverse("review:study_domains", args=[study.pk]), data)
    assert response.status_code == 302
    assert list(study.domains.values_list("key", "label")) == [
        ("clarity", "Clarity"),
        ("accuracy", "Accuracy"),
    ]
