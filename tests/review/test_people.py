"""People page: invitations by e-mail (Django's token links), deactivation, access reset,
reminders, last activity, and the rule that coordinators never sit on a panel."""

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import timezone

from review import people, services
from review.exceptions import Conflict, InvalidInput
from review.forms import ReviewerChoiceForm, StudyCreateForm
from review.models import Assignment, AuditEvent
from review.selectors import study_progress
from tests.factories import PASSWORD, CoordinatorFactory, ReportFactory, ReviewerFactory

User = get_user_model()
LINK = re.compile(r"http://testserver(/welcome/[^/\s]+/[^/\s]+/)")


def _invite(client, email, role="reviewer", name=""):
    return client.post(reverse("review:people"), {"email": email, "role": role, "full_name": name})


def test_invitation_email_set_password_then_reviewer_lands_on_their_queue(
    coordinator_client, coordinator, client, mailoutbox, settings
):
    settings.PASSWORD_RESET_TIMEOUT = 3 * 86400
    response = _invite(coordinator_client, "Anne.Martin@chu.example", name="Anne Martin")
    assert response.status_code == 302
    assert response["Location"] == reverse("review:people")
    invited = User.objects.get(username="anne.martin@chu.example")
    assert (invited.email, invited.first_name, invited.last_name) == (
        "anne.martin@chu.example",
        "Anne",
        "Martin",
    )
    assert not invited.has_usable_password()
    assert list(invited.groups.values_list("name", flat=True)) == ["reviewer"]
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["anne.martin@chu.example"]
    assert mail.subject == "Invitation to synthreports"
    assert "the link works for 3 days, once" in mail.body
    path = LINK.search(mail.body).group(1)
    # Short enough to stay on one line of the raw message (no quoted-printable break),
    # so it can be copied from the demo's console output.
    assert f"http://testserver{path}" in mail.message().as_string()

    # The coordinator puts the invited reviewer on a study and opens it.
    other = ReviewerFactory()
    study = services.study_create(name="Pilot", created_by=coordinator, raters_per_report=2)
    services.study_reports_add(study=study, reports=ReportFactory.create_batch(3))
    services.study_reviewers_set(study=study, reviewers=[invited, other], actor=coordinator)
    services.study_open(study=study, actor=coordinator)

    coordinator_client.logout()
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    assert "Choose your password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    landed = client.post(
        set_url,
        {"new_password1": "a-long-new-passphrase-42", "new_password2": "a-long-new-passphrase-42"},
        follow=True,
    )
    assert landed.redirect_chain == [(reverse("review:home"), 302)]
    body = landed.content.decode()
    assert "Pilot" in body
    assert "0 / 3 rated" in body
    assert reverse("review:continue", args=[study.code]) in body
    invited.refresh_from_db()
    assert invited.check_password("a-long-new-passphrase-42")
    assert AuditEvent.objects.filter(action="people.invite").get().details == {"role": "reviewer"}

    # The link worked once: the token hashed the old (unusable) password.
    client.logout()
    again = client.get(path, follow=True)
    assert "This link has expired or was already used." in again.content.decode()


def test_invitation_link_expires_after_the_configured_days(coordinator, settings, monkeypatch):
    settings.PASSWORD_RESET_TIMEOUT = 2 * 86400
    invitation = people.user_invite(
        email="late@chu.example", role="reviewer", actor=coordinator, base_url="http://x/"
    )
    token = invitation.link.rstrip("/").rsplit("/", 1)[1]
    now = dt.datetime.now()
    monkeypatch.setattr(default_token_generator, "_now", lambda: now + dt.timedelta(days=1))
    assert default_token_generator.check_token(invitation.user, token) is True
    monkeypatch.setattr(
        default_token_generator, "_now", lambda: now + dt.timedelta(days=2, minutes=1)
    )
    assert default_token_generator.check_token(invitation.user, token) is False


