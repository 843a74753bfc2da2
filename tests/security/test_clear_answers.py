"""Clear answers where the user used to get a wrong page: an htmx click with an expired
session, an htmx click with a stale CSRF token, a password sprayed over many usernames."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from review import services
from review.models import Assignment, Rating
from tests.factories import PASSWORD, ReviewerFactory


@pytest.fixture
def mine(open_study, reviewer) -> Assignment:
    assignment = Assignment.objects.filter(study=open_study, reviewer=reviewer).first()
    services.assignment_open(assignment=assignment)
    return assignment


def test_htmx_click_with_expired_session_gets_hx_redirect_to_login(client, mine):
    page = reverse("review:rate", args=[mine.code])
    response = client.post(
        reverse("review:rate_score", args=[mine.code, "completeness"]),
        {"score-completeness": "5"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{page}",
    )
    assert response.status_code == 401
    assert response["HX-Redirect"] == f"/accounts/login/?next=%2Fr%2F{mine.code}%2F"
    assert response.content == b""
    login = client.get(response["HX-Redirect"])
    assert "Your session has expired: sign in again." in login.content.decode()
    assert Rating.objects.filter(assignment=mine).count() == 0


def test_htmx_redirect_never_points_to_another_site(client, mine):
    response = client.post(
        reverse("review:rate_score", args=[mine.code, "completeness"]),
        {"score-completeness": "5"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="https://evil.example/phish",
    )
    assert response["HX-Redirect"] == "/accounts/login/?next=%2F"


def test_plain_request_with_expired_session_still_redirects(client, mine):
    response = client.get(reverse("review:rate", args=[mine.code]))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_htmx_click_with_stale_csrf_token_gets_inline_message(reviewer, mine):
    client = Client(enforce_csrf_checks=True)
    client.login(username=reviewer.username, password=PASSWORD)
    response = client.post(
        reverse("review:rate_score", args=[mine.code, "completeness"]),
        {"score-completeness": "5"},
        HTTP_HX_REQUEST="true",
        HTTP_X_CSRFTOKEN="stale-token-from-an-old-tab-0123456789012345678901234",
    )
    assert response.status_code == 403
    assert response["HX-Reswap"] == "beforeend"
    assert response.content.decode().startswith(
        '<p class="error" role="alert">This page is out of date'
    )
    assert Rating.objects.filter(assignment=mine).count() == 0


def test_non_htmx_csrf_failure_keeps_django_page(reviewer, mine):
    client = Client(enforce_csrf_checks=True)
    client.login(username=reviewer.username, password=PASSWORD)
    response = client.post(reverse("review:rate_comment", args=[mine.code]), {"comment": "x"})
    assert response.status_code == 403
    assert "CSRF verification failed" in response.content.decode()


@pytest.mark.django_db
def test_password_spray_over_usernames_locks_the_address_range(reviewer):
    victims = [ReviewerFactory() for _ in range(4)]
    with override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=5, LOGIN_RANGE_FAILURE_LIMIT=4):
        sprayed = [
            Client(REMOTE_ADDR=f"203.0.113.{10 + i}")
            .post(reverse("login"), {"username": victim.username, "password": "Spring2026!"})
            .status_code
            for i, victim in enumerate(victims)
        ]
        # No username reached its own limit: each failure is answered with the form.
        assert sprayed == [200, 200, 200, 200]
        same_range = Client(REMOTE_ADDR="203.0.113.200")
        locked = same_range.post(
            reverse("login"), {"username": reviewer.username, "password": PASSWORD}
        )
        assert locked.status_code == 429
        assert not same_range.session.get("_auth_user_id")
        # Another range is not affected.
        elsewhere = Client(REMOTE_ADDR="198.51.100.7")
        ok = elsewhere.post(reverse("login"), {"username": reviewer.username, "password": PASSWORD})
        assert ok.status_code == 302
        assert elsewhere.session.get("_auth_user_id") == str(reviewer.pk)
