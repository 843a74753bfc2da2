"""Everything a reviewer can receive is free of source markers."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from review.models import Assignment, Report
from tests.conftest import make_open_study
from tests.factories import PASSWORD

FORBIDDEN_WORDS = re.compile(
    r"\b(real|synthetic|generated|generation|mistral|batch|import(ed)?|réels?|synthétiques?|générés?|lot)\b",
    re.IGNORECASE,
)
CREATED = dt.datetime(2019, 3, 17, 13, 37, 11, tzinfo=dt.UTC)
TIMESTAMP_MARKERS = (
    "2019-03-17",
    "17/03/2019",
    "03/17/2019",
    "March 17, 2019",
    "17 mars 2019",
    "13:37",
)


@pytest.fixture
def mixed_study(coordinator, reviewers):
    if connection.vendor == "postgresql":
        # Distinctive id ranges, so a leaked id is recognisable in the page.
        with connection.cursor() as cursor:
            cursor.execute("ALTER SEQUENCE review_report_id_seq RESTART WITH 8100001")
            cursor.execute("ALTER SEQUENCE review_assignment_id_seq RESTART WITH 8200001")
            cursor.execute("ALTER SEQUENCE review_domain_id_seq RESTART WITH 8300001")
    study = make_open_study(coordinator=coordinator, reviewers=reviewers, n_real=5, n_synthetic=5)
    Report.objects.filter(source="synthetic").update(
        provenance={
            "kind": "generation",
            "batch": "4242",
            "model": "mistral-large-latest",
            "prompt_version": "fr-v3",
        },
        external_id="batch-4242-item-7",
    )
    Report.objects.filter(source="real").update(external_id="export_hopital_2019.csv:17")
    Report.objects.update(created_at=CREATED)
    return study


def _reviewer_responses(client, reviewer, study):
    """Every page, partial and API answer the reviewer can reach, with a label each."""
    client.login(username=reviewer.username, password=PASSWORD)
    yield "home", client.get(reverse("review:home"))
    yield "continue", client.get(reverse("review:continue", args=[study.code]))
    yield "api-queue", client.get("/api/v1/me/queue/")
    assignments = Assignment.objects.filter(study=study, reviewer=reviewer).order_by("position")
    for assignment in assignments:
        code = assignment.code
        yield f"rate {code}", client.get(reverse("review:rate", args=[code]))
        yield f"api {code}", client.get(f"/api/v1/me/assignments/{code}/")
        yield (
            f"score {code}",
            client.post(
                reverse("review:rate_score", args=[code, "completeness"]),
                {"score-completeness": "7"},
                HTTP_HX_REQUEST="true",
            ),
        )
        yield (
            f"score-error {code}",
            client.post(
                reverse("review:rate_score", args=[code, "completeness"]),
                {"score-completeness": "70"},
                HTTP_HX_REQUEST="true",
            ),
        )
        yield (
            f"comment {code}",
            client.post(
                reverse("review:rate_comment", args=[code]),
                {"comment": "ok"},
                HTTP_HX_REQUEST="true",
            ),
        )
        yield f"submit-incomplete {code}", client.post(reverse("review:rate_submit", args=[code]))
        yield (
            f"api-put {code}",
            client.put(
                f"/api/v1/me/assignments/{code}/ratings/",
                data={"scores": {"conciseness": 5}, "comment": "fine"},
                content_type="application/json",
            ),
        )


def _assert_blind(label, body, study):
    match = FORBIDDEN_WORDS.search(body)
    if match:
        context = body[max(0, match.start() - 80) : match.end() + 80]
        raise AssertionError(f"{label}: source word {match.group(0)!r} in {context!r}")
    for marker in TIMESTAMP_MARKERS:
        assert marker not in body, f"{label}: creation timestamp {marker!r}"
    for report in Report.objects.all():
        assert report.external_id not in body, f"{label}: external id"
        if connection.vendor == "postgresql":
            assert str(report.pk) not in body, f"{label}: report id {report.pk}"
    if connection.vendor == "postgresql":
        for pk in Assignment.objects.values_list("pk", flat=True):
            assert str(pk) not in body, f"{label}: assignment id {pk}"
        for pk in study.domains.values_list("pk", flat=True):
            assert str(pk) not in body, f"{label}: domain id {pk}"


@pytest.mark.parametrize("language", ["en", "fr"])
def test_reviewer_pages_and_partials_carry_no_source_marker(
    client, reviewers, mixed_study, language
):
    client.cookies["django_language"] = language
    seen = 0
    for reviewer in reviewers:
        for label, response in _reviewer_responses(client, reviewer, mixed_study):
            assert response.status_code in (200, 204, 302, 400), (label, response.status_code)
            _assert_blind(label, response.content.decode(), mixed_study)
            if response.status_code == 302:
                _assert_blind(label, response["Location"], mixed_study)
            seen += 1
        client.logout()
    # Two reviewers × (3 study-level answers + 7 answers for each of 10 assignments).
    assert seen == 2 * (3 + 7 * 10)


def test_reviewer_page_title_is_the_public_code(reviewer_client, reviewer, mixed_study):
    assignment = Assignment.objects.select_related("report").filter(reviewer=reviewer).first()
    body = reviewer_client.get(reverse("review:rate", args=[assignment.code])).content.decode()
    assert f"<title>Report {assignment.report.code} · Test study</title>" in body


def test_reviewer_never_sees_other_reviewers_ratings(
    reviewer_client, reviewer, other_reviewer, mixed_study
):
    from review import services

    shared_report = (
        Assignment.objects.filter(study=mixed_study, reviewer=reviewer)
        .values_list("report_id", flat=True)
        .first()
    )
    theirs = Assignment.objects.get(
        study=mixed_study, reviewer=other_reviewer, report_id=shared_report
    )
    services.rating_save(assignment=theirs, domain_key="completeness", score=2)
    services.assignment_comment_save(assignment=theirs, comment="their private remark")
    mine = Assignment.objects.get(study=mixed_study, reviewer=reviewer, report_id=shared_report)
    body = reviewer_client.get(reverse("review:rate", args=[mine.code])).content.decode()
    assert 'value="2" checked' not in body
    assert "their private remark" not in body
    data = reviewer_client.get(f"/api/v1/me/assignments/{mine.code}/").json()
    assert [d["score"] for d in data["domains"]] == [None] * 6
    assert data["comment"] == ""
    assert timezone.now() > CREATED
