"""GET /api/v1/me/next/ (the next unrated assignment, blinded, in one request) and
GET /api/v1/me/queue/page/ (the queue a page at a time); query budgets included."""

from dataclasses import replace

from django.utils import timezone
from rest_framework import serializers

from review.models import Assignment, Domain, Rating, StudyReviewer
from tests.review.api.clients import api_client

# Token authentication: the token's user with their review roles, one query
# (permissions.RoleReadingTokenAuthentication).
API_OVERHEAD = 1


def _mine(study, reviewer):
    return list(
        Assignment.objects.filter(study=study, reviewer=reviewer)
        .select_related("report")
        .order_by("position")
    )


def _submit_all_but(study, reviewer, keep: int):
    queue = _mine(study, reviewer)
    domains = list(Domain.objects.filter(study=study))
    done = queue[: len(queue) - keep]
    Rating.objects.bulk_create(
        Rating(assignment=a, domain=d, score=7) for a in done for d in domains
    )
    Assignment.objects.filter(pk__in=[a.pk for a in done]).update(
        status=Assignment.Status.SUBMITTED, submitted_at=timezone.now()
    )
    return queue


def test_next_returns_the_first_unsubmitted_assignment_blinded(open_study, reviewer):
    queue = _mine(open_study, reviewer)
    response = api_client(reviewer).get("/api/v1/me/next/", {"study": open_study.code})
    assert response.status_code == 200
    data = response.json()
    first = queue[0]
    assert data["code"] == first.code
    assert data["report_code"] == first.report.code
    assert data["position"] == first.position
    assert data["queue_length"] == len(queue)
    assert data["status"] == "pending"
    assert [d["key"] for d in data["domains"]] == list(
        open_study.domains.order_by("order", "id").values_list("key", flat=True)
    )
    assert all(d["score"] is None for d in data["domains"])
    assert data["text"]
    assert "source" not in data and "provenance" not in data


def test_next_moves_on_after_a_submit_and_answers_204_when_done(open_study, reviewer):
    api = api_client(reviewer)
    queue = _mine(open_study, reviewer)
    keys = list(open_study.domains.values_list("key", flat=True))
    for assignment in queue:
        current = api.get("/api/v1/me/next/", {"study": open_study.code})
        assert current.status_code == 200
        assert current.json()["code"] == assignment.code
        api.put(
            f"/api/v1/me/assignments/{assignment.code}/ratings/",
            {"scores": dict.fromkeys(keys, 6)},
            format="json",
        )
        assert api.post(f"/api/v1/me/assignments/{assignment.code}/submit/").status_code == 200
    done = api.get("/api/v1/me/next/", {"study": open_study.code})
    assert done.status_code == 204
    assert done.content == b""


def test_next_refuses_a_missing_or_foreign_study(open_study, reviewer):
    api = api_client(reviewer)
    missing = api.get("/api/v1/me/next/")
    assert missing.status_code == 400
    assert missing.json()["study"] == ["This parameter is required."]
    assert api.get("/api/v1/me/next/", {"study": "S-NOPE"}).status_code == 404


def test_next_is_404_for_a_removed_reviewer(open_study, reviewer):
    StudyReviewer.objects.filter(study=open_study, reviewer=reviewer).update(active=False)
    response = api_client(reviewer).get("/api/v1/me/next/", {"study": open_study.code})
    assert response.status_code == 404


def test_next_queries_fixed_whatever_the_queue(
    open_study, reviewer, django_assert_num_queries, coordinator
):
    api = api_client(reviewer)
    queue = _submit_all_but(open_study, reviewer, keep=1)
    # The assignment with its report text, study and queue neighbours (one statement that
    # also finds it), then the domains with this assignment's scores.
    with django_assert_num_queries(API_OVERHEAD + 2):
        response = api.get("/api/v1/me/next/", {"study": open_study.code})
    assert response.json()["code"] == queue[-1].code
    Assignment.objects.filter(pk=queue[-1].pk).update(
        status=Assignment.Status.SUBMITTED, submitted_at=timezone.now()
    )
    # None left: one more query tells "done" (204) from "not yours" (404).
    with django_assert_num_queries(API_OVERHEAD + 2):
        done = api.get("/api/v1/me/next/", {"study": open_study.code})
    assert done.status_code == 204


def test_queue_page_is_paginated(open_study, reviewer):
    queue = _mine(open_study, reviewer)
    api = api_client(reviewer)
    response = api.get("/api/v1/me/queue/page/", {"limit": 2, "offset": 1})
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == len(queue)
    assert data["results"] == [
        {"code": a.code, "report_code": a.report.code, "position": a.position, "status": "pending"}
        for a in queue[1:3]
    ]
    assert data["previous"] == "http://testserver/api/v1/me/queue/page/?limit=2"
    assert data["next"] == (
        "http://testserver/api/v1/me/queue/page/?limit=2&offset=3" if len(queue) > 3 else None
    )


def test_queue_page_filters_by_study_and_status(open_study, reviewer):
    queue = _submit_all_but(open_study, reviewer, keep=2)
    api = api_client(reviewer)
    data = api.get("/api/v1/me/queue/page/", {"study": open_study.code, "status": "pending"}).json()
    assert [row["code"] for row in data["results"]] == [a.code for a in queue[-2:]]
    assert data["count"] == 2
    bad = api.get("/api/v1/me/queue/page/", {"status": "lost"})
    assert bad.status_code == 400


def test_queue_page_queries_fixed(open_study, reviewer, django_assert_num_queries):
    api = api_client(reviewer)
    # The count, then one page of the queue.
    with django_assert_num_queries(API_OVERHEAD + 2):
        response = api.get("/api/v1/me/queue/page/", {"limit": 3})
    assert len(response.json()["results"]) == 3


def _generic(serializer_class, instance) -> dict:
    # DRF's own field-by-field representation, which the serializers' overrides replace.
    return dict(serializers.Serializer.to_representation(serializer_class(), instance))


def test_the_assignment_answer_is_drfs_generic_representation_of_the_declared_fields(
    open_study, reviewer
):
    from review import selectors
    from review.api.reviewer import BlindedAssignmentSerializer, BlindedDomainSerializer

    queue = _mine(open_study, reviewer)
    domains = list(open_study.domains.order_by("order"))
    # A report submitted, one half scored and commented, one untouched.
    _submit_all_but(open_study, reviewer, keep=len(queue) - 1)
    Rating.objects.bulk_create(Rating(assignment=queue[1], domain=d, score=3) for d in domains[:3])
    Assignment.objects.filter(pk=queue[1].pk).update(comment="Chimiothérapie « adjuvante »")
    instances = [
        selectors.reviewer_assignment(reviewer=reviewer, code=a.code, language=language)
        for a in queue[:3]
        for language in ("fr", "en")
    ]
    # And values the database does not give today: a closed study, a null comment.
    instances.append(replace(instances[-1], study_open=False, comment=None, position=0))
    for blinded in instances:
        expected = _generic(BlindedAssignmentSerializer, blinded)
        expected["domains"] = [_generic(BlindedDomainSerializer, d) for d in blinded.domains]
        answer = BlindedAssignmentSerializer(blinded).data
        assert answer == expected
        assert list(answer) == list(BlindedAssignmentSerializer().fields)
        assert [list(d) for d in answer["domains"]] == [
            list(BlindedDomainSerializer().fields) for _d in blinded.domains
        ]
    assert [d["score"] for d in BlindedAssignmentSerializer(instances[2]).data["domains"]] == [
        3,
        3,
        3,
        None,
        None,
        None,
    ]
