"""A reviewer removed from a study's panel no longer reads or writes anything of it: every
page, htmx endpoint and API route answers 404 (as for another reviewer's assignment), even
for the reports they submitted before leaving, and nothing is stored."""

import pytest
from django.urls import reverse

from review import services
from review.models import Assignment, AuditEvent, Rating
from tests.factories import PASSWORD, ReviewerFactory


@pytest.fixture
def removed(open_study, coordinator, reviewer):
    """The reviewer, with one submitted report, removed from the panel."""
    services.study_reviewer_add(study=open_study, reviewer=ReviewerFactory(), actor=coordinator)
    submitted = Assignment.objects.filter(study=open_study, reviewer=reviewer).first()
    for domain in open_study.domains.all():
        services.rating_save(assignment=submitted, domain_key=domain.key, score=4)
    services.assignment_submit(assignment=submitted)
    services.study_reviewer_remove(study=open_study, reviewer=reviewer, actor=coordinator)
    return submitted


def _fingerprint(study) -> tuple:
    return (
        sorted(
            Rating.objects.filter(assignment__study=study).values_list(
                "assignment_id", "domain_id", "score"
            )
        ),
        sorted(
            Assignment.objects.filter(study=study).values_list(
                "pk", "status", "comment", "active_ms"
            )
        ),
        AuditEvent.objects.count(),
    )


def test_removed_reviewer_keeps_only_submitted_assignment(removed, reviewer, open_study):
    assert list(
        Assignment.objects.filter(study=open_study, reviewer=reviewer).values_list("code", "status")
    ) == [(removed.code, "submitted")]


@pytest.mark.parametrize(
    ("method", "route", "data"),
    [
        ("get", "review:rate", None),
        ("post", "review:rate_score", {"score-completeness": "9"}),
        ("post", "review:rate_comment", {"comment": "after removal"}),
        ("post", "review:rate_submit", {"score-completeness": "9"}),
        ("post", "review:rate_heartbeat", {"active_ms": "15"}),
    ],
)
def test_removed_reviewer_pages_404_nothing_stored(
    client, reviewer, removed, open_study, method, route, data
):
    client.login(username=reviewer.username, password=PASSWORD)
    args = [removed.code, "completeness"] if route == "review:rate_score" else [removed.code]
    before = _fingerprint(open_study)
    response = getattr(client, method)(
        reverse(route, args=args), data or {}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 404
    assert _fingerprint(open_study) == before


def test_removed_reviewer_continue_404_and_home_lists_no_study(client, reviewer, removed):
    client.login(username=reviewer.username, password=PASSWORD)
    assert client.get(reverse("review:continue", args=[removed.study.code])).status_code == 404
    home = client.get(reverse("review:home"))
    assert home.status_code == 200
    assert removed.study.code not in home.content.decode()


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("put", "ratings/", {"scores": {"completeness": 9}, "comment": "late"}),
        ("post", "submit/", None),
    ],
)
def test_removed_reviewer_api_404_nothing_stored(
    client, reviewer, removed, open_study, method, suffix, body
):
    client.login(username=reviewer.username, password=PASSWORD)
    before = _fingerprint(open_study)
    url = f"/api/v1/me/assignments/{removed.code}/{suffix}"
    response = getattr(client, method)(url, body, content_type="application/json")
    assert response.status_code == 404
    assert _fingerprint(open_study) == before


def test_removed_reviewer_api_queue_is_empty(client, reviewer, removed):
    client.login(username=reviewer.username, password=PASSWORD)
    response = client.get("/api/v1/me/queue/")
    assert response.status_code == 200
    assert response.json() == []


def test_service_refuses_a_write_from_a_stale_copy_after_removal(removed, reviewer, open_study):
    # The view read the assignment before the removal committed: the service, checking
    # the seat under lock, still refuses.
    from review.exceptions import NotFound

    before = _fingerprint(open_study)
    with pytest.raises(NotFound):
        services.rating_save(assignment=removed, domain_key="completeness", score=9)
    with pytest.raises(NotFound):
        services.assignment_comment_save(assignment=removed, comment="late")
    assert _fingerprint(open_study) == before


def test_reviewer_added_back_reads_and_writes_again(client, coordinator, reviewer, removed):
    services.study_reviewer_add(study=removed.study, reviewer=reviewer, actor=coordinator)
    client.login(username=reviewer.username, password=PASSWORD)
    assert client.get(reverse("review:rate", args=[removed.code])).status_code == 200
