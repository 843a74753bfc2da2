"""The admin is no way around the study rules, and it is audited: report pages that show
sources record an unblinding view, the instrument of a rated study is read-only, ratings
and assignments are view-only, and every change is an AuditEvent."""

import pytest
from django.urls import reverse

from review import services
from review.models import (
    Assignment,
    AuditEvent,
    CannotAssess,
    Rating,
    Report,
    ReviewerPreference,
    Study,
    StudyReport,
)
from review.services import reviewer as services_reviewer
from tests.factories import PASSWORD


@pytest.fixture
def admin_client(client, coordinator):
    client.login(username=coordinator.username, password=PASSWORD)
    return client


@pytest.fixture
def rated(open_study, reviewer):
    assignment = Assignment.objects.filter(study=open_study, reviewer=reviewer).first()
    for domain in open_study.domains.all():
        services.rating_save(assignment=assignment, domain_key=domain.key, score=5)
    services.assignment_submit(assignment=assignment)
    return assignment


def test_admin_report_list_audits_every_report_shown(admin_client, coordinator, open_study):
    since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    response = admin_client.get(reverse("admin:review_report_changelist"))
    assert response.status_code == 200
    event = AuditEvent.objects.get(pk__gt=since)
    assert (event.action, event.actor, event.target) == (
        "report.unblinded_view",
        coordinator,
        "admin:list",
    )
    assert sorted(event.details["reports"]) == sorted(Report.objects.values_list("code", flat=True))


def test_admin_report_page_audited(admin_client, coordinator, open_study):
    report = open_study.reports.first()
    since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    response = admin_client.get(reverse("admin:review_report_change", args=[report.pk]))
    assert response.status_code == 200
    assert list(AuditEvent.objects.filter(pk__gt=since).values_list("action", "target")) == [
        ("report.unblinded_view", report.code)
    ]


def test_report_in_an_opened_study_keeps_text_and_source(admin_client, open_study):
    report = open_study.reports.filter(source="synthetic").first()
    page = admin_client.get(reverse("admin:review_report_change", args=[report.pk]))
    fields = page.context_data["adminform"].form.fields
    assert "text" not in fields and "source" not in fields and "provenance" not in fields
    admin_client.post(
        reverse("admin:review_report_change", args=[report.pk]),
        {"text": "changed", "source": "real", "language": "fr", "external_id": "x"},
    )
    report.refresh_from_db()
    assert (report.source, report.text != "changed") == ("synthetic", True)


def test_rated_study_instrument_read_only_in_admin(admin_client, open_study, rated):
    page = admin_client.get(reverse("admin:review_study_change", args=[open_study.pk]))
    assert page.status_code == 200
    fields = page.context_data["adminform"].form.fields
    # The allocation was drawn from these: read-only once opened.
    for name in ("seed", "raters_per_report"):
        assert name not in fields
    # Scale and margin: a protocol amendment stays possible, only with a written reason
    # (tests/review/test_study_lock.py holds the reason and the audit entry).
    for name in ("scale_min", "scale_max", "noninferiority_margin", "change_reason"):
        assert name in fields
    domain_formset = next(
        f
        for f in page.context_data["inline_admin_formsets"]
        if f.formset.model.__name__ == "Domain"
    )
    assert "key" not in domain_formset.formset.forms[0].fields
    assert domain_formset.formset.can_delete is False


