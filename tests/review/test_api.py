from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from review.models import Assignment, AuditEvent, Rating, Study
from tests.factories import ReportFactory, SyntheticReportFactory


def _api(user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _mine(study, reviewer):
    return Assignment.objects.filter(study=study, reviewer=reviewer).order_by("position")


def test_queue_lists_code_position_status_only(open_study, reviewer):
    data = _api(reviewer).get("/api/v1/me/queue/").json()
    expected = [
        {"code": a.code, "report_code": a.report.code, "position": a.position, "status": "pending"}
        for a in _mine(open_study, reviewer).select_related("report")
    ]
    assert data == expected


def test_put_ratings_then_submit(open_study, reviewer):
    assignment = _mine(open_study, reviewer).first()
    keys = list(open_study.domains.values_list("key", flat=True))
    api = _api(reviewer)
    response = api.put(
        f"/api/v1/me/assignments/{assignment.code}/ratings/",
        {"scores": dict.fromkeys(keys, 8), "comment": "clear"},
        format="json",
    )
    assert response.status_code == 200
    assert [d["score"] for d in response.json()["domains"]] == [8] * 6
    response = api.post(f"/api/v1/me/assignments/{assignment.code}/submit/")
    assert response.status_code == 200
    assert response.json()["status"] == "submitted"
    replay = api.post(f"/api/v1/me/assignments/{assignment.code}/submit/")
    assert replay.status_code == 409
    assert replay.json() == {
        "detail": "This report was already submitted.",
        "code": "already_submitted",
    }


def test_put_ratings_out_of_range_is_400_and_all_or_nothing(open_study, reviewer):
    assignment = _mine(open_study, reviewer).first()
    response = _api(reviewer).put(
        f"/api/v1/me/assignments/{assignment.code}/ratings/",
        {"scores": {"completeness": 5, "conciseness": 11}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The score must be between 1 and 10.",
        "code": "score_out_of_range",
    }
    assert Rating.objects.count() == 0


def test_put_ratings_unknown_domain_and_non_integer(open_study, reviewer):
    assignment = _mine(open_study, reviewer).first()
    api = _api(reviewer)
    unknown = api.put(
        f"/api/v1/me/assignments/{assignment.code}/ratings/",
        {"scores": {"style": 5}},
        format="json",
    )
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "unknown_domain"
    not_int = api.put(
        f"/api/v1/me/assignments/{assignment.code}/ratings/",
        {"scores": {"completeness": "x"}},
        format="json",
    )
    assert not_int.status_code == 400
    assert not_int.json() == {"scores": {"completeness": ["A valid integer is required."]}}
    assert Rating.objects.count() == 0


def test_closed_study_rating_is_409(open_study, reviewer, coordinator):
    _api(coordinator).post(f"/api/v1/studies/{open_study.pk}/close/")
    assignment = _mine(open_study, reviewer).first()
    response = _api(reviewer).put(
        f"/api/v1/me/assignments/{assignment.code}/ratings/",
        {"scores": {"completeness": 5}},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "study_closed"
    assert Rating.objects.count() == 0


def test_reviewer_refused_from_coordinator_endpoints(open_study, reviewer):
    api = _api(reviewer)
    assert api.get("/api/v1/studies/").status_code == 403
    assert api.get("/api/v1/reports/").status_code == 403
    assert api.get(f"/api/v1/studies/{open_study.pk}/progress/").status_code == 403


def test_coordinator_creates_adds_reports_opens_and_follows_study(coordinator, reviewers):
    api = _api(coordinator)
    reports = ReportFactory.create_batch(3) + SyntheticReportFactory.create_batch(3)
    created = api.post(
        "/api/v1/studies/",
        {
            "name": "API study",
            "raters_per_report": 2,
            "seed": 5,
            "reviewers": [r.username for r in reviewers],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    study_id = created.json()["id"]
    assert created.json()["status"] == "draft"
    added = api.post(
        f"/api/v1/studies/{study_id}/add-reports/",
        {"report_codes": [r.code for r in reports]},
        format="json",
    )
    assert added.json()["report_count"] == 6
    opened = api.post(f"/api/v1/studies/{study_id}/open/")
    assert opened.json()["status"] == "open"
    progress = api.get(f"/api/v1/studies/{study_id}/progress/").json()
    assert progress["status"] == "open"
    assert sorted((row["total"], row["submitted"]) for row in progress["reviewers"]) == [
        (6, 0),
        (6, 0),
    ]
    assert Study.objects.get(pk=study_id).status == "open"


def test_coordinator_add_unknown_report_codes_is_400(coordinator):
    api = _api(coordinator)
    study_id = api.post("/api/v1/studies/", {"name": "S"}, format="json").json()["id"]
    response = api.post(
        f"/api/v1/studies/{study_id}/add-reports/", {"report_codes": ["R-NOPE00"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"report_codes": ["Unknown report codes: R-NOPE00"]}
    assert Study.objects.get(pk=study_id).memberships.count() == 0


def test_coordinator_create_study_bad_scale_is_400(coordinator):
    response = _api(coordinator).post(
        "/api/v1/studies/", {"name": "S", "scale_min": 5, "scale_max": 5}, format="json"
    )
    assert response.status_code == 400
    assert Study.objects.count() == 0


def test_coordinator_reads_report_with_source_and_audit(coordinator):
    report = SyntheticReportFactory()
    data = _api(coordinator).get(f"/api/v1/reports/{report.code}/").json()
    assert data["source"] == "synthetic"
    assert data["provenance"]["model"] == "mistral-large-latest"
    assert (
        AuditEvent.objects.filter(action="report.unblinded_view", target=report.code).count() == 1
    )


def test_openapi_schema_served(coordinator_client):
    response = coordinator_client.get("/api/schema/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "/api/v1/me/queue/" in body
    assert "/api/v1/studies/{id}/open/" in body
