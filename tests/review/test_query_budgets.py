"""Query budgets of the hot pages: a fixed, small number of queries whatever the size of
the study (1 report or 50, no rating or hundreds). Timings live in bench/, not here.

Each budget is written out query by query so a new query on a hot path is a decision, not
an accident.
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from review import services
from review.computations import computations_refresh
from review.models import Assignment, Domain, Rating
from tests.conftest import make_open_study
from tests.factories import PASSWORD, ReviewerFactory

# Every page: the session, and the user with their review roles (one query, see
# permissions.RoleReadingModelBackend).
REQUEST_OVERHEAD = 2


def _study_of(size, *, coordinator):
    """A study of `size` reports all assigned to one reviewer (whose client is returned),
    with every report but the last submitted and fully rated, so the numbers of reports,
    assignments and ratings all grow with `size`."""
    reviewer = ReviewerFactory()
    study = make_open_study(
        coordinator=coordinator,
        reviewers=[reviewer],
        n_real=(size + 1) // 2,
        n_synthetic=size // 2,
        k=1,
    )
    queue = list(Assignment.objects.filter(study=study, reviewer=reviewer).order_by("position"))
    done, last = queue[:-1], queue[-1]
    domains = list(Domain.objects.filter(study=study))
    Rating.objects.bulk_create(
        Rating(assignment=assignment, domain=domain, score=7)
        for assignment in done
        for domain in domains
    )
    Assignment.objects.filter(pk__in=[a.pk for a in done]).update(
        status=Assignment.Status.SUBMITTED, submitted_at=timezone.now()
    )
    return study, reviewer, last


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


SIZES = [1, 50]


@pytest.mark.parametrize("size", SIZES)
def test_reviewer_home_queries_fixed(client, coordinator, django_assert_num_queries, size):
    _study, reviewer, _last = _study_of(size, coordinator=coordinator)
    _login(client, reviewer)
    with django_assert_num_queries(REQUEST_OVERHEAD + 1):  # studies with progress
        response = client.get(reverse("review:home"))
    assert response.status_code == 200
    assert f"{size - 1} / {size} rated" in response.content.decode()


@pytest.mark.parametrize("size", SIZES)
def test_continue_queries_fixed(client, coordinator, django_assert_num_queries, size):
    study, reviewer, last = _study_of(size, coordinator=coordinator)
    _login(client, reviewer)
    with django_assert_num_queries(REQUEST_OVERHEAD + 1):  # the next unsubmitted assignment
        response = client.get(reverse("review:continue", args=[study.code]))
    assert response.status_code == 302
    assert response["Location"] == reverse("review:rate", args=[last.code])


@pytest.mark.parametrize("size", SIZES)
def test_rating_page_queries_fixed(client, coordinator, django_assert_num_queries, size):
    _study, reviewer, last = _study_of(size, coordinator=coordinator)
    _login(client, reviewer)
    # The opening update, which finds the assignment by code (first opening and the start
    # of the reading clock), then the blinded page: assignment with queue neighbours,
    # domains with scores.
    with django_assert_num_queries(REQUEST_OVERHEAD + 3):
        first = client.get(reverse("review:rate", args=[last.code]))
    assert first.status_code == 200
    assert f"Report {size} of {size}" in first.content.decode()
    # Opened already: the update restarts the reading clock only.
    with django_assert_num_queries(REQUEST_OVERHEAD + 3):
        again = client.get(reverse("review:rate", args=[last.code]))
    assert again.status_code == 200
    last.refresh_from_db()
    assert last.status == Assignment.Status.IN_PROGRESS


@pytest.mark.parametrize("size", SIZES)
def test_save_score_queries_fixed(client, coordinator, django_assert_num_queries, size):
    _study, reviewer, last = _study_of(size, coordinator=coordinator)
    services.assignment_open(assignment=last)
    _login(client, reviewer)
    # One statement (issue 21): find and lock the assignment in progress, check the study,
    # seat, domain and scale, upsert; the row is rendered from what it returned.
    with django_assert_num_queries(REQUEST_OVERHEAD + 1):
        response = client.post(
            reverse("review:rate_score", args=[last.code, "completeness"]),
            {"score-completeness": "6"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    assert 'value="6" checked' in response.content.decode()
    assert Rating.objects.get(assignment=last, domain__key="completeness").score == 6


@pytest.mark.parametrize("size", SIZES)
def test_save_score_with_reading_time_queries_fixed(
    client, coordinator, django_assert_num_queries, size
):
    _study, reviewer, last = _study_of(size, coordinator=coordinator)
    services.assignment_open(assignment=last)
    _login(client, reviewer)
    # The same one statement: the page's reading time (issue 17), sent with every save,
    # added in milliseconds and bounded by the wall time since the last one, is a part of it.
    with django_assert_num_queries(REQUEST_OVERHEAD + 1):
        response = client.post(
            reverse("review:rate_score", args=[last.code, "completeness"]),
            {"score-completeness": "6", "active_ms": "250"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    last.refresh_from_db()
    assert 0 < last.active_ms <= 250


@pytest.mark.parametrize("size", SIZES)
def test_my_reports_queries_fixed(client, coordinator, django_assert_num_queries, size):
    study, reviewer, _last = _study_of(size, coordinator=coordinator)
    _login(client, reviewer)
    # The study (and that the reviewer has a queue in it), then the queue with last changes.
    with django_assert_num_queries(REQUEST_OVERHEAD + 2):
        response = client.get(reverse("review:my_reports", args=[study.code]))
    assert response.status_code == 200
    assert response.content.decode().count('<tr data-status="submitted">') == size - 1


@pytest.mark.parametrize("size", SIZES)
def test_submit_queries_fixed(client, coordinator, django_assert_num_queries, size):
    study, reviewer, last = _study_of(size, coordinator=coordinator)
    services.assignment_open(assignment=last)
    for domain in Domain.objects.filter(study=study):
        services.rating_save(assignment=last, domain_key=domain.key, score=5)
    _login(client, reviewer)
    # Two statements (issue 21): the study's, the assignment's and the seat's locks, then
    # the update conditional on every domain being scored, which also names the next report
    # (none left: home, with the success message, no query); the transaction
    # is a savepoint inside the test's (two more statements).
    with django_assert_num_queries(REQUEST_OVERHEAD + 4):
        response = client.post(reverse("review:rate_submit", args=[last.code]))
    assert response.status_code == 302
    assert response["Location"] == reverse("review:home")
    last.refresh_from_db()
    assert last.status == Assignment.Status.SUBMITTED


@pytest.mark.parametrize("size", [2, 50])
def test_submit_answering_with_the_next_page_queries_fixed(
    client, coordinator, django_assert_num_queries, size
):
    """rate.js asks the submit for the next report's page ("answer": "next-page"): the
    submit's statements, then the page's, in one request rather than a redirect and a GET."""
    study, reviewer, last = _study_of(size, coordinator=coordinator)
    before = Assignment.objects.filter(study=study, reviewer=reviewer).get(
        position=last.position - 1
    )
    Assignment.objects.filter(pk=before.pk).update(status=Assignment.Status.IN_PROGRESS)
    for domain in Domain.objects.filter(study=study):
        services.rating_save(assignment=before, domain_key=domain.key, score=5)
    _login(client, reviewer)
    # The submit's four (test_submit_queries_fixed) and the rating page's three.
    with django_assert_num_queries(REQUEST_OVERHEAD + 4 + 3):
        response = client.post(
            reverse("review:rate_submit", args=[before.code]), {"answer": "next-page"}
        )
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-url="{reverse("review:rate", args=[last.code])}"' in body
    assert f"Report {size} of {size}" in body
    before.refresh_from_db()
    last.refresh_from_db()
    assert before.status == Assignment.Status.SUBMITTED
    assert last.status == Assignment.Status.IN_PROGRESS  # opened by the answer, as by a GET
    # Without the script's field (a browser without JavaScript): the redirect, as before.
    response = client.post(reverse("review:rate_submit", args=[before.code]))
    assert response.status_code == 302
    assert response["Location"] == reverse("review:rate", args=[last.code])


@pytest.mark.parametrize("size", SIZES)
def test_study_progress_page_queries_fixed(
    coordinator_client, coordinator, django_assert_num_queries, size
):
    study, _reviewer, _last = _study_of(size, coordinator=coordinator)
    url = reverse("review:study_detail", args=[study.pk])
    # The study, progress per reviewer, source counts, domains, reviewers for the add form,
    # the membership fingerprint of the surface cues and their stored computation (never
    # computed here: issue 21), the reports reviewers could not assess (issue 17).
    with django_assert_num_queries(REQUEST_OVERHEAD + 8):
        first = coordinator_client.get(url)
    assert "Being computed in the background" in first.content.decode()
    computations_refresh(study=study, kinds=["surface"])
    with django_assert_num_queries(REQUEST_OVERHEAD + 8):
        response = coordinator_client.get(url)
    assert first.status_code == response.status_code == 200
    assert f'<td class="num">{size - 1}</td>' in response.content.decode()
    assert "Surface cues by source" in response.content.decode()
    assert "Computed 0" in response.content.decode()


@pytest.mark.parametrize("size", SIZES)
def test_study_progress_partial_queries_fixed(
    coordinator_client, coordinator, django_assert_num_queries, size
):
    study, _reviewer, _last = _study_of(size, coordinator=coordinator)
    # Only what the polled partial shows: the study and the progress per reviewer.
    with django_assert_num_queries(REQUEST_OVERHEAD + 2):
        response = coordinator_client.get(
            reverse("review:study_detail", args=[study.pk]) + "?part=progress",
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.strip().startswith('<div id="progress"')
    assert f'<td class="num">{size - 1}</td>' in body
