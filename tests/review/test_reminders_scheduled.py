"""Scheduled reminders (review.people.reminders_send_due, Celery beat's
review.reminders_send_due): who is reminded, the per-study interval, never twice within
it, each one recorded and audited; the study page's setting."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from review import people, services
from review.exceptions import InvalidInput
from review.models import Assignment, AuditEvent, Reminder, Study
from review.tasks import reminders_send_due


@pytest.fixture
def late_study(open_study, reviewers, settings):
    """Opened ten days ago, reminders every 3 days; both reviewers have an e-mail."""
    settings.SITE_URL = "https://synth.example/"
    for index, reviewer in enumerate(reviewers):
        reviewer.email = f"r{index}@chu.example"
        reviewer.save()
    Study.objects.filter(pk=open_study.pk).update(
        opened_at=timezone.now() - dt.timedelta(days=10), reminder_every_days=3
    )
    open_study.refresh_from_db()
    return open_study


def _touch(study, reviewer, days_ago):
    """Reviewer's last activity in `study`: opening a report `days_ago` days ago."""
    first = Assignment.objects.filter(study=study, reviewer=reviewer).order_by("position")[0]
    Assignment.objects.filter(pk=first.pk).update(
        first_opened_at=timezone.now() - dt.timedelta(days=days_ago)
    )


def test_only_inactive_reviewers_with_unfinished_reports_are_reminded(
    late_study, reviewers, mailoutbox
):
    idle, recent = reviewers
    _touch(late_study, idle, days_ago=4)
    _touch(late_study, recent, days_ago=1)
    done = people.reminders_send_due()
    assert (done.studies, done.sent) == (1, 1)
    assert [m.to for m in mailoutbox] == [["r0@chu.example"]]
    remaining = Assignment.objects.filter(study=late_study, reviewer=idle).count()
    assert f"{remaining} reports are waiting for your ratings" in mailoutbox[0].body
    assert f"https://synth.example/s/{late_study.code}/continue/" in mailoutbox[0].body
    reminder = Reminder.objects.get()
    assert (reminder.study, reminder.reviewer, reminder.kind, reminder.remaining) == (
        late_study,
        idle,
        "scheduled",
        remaining,
    )
    event = AuditEvent.objects.get(action="study.reminder_scheduled")
    seat = late_study.panel.get(reviewer=idle)
    assert (event.actor, event.study, event.target) == (None, late_study, seat.pseudonym)
    assert event.details == {"reminder": reminder.pk, "remaining": remaining, "every_days": 3}


def test_never_active_counts_from_the_opening(late_study, reviewers, mailoutbox):
    assert people.reminders_send_due().sent == 2
    assert sorted(m.to[0] for m in mailoutbox) == ["r0@chu.example", "r1@chu.example"]
    Study.objects.filter(pk=late_study.pk).update(opened_at=timezone.now() - dt.timedelta(days=2))
    Reminder.objects.all().delete()
    assert people.reminders_send_due().sent == 0


def test_never_twice_within_the_interval_then_again_after_it(late_study, reviewers, mailoutbox):
    idle, recent = reviewers
    _touch(late_study, recent, days_ago=0)
    now = timezone.now()
    assert people.reminders_send_due(now=now).sent == 1
    assert people.reminders_send_due(now=now).sent == 0
    assert people.reminders_send_due(now=now + dt.timedelta(days=2, hours=23)).sent == 0
    # Past the interval, still inactive and unfinished: reminded again (the recent reviewer
    # has gone quiet by then too).
    later = now + dt.timedelta(days=3, minutes=1)
    assert people.reminders_send_due(now=later).sent == 2
    assert len(mailoutbox) == 3
    assert Reminder.objects.filter(reviewer=idle).count() == 2
    assert AuditEvent.objects.filter(action="study.reminder_scheduled").count() == 3


def test_a_manual_reminder_counts_for_the_interval(late_study, reviewers, coordinator, mailoutbox):
    people.study_reminders_send(study=late_study, actor=coordinator, base_url="http://x/")
    assert sorted(Reminder.objects.values_list("kind", flat=True)) == ["manual", "manual"]
    assert people.reminders_send_due().sent == 0
    assert len(mailoutbox) == 2


def test_finished_dropped_out_without_email_or_off_are_not_reminded(
    late_study, reviewers, coordinator, mailoutbox
):
    finished, other = reviewers
    Assignment.objects.filter(study=late_study, reviewer=finished).update(
        status=Assignment.Status.SUBMITTED, submitted_at=timezone.now() - dt.timedelta(days=5)
    )
    other.email = ""
    other.save()
    assert people.reminders_send_due().sent == 0
    other.email = "r1@chu.example"
    other.save()
    services.study_reminder_schedule_set(study=late_study, every_days=None, actor=coordinator)
    assert people.reminders_send_due() == people.ScheduledReminders(studies=0, sent=0)
    services.study_reminder_schedule_set(study=late_study, every_days=3, actor=coordinator)
    services.study_close(study=late_study, actor=coordinator)
    assert people.reminders_send_due() == people.ScheduledReminders(studies=0, sent=0)
    assert mailoutbox == []


def test_the_task_calls_the_service(late_study, mailoutbox):
    assert reminders_send_due.name == "review.reminders_send_due"
    assert reminders_send_due() == {"studies": 1, "sent": 2}
    assert reminders_send_due() == {"studies": 1, "sent": 0}


def test_beat_schedule_comes_from_the_environment(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["review-reminders-send-due"]
    assert entry == {"task": "review.reminders_send_due", "schedule": 3600.0}


def test_study_page_sets_the_interval_audited(coordinator_client, open_study, coordinator):
    url = reverse("review:study_action", args=[open_study.pk, "reminder-schedule"])
    page = coordinator_client.post(url, {"every_days": "5"}, follow=True)
    assert "Inactive reviewers will be reminded every 5 days." in page.content.decode()
    open_study.refresh_from_db()
    assert open_study.reminder_every_days == 5
    assert 'id="reminder-every-days" name="every_days" min="1" max="365" value="5"' in (
        page.content.decode()
    )
    page = coordinator_client.post(url, {"every_days": ""}, follow=True)
    assert "No automatic reminder for this study." in page.content.decode()
    open_study.refresh_from_db()
    assert open_study.reminder_every_days is None
    events = AuditEvent.objects.filter(action="study.reminder_schedule").order_by("id")
    assert [e.details for e in events] == [{"from": None, "to": 5}, {"from": 5, "to": None}]
    refused = coordinator_client.post(url, {"every_days": "0"})
    assert refused.status_code == 400
    assert "Reminders are sent every 1 to 365 days, or never." in refused.content.decode()


def test_schedule_refuses_out_of_range(open_study, coordinator):
    with pytest.raises(InvalidInput):
        services.study_reminder_schedule_set(study=open_study, every_days=400, actor=coordinator)
    open_study.refresh_from_db()
    assert open_study.reminder_every_days is None


def test_a_refused_email_leaves_no_record_and_is_tried_again(late_study, settings, mailoutbox):
    # A real SMTP backend pointed at a closed port: the connection is refused.
    locmem = settings.MAILERS
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    with pytest.raises(ConnectionRefusedError):
        people.reminders_send_due()
    assert Reminder.objects.count() == 0
    assert not AuditEvent.objects.filter(action="study.reminder_scheduled").exists()
    settings.MAILERS = locmem
    assert people.reminders_send_due().sent == 2
    assert Reminder.objects.count() == 2
