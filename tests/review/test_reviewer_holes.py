"""Smaller blinding holes: API documentation and browser caches."""

import pytest
from rest_framework.authtoken.models import Token

from tests.review.test_blinding import _reviewer_responses, mixed_study  # noqa: F401  (fixture)


@pytest.mark.parametrize("url", ["/api/schema/", "/api/schema/?format=json", "/api/docs/"])
def test_reviewer_cannot_read_schema_or_docs(reviewer_client, url):
    response = reviewer_client.get(url)
    assert response.status_code == 403
    body = response.content.decode()
    assert "provenance" not in body
    assert "/api/v1/" not in body


@pytest.mark.parametrize(
    "url", ["/api/v1/me/queue/", "/api/v1/studies/", "/api/v1/reports/", "/api/v1/batches/"]
)
def test_reviewer_cannot_open_browsable_api_pages(reviewer_client, url):
    for response in (
        reviewer_client.get(url, HTTP_ACCEPT="text/html"),
        reviewer_client.get(url + "?format=api"),
    ):
        assert response.status_code == 403
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "The API documentation is for coordinators."}


def test_reviewer_token_cannot_read_the_schema(reviewer):
    from django.test import Client

    token = Token.objects.create(user=reviewer)
    response = Client().get("/api/schema/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 403


def test_anonymous_cannot_read_the_schema(client):
    # 401 with a challenge: the API now answers anonymous requests so (main's change).
    assert client.get("/api/schema/").status_code == 401
    assert client.get("/api/docs/").status_code == 401


def test_coordinator_reads_schema_docs_and_browsable_pages(coordinator_client):
    assert coordinator_client.get("/api/schema/").status_code == 200
    assert coordinator_client.get("/api/docs/").status_code == 200
    browsable = coordinator_client.get("/api/v1/studies/", HTTP_ACCEPT="text/html")
    assert browsable.status_code == 200
    assert browsable["Content-Type"].startswith("text/html")


def test_reviewer_json_api_still_answers(reviewer_client):
    response = reviewer_client.get("/api/v1/me/queue/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200


def test_every_reviewer_response_is_no_store(client, reviewers, mixed_study):  # noqa: F811 (the imported fixture)
    seen = 0
    for reviewer in reviewers:
        for label, response in _reviewer_responses(client, reviewer, mixed_study):
            cache_control = response.get("Cache-Control", "")
            assert "no-store" in cache_control, (label, cache_control)
            assert "private" in cache_control, (label, cache_control)
            seen += 1
        client.logout()
    assert seen == 2 * (3 + 7 * 10)


def test_token_api_answers_are_no_store(reviewer):
    from django.test import Client

    token = Token.objects.create(user=reviewer)
    response = Client().get("/api/v1/me/queue/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("view_headers", [{}, {"Cache-Control": "max-age=300, public"}])
def test_no_store_headers_are_django_s_own(view_headers, rf, reviewer, monkeypatch):
    """ReviewerNoStoreMiddleware writes the usual answer's headers itself: they must be the
    ones add_never_cache_headers writes, and a view's own Cache-Control is still merged."""
    from django.http import HttpResponse
    from django.utils.cache import add_never_cache_headers

    from review import middleware

    monkeypatch.setattr(middleware.time, "time", lambda: 1_790_000_000.0)
    monkeypatch.setattr("django.utils.cache.time.time", lambda: 1_790_000_000.0)

    def view(request):
        return HttpResponse("x", headers=view_headers)

    request = rf.get("/r/ABC/")
    request.user = reviewer
    answered = middleware.ReviewerNoStoreMiddleware(view)(request)
    expected = view(request)
    add_never_cache_headers(expected)
    assert dict(answered.headers) == dict(expected.headers)
    assert answered["Expires"] == "Mon, 21 Sep 2026 14:13:20 GMT"
    # The view's max-age and public give way (Django drops public when private is set).
    assert answered["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