def test_invite_refuses_a_taken_or_malformed_address_and_writes_nothing(
    coordinator_client, reviewer, mailoutbox
):
    reviewer.email = "taken@chu.example"
    reviewer.save()
    before = User.objects.count()
    taken = _invite(coordinator_client, "TAKEN@chu.example")
    assert taken.status_code == 409
    assert (
        "taken@chu.example already has an account; use “Reset access” on it instead."
        in taken.content.decode()
    )
    malformed = _invite(coordinator_client, "not-an-address")
    assert malformed.status_code == 400
    assert User.objects.count() == before
    assert mailoutbox == []
    assert not AuditEvent.objects.filter(action="people.invite").exists()


def test_a_reviewer_on_a_panel_is_never_invited_as_coordinator(
    open_study, reviewer, coordinator, mailoutbox
):
    reviewer.email = "rev@chu.example"
    reviewer.save()
    with pytest.raises(Conflict) as refused:
        people.user_invite(
            email="rev@chu.example", role="coordinator", actor=coordinator, base_url="http://x/"
        )
    assert refused.value.code == "reviewer_on_panel"
    assert refused.value.message == (
        "rev@chu.example sits on a study panel as a reviewer and cannot also coordinate: "
        "a coordinator sees every report's source."
    )
    assert list(reviewer.groups.values_list("name", flat=True)) == ["reviewer"]
    assert mailoutbox == []


def test_a_coordinator_is_never_put_on_a_panel(coordinator, reviewers):
    both = ReviewerFactory()
    both.groups.add(*CoordinatorFactory().groups.all())
    study = services.study_create(name="S", created_by=coordinator)

    form = ReviewerChoiceForm({"reviewer": both.pk})
    assert not form.is_valid()
    assert form.errors["reviewer"] == [
        "Choose an active reviewer. Coordinators see every report's source and never sit on "
        "a panel."
    ]
    create = StudyCreateForm(
        {
            "name": "S2",
            "raters_per_report": 2,
            "scale_min": 1,
            "scale_max": 10,
            "noninferiority_margin": 1,
            "real_imports": ["none"],
            "reviewers": [reviewers[0].pk, both.pk],
        }
    )
    assert not create.is_valid()
    assert "never sit on a panel" in str(create.errors["reviewers"])
    with pytest.raises(InvalidInput) as refused:
        services.study_reviewers_set(study=study, reviewers=[reviewers[0], both])
    assert refused.value.code == "coordinator_on_panel"
    with pytest.raises(InvalidInput):
        services.study_reviewer_add(study=study, reviewer=both)
    assert study.panel.count() == 0
    assert list(ReviewerChoiceForm().fields["reviewer"].queryset) == reviewers


def test_deactivate_blocks_login_and_is_audited(coordinator_client, reviewer, client):
    response = coordinator_client.post(
        reverse("review:person_action", args=[reviewer.pk, "deactivate"])
    )
    assert response.status_code == 302
    reviewer.refresh_from_db()
    assert reviewer.is_active is False
    assert AuditEvent.objects.get(action="people.deactivate").target == reviewer.username
    assert client.login(username=reviewer.username, password=PASSWORD) is False
    coordinator_client.post(reverse("review:person_action", args=[reviewer.pk, "activate"]))
    reviewer.refresh_from_db()
    assert reviewer.is_active is True


def test_coordinator_cannot_deactivate_themself(coordinator_client, coordinator):
    page = coordinator_client.post(
        reverse("review:person_action", args=[coordinator.pk, "deactivate"]), follow=True
    )
    assert "You cannot deactivate your own account." in page.content.decode()
    coordinator.refresh_from_db()
    assert coordinator.is_active is True


def test_reset_access_locks_the_password_and_mails_a_new_link(
    coordinator_client, reviewer, client, mailoutbox
):
    reviewer.email = "r@chu.example"
    reviewer.save()
    coordinator_client.post(reverse("review:person_action", args=[reviewer.pk, "reset-access"]))
    assert client.login(username=reviewer.username, password=PASSWORD) is False
    assert [m.subject for m in mailoutbox] == ["Your synthreports access"]
    assert LINK.search(mailoutbox[0].body)
    assert AuditEvent.objects.get(action="people.reset_access").target == reviewer.username