def test_ratings_and_assignments_view_only_in_admin(admin_client, rated):
    rating = Rating.objects.filter(assignment=rated).first()
    response = admin_client.post(
        reverse("admin:review_rating_change", args=[rating.pk]),
        {"assignment": rated.pk, "domain": rating.domain_id, "score": 1},
    )
    assert response.status_code == 403
    assert Rating.objects.get(pk=rating.pk).score == 5
    delete = admin_client.post(
        reverse("admin:review_assignment_delete", args=[rated.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert Assignment.objects.filter(pk=rated.pk).exists()


def test_admin_changes_are_audited_with_fields(admin_client, coordinator, draft_study):
    since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    url = reverse("admin:review_study_change", args=[draft_study.pk])
    page = admin_client.get(url)
    data = {
        "name": "Renamed",
        "description": "",
        "raters_per_report": 2,
        "scale_min": 1,
        "scale_max": 7,
        "seed": draft_study.seed,
        "noninferiority_margin": 1.0,
        "created_by": coordinator.pk,
    }
    for formset in page.context_data["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name, field in management.fields.items():
            data[f"{management.prefix}-{name}"] = management.initial.get(name, field.initial)
        for index, form in enumerate(formset.formset.forms):
            for name in form.fields:
                value = form.initial.get(name)
                if value is not None:
                    data[f"{formset.formset.prefix}-{index}-{name}"] = form[name].value()
            data[f"{formset.formset.prefix}-{index}-id"] = form.instance.pk
            data[f"{formset.formset.prefix}-{index}-study"] = draft_study.pk
    response = admin_client.post(url, data)
    assert response.status_code == 302, [
        (f.formset.prefix, f.formset.errors, f.formset.non_form_errors())
        for f in response.context_data["inline_admin_formsets"]
    ]
    event = AuditEvent.objects.filter(pk__gt=since, action="admin.study.change").get()
    assert (event.actor, event.study_id, event.details) == (
        coordinator,
        draft_study.pk,
        {"fields": ["Highest score", "Name"], "inlines": ["changed domain"]},
    )


@pytest.fixture
def draft_study(coordinator):
    return services.study_create(name="Draft", created_by=coordinator, seed=3)


def test_study_status_filter_values(admin_client, open_study):
    assert admin_client.get(reverse("admin:review_study_changelist")).status_code == 200
    assert Study.objects.filter(status="open").count() == 1


def test_reports_api_list_audits_every_report_on_the_page(admin_client, coordinator, open_study):
    since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    response = admin_client.get("/api/v1/reports/?limit=3&source=synthetic")
    assert response.status_code == 200
    shown = [row["code"] for row in response.json()["results"]]
    assert len(shown) == 3
    event = AuditEvent.objects.get(pk__gt=since)
    assert (event.action, event.actor, event.target, event.details) == (
        "report.unblinded_view",
        coordinator,
        "api:list",
        {"reports": shown},
    )


def test_reports_page_audits_every_report_on_the_page(admin_client, coordinator, open_study):
    since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    response = admin_client.get(reverse("review:report_list"))
    assert response.status_code == 200
    event = AuditEvent.objects.get(pk__gt=since)
    assert (event.action, event.target) == ("report.unblinded_view", "page:list")
    assert sorted(event.details["reports"]) == sorted(Report.objects.values_list("code", flat=True))


def test_reports_api_page_size_is_capped_at_the_maximum(admin_client, open_study, settings):
    from review.models import Report as ReportModel
    from tests.factories import ReportFactory

    ReportFactory.create_batch(510 - ReportModel.objects.count())
    response = admin_client.get("/api/v1/reports/?limit=1000000")
    assert response.status_code == 200
    assert (response.json()["count"], len(response.json()["results"])) == (510, 500)


def test_issue_17_records_are_in_the_admin_view_only_where_audit_like(
    admin_client, open_study, reviewers, coordinator
):
    """ "Cannot assess" flags and a study's report memberships (calibration references) are
    view-only; a reviewer's text size can be changed, and the change is audited."""
    assignment = Assignment.objects.filter(study=open_study, reviewer=reviewers[0]).first()
    services_reviewer.assignment_cannot_assess(assignment=assignment, reason="identifying")
    flag = CannotAssess.objects.get()
    listing = admin_client.get(reverse("admin:review_cannotassess_changelist"))
    assert listing.status_code == 200
    assert "Identifying data left in" in listing.content.decode()
    assert (
        admin_client.get(reverse("admin:review_cannotassess_change", args=[flag.pk])).status_code
        == 200
    )
    assert (
        admin_client.post(
            reverse("admin:review_cannotassess_delete", args=[flag.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert admin_client.get(reverse("admin:review_cannotassess_add")).status_code == 403
    assert CannotAssess.objects.filter(pk=flag.pk).exists()

    membership = StudyReport.objects.filter(study=open_study).first()
    assert admin_client.get(reverse("admin:review_studyreport_changelist")).status_code == 200
    assert (
        admin_client.post(
            reverse("admin:review_studyreport_change", args=[membership.pk]),
            {"study": open_study.pk, "report": membership.report_id, "role": "calibration"},
        ).status_code
        == 403
    )
    assert StudyReport.objects.get(pk=membership.pk).role == "member"

    preference = services_reviewer.reviewer_text_size_set(user=reviewers[0], text_size="l")
    response = admin_client.post(
        reverse("admin:review_reviewerpreference_change", args=[preference.pk]),
        {"user": reviewers[0].pk, "text_size": "xl"},
    )
    assert response.status_code == 302
    assert ReviewerPreference.objects.get(pk=preference.pk).text_size == "xl"
    event = AuditEvent.objects.get(action="admin.reviewerpreference.change")
    assert (event.actor, event.details["fields"]) == (coordinator, ["Text size"])
