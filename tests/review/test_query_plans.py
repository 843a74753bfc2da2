"""The reviewer's hot path is served by indexes, checked with EXPLAIN on PostgreSQL.

The study is big enough (4,000 assignments, 21,600 ratings, statistics fresh from ANALYZE)
for the planner to pick a sequential scan if an index were missing: every query the pages
issue is captured and explained, and none may scan review_assignment or review_rating.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from review import services
from review.models import Assignment, Domain, Rating, Report, content_hash
from tests.factories import PASSWORD, ReviewerFactory

HOT_TABLES = {"review_assignment", "review_rating"}
REVIEWERS = 20
REPORTS = 2000
RATERS_PER_REPORT = 2
QUEUE_LENGTH = REPORTS * RATERS_PER_REPORT // REVIEWERS


def _plan_nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


def _sequential_scans(sql: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        (plan,) = cursor.fetchone()
    return {
        node["Relation Name"]
        for node in _plan_nodes(plan[0]["Plan"])
        if node["Node Type"] == "Seq Scan"
    }


def _explainable(sql: str) -> bool:
    # WITH too: the rating flow's one-statement saves are CTEs (EXPLAIN runs none of them).
    first = sql.lstrip().split(None, 1)[0].upper()
    return first in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}


@pytest.fixture
def big_study(coordinator):
    if connection.vendor != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL only")
    reviewers = [ReviewerFactory() for _ in range(REVIEWERS)]
    texts = [
        f"Motif d'hospitalisation : bilan n°{i}.\n\nConclusion : sortie." for i in range(REPORTS)
    ]
    reports = Report.objects.bulk_create(
        Report(
            text=text,
            source=Report.Source.REAL if i % 2 else Report.Source.SYNTHETIC,
            content_hash=content_hash(text),
        )
        for i, text in enumerate(texts)
    )
    study = services.study_create(
        name="Plans", created_by=coordinator, raters_per_report=RATERS_PER_REPORT, seed=3
    )
    services.study_reports_add(study=study, reports=reports)
    services.study_reviewers_set(study=study, reviewers=reviewers)
    services.study_open(study=study, actor=coordinator)
    # Late in the study: 90% of every queue is rated and submitted.
    done = [
        assignment
        for assignment in Assignment.objects.filter(study=study)
        if assignment.position <= QUEUE_LENGTH * 9 // 10
    ]
    domains = list(Domain.objects.filter(study=study))
    Rating.objects.bulk_create(
        (Rating(assignment=a, domain=d, score=6) for a in done for d in domains), batch_size=5000
    )
    Assignment.objects.filter(pk__in=[a.pk for a in done]).update(
        status=Assignment.Status.SUBMITTED, submitted_at=timezone.now()
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return study, reviewers[0]


def test_big_study_has_the_intended_size(big_study):
    study, _reviewer = big_study
    assert Assignment.objects.filter(study=study).count() == 4000
    assert Rating.objects.filter(assignment__study=study).count() == 21600


def test_rating_flow_queries_use_indexes_not_sequential_scans(client, big_study):
    study, reviewer = big_study
    assert client.login(username=reviewer.username, password=PASSWORD)
    with CaptureQueriesContext(connection) as captured:
        opened = client.get(reverse("review:continue", args=[study.code]))
        assert opened.status_code == 302
        page = client.get(opened["Location"])
        assert page.status_code == 200
        code = opened["Location"].rstrip("/").split("/")[-1]
        for domain in Domain.objects.filter(study=study):
            saved = client.post(
                reverse("review:rate_score", args=[code, domain.key]),
                {f"score-{domain.key}": "4"},
                HTTP_HX_REQUEST="true",
            )
            assert saved.status_code == 200
        submitted = client.post(reverse("review:rate_submit", args=[code]))
        assert submitted.status_code == 302
        home = client.get(reverse("review:home"))
        assert home.status_code == 200
    statements = [query["sql"] for query in captured.captured_queries if _explainable(query["sql"])]
    touching = [sql for sql in statements if any(table in sql for table in HOT_TABLES)]
    # continue; the opening update and the page's two reads; six one-statement saves; the
    # submit's lock and its update (which names the next report); the home page's studies.
    assert len(touching) == 13
    scans = {sql: _sequential_scans(sql) & HOT_TABLES for sql in touching}
    assert {sql: tables for sql, tables in scans.items() if tables} == {}


def test_next_unrated_lookup_uses_the_partial_index(big_study):
    study, reviewer = big_study
    queryset = (
        Assignment.objects.filter(reviewer=reviewer, study=study)
        .exclude(status=Assignment.Status.SUBMITTED)
        .order_by("position")
        .values_list("code", flat=True)[:1]
    )
    plan = queryset.explain(format="json")
    assert "assign_next_unrated" in plan