def test_people_page_lists_roles_and_pending_invitations(
    coordinator_client, coordinator, reviewer, django_assert_num_queries
):
    people.user_invite(
        email="new@chu.example", role="coordinator", actor=coordinator, base_url="http://x/"
    )
    rows = {row.username: row for row in people.people_list()}
    assert rows["new@chu.example"].roles == ("coordinator",)
    assert rows["new@chu.example"].invitation_pending is True
    assert rows[reviewer.username].roles == ("reviewer",)
    assert rows[reviewer.username].invitation_pending is False
    with django_assert_num_queries(4):
        # session, user with their roles, the people (one query) and their groups (one).
        page = coordinator_client.get(reverse("review:people"))
    body = page.content.decode()
    assert "Invited, no password yet" in body
    assert f'id="person-{reviewer.pk}"' in body


def test_people_page_is_for_coordinators_only(reviewer_client):
    assert reviewer_client.get(reverse("review:people")).status_code == 403
    assert _invite(reviewer_client, "x@chu.example").status_code == 403


def test_reminders_go_to_reviewers_with_unfinished_work(
    coordinator_client, open_study, reviewers, mailoutbox
):
    done, late = reviewers
    done.email, late.email = "done@chu.example", "late@chu.example"
    done.save()
    late.save()
    Assignment.objects.filter(study=open_study, reviewer=done).update(
        status=Assignment.Status.SUBMITTED, submitted_at=timezone.now()
    )
    remaining = Assignment.objects.filter(study=open_study, reviewer=late).count()
    page = coordinator_client.post(
        reverse("review:study_action", args=[open_study.pk, "remind"]), follow=True
    )
    assert "Reminder sent to 1 reviewer." in page.content.decode()
    assert [m.to for m in mailoutbox] == [["late@chu.example"]]
    assert mailoutbox[0].subject == "Reminder: Test study"
    assert f"{remaining} reports are waiting for your ratings" in mailoutbox[0].body
    assert (
        f"http://testserver{reverse('review:continue', args=[open_study.code])}"
        in mailoutbox[0].body
    )
    event = AuditEvent.objects.get(action="study.reminders")
    assert event.details == {"sent": 1, "without_email": 0}


def test_study_page_shows_last_activity_per_reviewer(open_study, reviewers):
    first, second = reviewers
    assignment = Assignment.objects.filter(study=open_study, reviewer=first).first()
    services.rating_save(assignment=assignment, domain_key="language_quality", score=6)
    rows = {row.reviewer_id: row for row in study_progress(study=open_study)}
    saved_at = assignment.ratings.get().updated_at
    assert rows[first.pk].last_activity == saved_at
    assert rows[second.pk].last_activity is None


def test_reopen_needs_a_reason_and_is_audited(coordinator_client, open_study, coordinator):
    services.study_close(study=open_study, actor=coordinator)
    refused = coordinator_client.post(
        reverse("review:study_action", args=[open_study.pk, "reopen"]), {"reason": "  "}
    )
    assert refused.status_code == 400
    assert "Say why the study is reopened." in refused.content.decode()
    open_study.refresh_from_db()
    assert open_study.status == "closed"
    closed_at = open_study.closed_at

    coordinator_client.post(
        reverse("review:study_action", args=[open_study.pk, "reopen"]),
        {"reason": "Reviewer R2 asked to correct a slip"},
    )
    open_study.refresh_from_db()
    assert (open_study.status, open_study.closed_at) == ("open", None)
    event = AuditEvent.objects.get(action="study.reopen")
    assert event.actor == coordinator
    assert event.details == {
        "reason": "Reviewer R2 asked to correct a slip",
        "closed_at": closed_at.isoformat(),
    }
    with pytest.raises(Conflict):
        services.study_reopen(study=open_study, actor=coordinator, reason="again")
