"""Admin history (django-simple-history) of studies and domains: every saved version with
who made it and, for a locked setting, why; shown on the admin's History pages; the audit
trail's "admin.*" events still written beside it."""

import pytest
from django.urls import reverse

from review import people, services
from review.models import Assignment, AuditEvent, Domain, Study
from tests.factories import PASSWORD


@pytest.fixture
def admin_client(client, coordinator):
    client.login(username=coordinator.username, password=PASSWORD)
    return client


@pytest.fixture
def draft_study(coordinator):
    return services.study_create(name="Draft", created_by=coordinator, seed=3)


def _change_form_data(admin_client, study, coordinator, **changes):
    """The study's admin change form as the browser would post it, with `changes`."""
    page = admin_client.get(reverse("admin:review_study_change", args=[study.pk]))
    fields = page.context_data["adminform"].form.fields
    data = {
        name: value
        for name, value in {
            "name": study.name,
            "description": study.description,
            "raters_per_report": study.raters_per_report,
            "scale_min": study.scale_min,
            "scale_max": study.scale_max,
            "seed": study.seed,
            "noninferiority_margin": study.noninferiority_margin,
            "created_by": coordinator.pk,
        }.items()
        if name in fields
    }
    for formset in page.context_data["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name, field in management.fields.items():
            data[f"{management.prefix}-{name}"] = management.initial.get(name, field.initial)
        for index, form in enumerate(formset.formset.forms):
            for name in form.fields:
                if form.initial.get(name) is not None:
                    data[f"{formset.formset.prefix}-{index}-{name}"] = form[name].value()
            data[f"{formset.formset.prefix}-{index}-id"] = form.instance.pk
            data[f"{formset.formset.prefix}-{index}-study"] = study.pk
    data.update(changes)
    return data


def test_study_and_domains_have_a_first_version_from_the_start(draft_study):
    assert list(draft_study.history.values_list("history_type", "seed")) == [("+", 3)]
    assert Domain.history.filter(study_id=draft_study.pk, history_type="+").count() == 6


def test_admin_edit_is_a_version_with_its_author_and_an_audit_event(
    admin_client, coordinator, draft_study
):
    url = reverse("admin:review_study_change", args=[draft_study.pk])
    data = _change_form_data(
        admin_client,
        draft_study,
        coordinator,
        seed=99,
        raters_per_report=3,
        scale_max=7,
        **{"domains-0-label": "Langue"},
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302
    latest = draft_study.history.first()
    assert (latest.history_type, latest.seed, latest.raters_per_report, latest.scale_max) == (
        "~",
        99,
        3,
        7,
    )
    assert latest.history_user == coordinator
    delta = latest.diff_against(latest.prev_record)
    assert sorted(change.field for change in delta.changes) == [
        "raters_per_report",
        "scale_max",
        "seed",
    ]
    first_domain = draft_study.domains.order_by("order", "id").first()
    domain_version = first_domain.history.first()
    assert (domain_version.label, domain_version.history_user) == ("Langue", coordinator)
    assert first_domain.history.last().label == "Language quality"
    # The audit trail's own event, as before.
    event = AuditEvent.objects.filter(action="admin.study.change").get()
    assert event.details["fields"] == ["Highest score", "Random seed", "Raters per report"]

    history = admin_client.get(reverse("admin:review_study_history", args=[draft_study.pk]))
    assert history.status_code == 200
    body = history.content.decode()
    assert coordinator.username in body
    assert "Changed" in body
    domain_history = admin_client.get(
        reverse("admin:review_domain_history", args=[first_domain.pk])
    )
    assert domain_history.status_code == 200
    assert "Langue" in domain_history.content.decode()


def test_locked_change_reason_is_on_the_version(admin_client, coordinator, open_study, reviewer):
    assignment = Assignment.objects.filter(study=open_study, reviewer=reviewer).first()
    for domain in open_study.domains.all():
        services.rating_save(assignment=assignment, domain_key=domain.key, score=5)
    services.assignment_submit(assignment=assignment)
    url = reverse("admin:review_study_change", args=[open_study.pk])
    data = _change_form_data(
        admin_client,
        open_study,
        coordinator,
        noninferiority_margin=0.5,
        change_reason="Protocol amendment 2 (steering committee, 2026-11-30)",
    )
    assert admin_client.post(url, data).status_code == 302
    latest = open_study.history.first()
    assert latest.noninferiority_margin == 0.5
    assert latest.history_change_reason == "Protocol amendment 2 (steering committee, 2026-11-30)"
    assert AuditEvent.objects.filter(action="study.locked_settings_change").get().details[
        "reason"
    ] == ("Protocol amendment 2 (steering committee, 2026-11-30)")


def test_service_changes_are_versions_too(coordinator, open_study):
    # Opening went through the service, not the admin: a version with the new status.
    statuses = list(open_study.history.order_by("history_id").values_list("status", flat=True))
    assert statuses[0] == "draft" and statuses[-1] == "open"
    services.study_close(study=open_study, actor=coordinator)
    assert Study.history.filter(id=open_study.pk).first().status == "closed"


def test_domain_history_is_view_only_for_coordinators(admin_client, draft_study):
    domain = draft_study.domains.first()
    assert admin_client.get(reverse("admin:review_domain_changelist")).status_code == 200
    response = admin_client.post(
        reverse("admin:review_domain_change", args=[domain.pk]), {"label": "x"}
    )
    assert response.status_code == 403


def test_reminders_are_listed_read_only(admin_client, open_study, reviewer, coordinator):
    reviewer.email = "r@chu.example"
    reviewer.save()
    people.study_reminders_send(study=open_study, actor=coordinator, base_url="http://x/")
    page = admin_client.get(reverse("admin:review_reminder_changelist"))
    assert page.status_code == 200
    assert [(r.reviewer, r.kind) for r in page.context_data["cl"].result_list] == [
        (reviewer, "manual")
    ]
    reminder = page.context_data["cl"].result_list[0]
    delete = admin_client.post(
        reverse("admin:review_reminder_delete", args=[reminder.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
