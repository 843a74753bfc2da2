"""The coordinator's API: studies, reports (audited), the schema."""

from review.models import AuditEvent, Study
from tests.factories import ReportFactory, SyntheticReportFactory
from tests.review.api.clients import api_client


def test_reviewer_refused_from_coordinator_endpoints(open_study, reviewer):
    api = api_client(reviewer)
    assert api.get("/api/v1/studies/").status_code == 403
    assert api.get("/api/v1/reports/").status_code == 403
    assert api.get(f"/api/v1/studies/{open_study.pk}/progress/").status_code == 403


def test_coordinator_creates_adds_reports_opens_and_follows_study(coordinator, reviewers):
    api = api_client(coordinator)
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
    api = api_client(coordinator)
    study_id = api.post("/api/v1/studies/", {"name": "S"}, format="json").json()["id"]
    response = api.post(
        f"/api/v1/studies/{study_id}/add-reports/", {"report_codes": ["R-NOPE00"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"report_codes": ["Unknown report codes: R-NOPE00"]}
    assert Study.objects.get(pk=study_id).memberships.count() == 0


def test_coordinator_create_study_bad_scale_is_400(coordinator):
    response = api_client(coordinator).post(
        "/api/v1/studies/", {"name": "S", "scale_min": 5, "scale_max": 5}, format="json"
    )
    assert response.status_code == 400
    assert Study.objects.count() == 0


def test_coordinator_reads_report_with_source_and_audit(coordinator):
    report = SyntheticReportFactory()
    data = api_client(coordinator).get(f"/api/v1/reports/{report.code}/").json()
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


def test_study_api_names_source_words_of_name_and_description(coordinator):
    api = api_client(coordinator)
    created = api.post(
        "/api/v1/studies/",
        {"name": "LLM vs real", "description": "Lot Mistral 3", "seed": 1},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["source_words"] == ["llm", "real", "lot", "mistral"]
    neutral = api.post("/api/v1/studies/", {"name": "Relecture 2024"}, format="json")
    assert neutral.json()["source_words"] == []
