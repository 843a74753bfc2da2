"""Every action the protocol names writes one audit entry, through the routes people use:
study opened/closed, panel changes, rating changes after submission (old → new),
unblinding views of a report's source, every export and import, batch launches and
cancels."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from generation import services as generation_services
from review import services
from review.models import Assignment, AuditEvent
from tests.factories import PASSWORD, ReviewerFactory


def _new_events(since: int) -> list[tuple]:
    return list(
        AuditEvent.objects.filter(pk__gt=since)
        .order_by("pk")
        .values_list("action", "actor__username", "target")
    )


def _last_pk() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.fixture
def draft(coordinator, reviewers):
    from tests.factories import ReportFactory, SyntheticReportFactory

    study = services.study_create(name="Audited", created_by=coordinator)
    services.study_reports_add(
        study=study, reports=ReportFactory.create_batch(2) + SyntheticReportFactory.create_batch(2)
    )
    return study


def test_study_open_and_close_through_the_page_are_audited(
    coordinator_client, coordinator, draft, reviewers
):
    services.study_reviewers_set(study=draft, reviewers=reviewers, actor=coordinator)
    since = _last_pk()
    for action in ("open", "close"):
        response = coordinator_client.post(reverse("review:study_action", args=[draft.pk, action]))
        assert response.status_code == 302
    assert _new_events(since) == [
        ("study.open", coordinator.username, draft.code),
        ("study.close", coordinator.username, draft.code),
    ]


def test_panel_set_add_and_remove_are_audited(client, coordinator, draft, reviewers):
    client.login(username=coordinator.username, password=PASSWORD)
    since = _last_pk()
    services.study_reviewers_set(study=draft, reviewers=reviewers, actor=coordinator)
    services.study_open(study=draft, actor=coordinator)
    newcomer = ReviewerFactory()
    added = client.post(
        reverse("review:study_action", args=[draft.pk, "add-reviewer"]), {"reviewer": newcomer.pk}
    )
    removed = client.post(
        reverse("review:study_action", args=[draft.pk, "remove-reviewer"]),
        {"reviewer": reviewers[0].pk},
    )
    assert (added.status_code, removed.status_code) == (302, 302)
    events = _new_events(since)
    assert [(action, actor) for action, actor, _target in events] == [
        ("panel.set", coordinator.username),
        ("study.open", coordinator.username),
        ("panel.add", coordinator.username),
        ("panel.remove", coordinator.username),
    ]
    assert AuditEvent.objects.get(action="panel.set").details == {"reviewers": 2}


def test_study_created_with_reviewers_through_api_audits_the_panel(client, coordinator, reviewers):
    client.login(username=coordinator.username, password=PASSWORD)
    since = _last_pk()
    response = client.post(
        "/api/v1/studies/",
        {"name": "Via API", "reviewers": [r.username for r in reviewers]},
        content_type="application/json",
    )
    assert response.status_code == 201
    code = response.json()["code"]
    assert _new_events(since) == [
        ("study.create", coordinator.username, code),
        ("panel.set", coordinator.username, code),
    ]


def test_rating_change_after_submit_through_the_page_audited_old_to_new(
    reviewer_client, reviewer, open_study
):
    assignment = Assignment.objects.filter(study=open_study, reviewer=reviewer).first()
    for domain in open_study.domains.all():
        services.rating_save(assignment=assignment, domain_key=domain.key, score=4)
    services.assignment_submit(assignment=assignment)
    since = _last_pk()
    url = reverse("review:rate_score", args=[assignment.code, "completeness"])
    same = reviewer_client.post(url, {"score-completeness": "4"}, HTTP_HX_REQUEST="true")
    changed = reviewer_client.post(url, {"score-completeness": "9"}, HTTP_HX_REQUEST="true")
    assert (same.status_code, changed.status_code) == (200, 200)
    assert _new_events(since) == [
        ("rating.change_after_submit", reviewer.username, assignment.code)
    ]
    assert AuditEvent.objects.get(pk__gt=since).details == {
        "domain": "completeness",
        "old": 4,
        "new": 9,
    }


def test_unblinding_views_are_audited_on_every_route(coordinator_client, coordinator, open_study):
    report = open_study.reports.first()
    batch = generation_services.batch_launch(
        count=1, backend="offline", seed=2, created_by=coordinator, enqueue=False
    )
    generation_services.batch_run_in_process(batch=batch)
    item = batch.items.get()
    since = _last_pk()
    for url in (
        reverse("review:report_detail", args=[report.code]),
        f"/api/v1/reports/{report.code}/",
        reverse("generation:item_report", args=[item.pk]),
    ):
        assert coordinator_client.get(url).status_code == 200
    assert _new_events(since) == [
        ("report.unblinded_view", coordinator.username, report.code),
        ("report.unblinded_view", coordinator.username, report.code),
        ("report.unblinded_view", coordinator.username, item.report.code),
    ]


@pytest.mark.parametrize(
    ("route", "action"),
    [
        (lambda s: reverse("review:study_export_csv", args=[s.pk, "ratings"]), "export.ratings"),
        (lambda s: reverse("review:study_export_csv", args=[s.pk, "summary"]), "export.summary"),
        (
            lambda s: reverse("review:study_export_csv", args=[s.pk, "agreement"]),
            "export.agreement",
        ),
        (
            lambda s: reverse("review:study_export_csv", args=[s.pk, "authorship"]),
            "export.authorship",
        ),
        (
            lambda s: reverse("review:study_export_csv", args=[s.pk, "breakdown"]),
            "export.breakdown",
        ),
        (lambda s: reverse("review:study_dataset_jsonl", args=[s.pk]), "export.dataset"),
        (lambda s: reverse("review:study_dataset_card", args=[s.pk]), "export.dataset_card"),
        (lambda s: f"/api/v1/studies/{s.pk}/results/", "export.results_api"),
    ],
)
def test_every_export_is_audited(coordinator_client, coordinator, open_study, route, action):
    since = _last_pk()
    response = coordinator_client.get(route(open_study))
    assert response.status_code == 200
    assert _new_events(since) == [(action, coordinator.username, open_study.code)]
    assert AuditEvent.objects.get(pk__gt=since).study == open_study


def test_export_study_command_is_audited(open_study, tmp_path):
    since = _last_pk()
    call_command("export_study", open_study.code, "--out", str(tmp_path / "out"))
    assert _new_events(since) == [("export.study", None, str(tmp_path / "out"))]


def test_import_through_the_page_is_audited(coordinator_client, coordinator, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = "\n".join(json.dumps({"text": f"Compte rendu numéro {i}."}) for i in range(3)).encode()
    preview = coordinator_client.post(
        reverse("review:report_import"),
        {"file": SimpleUploadedFile("lot.jsonl", data), "language": "fr"},
    )
    since = _last_pk()
    commit = coordinator_client.post(
        reverse("review:report_import_commit"), {"token": preview.context["token"]}
    )
    assert commit.status_code == 302
    assert _new_events(since) == [("report.import", coordinator.username, "lot.jsonl")]
    assert AuditEvent.objects.get(pk__gt=since).details["count"] == 3


def test_batch_launch_and_cancel_are_audited(coordinator_client, coordinator):
    since = _last_pk()
    launched = coordinator_client.post(
        "/api/v1/batches/", {"count": 2, "backend": "offline"}, content_type="application/json"
    )
    assert launched.status_code == 201
    batch_id = launched.json()["id"]
    cancelled = coordinator_client.post(
        reverse("generation:batch_action", args=[batch_id, "cancel"])
    )
    assert cancelled.status_code == 302
    assert _new_events(since) == [
        ("generation.batch_launched", coordinator.username, f"batch:{batch_id}"),
        ("generation.batch_cancelled", coordinator.username, f"batch:{batch_id}"),
    ]
