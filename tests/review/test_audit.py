from django.urls import reverse

from review import services
from review.models import Assignment, AuditEvent
from tests.factories import ReviewerFactory


def test_study_open_and_close_are_audited(open_study, coordinator):
    services.study_close(study=open_study, actor=coordinator)
    rows = list(
        AuditEvent.objects.filter(study=open_study)
        .order_by("id")
        .values_list("action", "actor__username", "target")
    )
    assert rows == [
        ("study.create", coordinator.username, open_study.code),
        ("panel.set", coordinator.username, open_study.code),
        ("study.open", coordinator.username, open_study.code),
        ("study.close", coordinator.username, open_study.code),
    ]
    assert AuditEvent.objects.get(action="study.open").details == {
        "assignments": 16,
        "reviewers": 2,
    }


def test_panel_changes_are_audited(open_study, coordinator, reviewer):
    newcomer = ReviewerFactory()
    services.study_reviewer_add(study=open_study, reviewer=newcomer, actor=coordinator)
    moved = services.study_reviewer_remove(study=open_study, reviewer=reviewer, actor=coordinator)
    assert moved == 8
    events = list(
        AuditEvent.objects.filter(action__in=["panel.add", "panel.remove"]).order_by("id")
    )
    assert [(e.action, e.target) for e in events] == [
        ("panel.add", "R3"),
        ("panel.remove", events[1].target),
    ]
    assert events[1].details == {"reassigned": 8, "kept_submitted": 0}
    assert Assignment.objects.filter(study=open_study, reviewer=newcomer).count() == 8


def test_report_source_view_is_audited(coordinator_client, coordinator, open_study):
    report = open_study.reports.first()
    coordinator_client.get(reverse("review:report_detail", args=[report.code]))
    event = AuditEvent.objects.get(action="report.unblinded_view")
    assert (event.actor, event.target) == (coordinator, report.code)


def test_audit_page_lists_events_for_coordinators(coordinator_client, open_study):
    body = coordinator_client.get(reverse("review:audit_list") + "?action=study.").content.decode()
    assert "<code>study.open</code>" in body
    assert "<code>study.create</code>" in body


def test_audit_page_refused_to_reviewers(reviewer_client, open_study):
    assert reviewer_client.get(reverse("review:audit_list")).status_code == 403


def test_audit_page_query_count_fixed(coordinator_client, open_study, django_assert_num_queries):
    # session, user with their review roles (one query), count, events
    with django_assert_num_queries(4):
        assert coordinator_client.get(reverse("review:audit_list")).status_code == 200
