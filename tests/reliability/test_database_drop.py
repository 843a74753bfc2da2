"""The database connection drops during a rating save: the reviewer reads a clear retry
message (503), nothing half-written stays behind, and the next click saves."""

import pytest
import requests
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from review.models import Assignment, Rating
from review.views.reviewer import DATABASE_RETRY_MESSAGE
from tests.conftest import make_open_study
from tests.factories import PASSWORD
from tests.transactional_fixtures import connection_killed_on_first_insert

RETRY_TEXT = str(DATABASE_RETRY_MESSAGE)


def _first_assignment(study, reviewer) -> Assignment:
    return Assignment.objects.filter(study=study, reviewer=reviewer).order_by("position").first()


def _snapshot(assignment: Assignment) -> tuple:
    row = Assignment.objects.get(pk=assignment.pk)
    return (row.status, row.submitted_at, row.comment, row.updated_at, row.ratings.count())


def test_rating_save_connection_error_gives_retry_message_then_next_save_works(
    reviewer_client, open_study, reviewer
):
    assignment = _first_assignment(open_study, reviewer)
    url = reverse("review:rate_score", args=[assignment.code, "completeness"])
    before = _snapshot(assignment)

    def drop_on_rating_write(execute, sql, params, many, context):
        if 'INTO "review_rating"' in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(drop_on_rating_write):
        response = reviewer_client.post(url, {"score-completeness": "7"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 503
    assert RETRY_TEXT in response.content.decode()
    assert _snapshot(assignment) == before
    assert Rating.objects.filter(assignment=assignment).count() == 0

    response = reviewer_client.post(url, {"score-completeness": "7"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert RETRY_TEXT not in response.content.decode()
    assert list(Rating.objects.filter(assignment=assignment).values_list("score", flat=True)) == [7]


def test_rating_save_connection_error_without_htmx_redirects_with_message(
    reviewer_client, open_study, reviewer
):
    assignment = _first_assignment(open_study, reviewer)
    url = reverse("review:rate_score", args=[assignment.code, "completeness"])

    def drop_on_rating_write(execute, sql, params, many, context):
        if 'INTO "review_rating"' in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(drop_on_rating_write):
        response = reviewer_client.post(url, {"score-completeness": "4"}, follow=True)
    assert response.status_code == 200
    assert RETRY_TEXT in response.content.decode()
    assert Rating.objects.filter(assignment=assignment).count() == 0


@pytest.fixture
def connection_killed_on_first_rating(roles):
    with connection_killed_on_first_insert(
        table="review_rating", name="reliability_drop_connection"
    ):
        yield


def test_backend_terminated_during_rating_save_live_server(
    connection_killed_on_first_rating, plain_http_cookies, live_server, coordinator, reviewers
):
    study = make_open_study(coordinator=coordinator, reviewers=reviewers)
    reviewer = reviewers[0]
    assignment = _first_assignment(study, reviewer)
    login = Client()
    assert login.login(username=reviewer.username, password=PASSWORD)
    session = requests.Session()
    session.cookies.set("sessionid", login.cookies["sessionid"].value)
    page = session.get(live_server.url + reverse("review:rate", args=[assignment.code]), timeout=10)
    assert page.status_code == 200
    headers = {"X-CSRFToken": session.cookies["csrftoken"], "HX-Request": "true"}
    url = live_server.url + reverse("review:rate_score", args=[assignment.code, "completeness"])

    # The click's one-statement save dies with its backend and writes nothing (one statement,
    # all or nothing); the view then takes the ordinary save on a new connection, once, so
    # the reviewer's click is kept and answered normally.
    first = session.post(url, data={"score-completeness": "8"}, headers=headers, timeout=20)
    assert first.status_code == 200
    assert RETRY_TEXT not in first.text
    assert 'value="8" checked' in first.text
    assert list(Rating.objects.filter(assignment=assignment).values_list("score", flat=True)) == [8]
    # Two inserts reached the trap: the one whose backend it killed, then the retry.
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_value FROM reliability_drop_connection_once")
        assert cursor.fetchone() == (2,)

    # The same click again changes nothing more.
    second = session.post(url, data={"score-completeness": "8"}, headers=headers, timeout=20)
    assert second.status_code == 200
    assert 'value="8" checked' in second.text
    assert list(Rating.objects.filter(assignment=assignment).values_list("score", flat=True)) == [8]


def test_rating_save_database_still_down_keeps_row_and_appends_message(
    reviewer_client, open_study, reviewer
):
    assignment = _first_assignment(open_study, reviewer)
    url = reverse("review:rate_score", args=[assignment.code, "completeness"])

    def database_gone(execute, sql, params, many, context):
        if '"review_domain"' in sql or '"review_rating"' in sql:
            raise OperationalError("could not connect to server")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(database_gone):
        response = reviewer_client.post(url, {"score-completeness": "5"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 503
    assert response["HX-Reswap"] == "beforeend"
    assert response.content.decode() == f'<p class="error" role="alert">{RETRY_TEXT}</p>'
    assert Rating.objects.filter(assignment=assignment).count() == 0
