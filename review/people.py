"""People: coordinators invite reviewers and coordinators by e-mail, deactivate them, reset
their access and remind late reviewers (from the study page, or on a schedule).

An invitation is a Django user with an unusable password plus an e-mail holding a
set-password link made by Django's own PasswordResetTokenGenerator: valid
PASSWORD_RESET_TIMEOUT (INVITATION_VALID_DAYS) and only until the password is set, since
the token hashes the password. Nothing here stores a token.

Roles stay apart: a coordinator sees every report's source, so a user on a study panel is
never made a coordinator, and a coordinator is never put on a panel (review.services
refuses it too).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.forms import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from review.exceptions import Conflict, InvalidInput
from review.models import Assignment, Reminder, Study, StudyReviewer
from review.selectors import study_progress
from review.services import audit_log

ROLE_GROUPS = {"reviewer": "reviewer", "coordinator": "coordinator"}


@dataclass(frozen=True)
class Invitation:
    user: User
    link: str


@dataclass(frozen=True)
class PersonRow:
    pk: int
    username: str
    email: str
    full_name: str
    roles: tuple[str, ...]
    is_active: bool
    is_superuser: bool
    invitation_pending: bool
    last_login: datetime | None
    open_panels: int


def set_password_link(*, user: User, base_url: str) -> str:
    """The absolute set-password link for `user` (PasswordResetTokenGenerator)."""
    path = reverse(
        "password_set",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return base_url.rstrip("/") + path


def invitation_valid_days() -> int:
    return max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)


def _send(*, to: str, subject: str, body: str) -> None:
    EmailMessage(subject=subject, body=body, to=[to]).send()


def _sits_on_a_live_panel(user: User) -> bool:
    return StudyReviewer.objects.filter(
        reviewer=user, active=True, study__status__in=[Study.Status.DRAFT, Study.Status.OPEN]
    ).exists()


def user_invite(
    *, email: str, role: str, actor: User, base_url: str, full_name: str = ""
) -> Invitation:
    """Create an account for `email` with `role` and e-mail it a set-password link.

    The e-mail address is the login name. Refused, writing nothing: a malformed address, an
    unknown role, an address already used by an account."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(_("Enter a valid e-mail address."), code="email_invalid") from None
    if role not in ROLE_GROUPS:
        raise InvalidInput(_("Choose a role: reviewer or coordinator."), code="role_invalid")
    existing = User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).first()
    if existing is not None:
        if role == "coordinator" and _sits_on_a_live_panel(existing):
            raise Conflict(
                _(
                    "%(email)s sits on a study panel as a reviewer and cannot also coordinate: "
                    "a coordinator sees every report's source."
                )
                % {"email": email},
                code="reviewer_on_panel",
            )
        raise Conflict(
            _("%(email)s already has an account; use “Reset access” on it instead.")
            % {"email": email},
            code="email_taken",
        )
    first, _sep, last = full_name.strip().partition(" ")
    with transaction.atomic():
        user = User(username=email, email=email, first_name=first[:150], last_name=last[:150])
        user.set_unusable_password()
        user.save()
        user.groups.add(Group.objects.get(name=ROLE_GROUPS[role]))
        link = set_password_link(user=user, base_url=base_url)
        audit_log(actor=actor, action="people.invite", target=user.username, details={"role": role})
        # Sent inside the transaction: if the mail server refuses it, no account is left
        # behind that nobody was told about.
        _send(
            to=email,
            subject=_("Invitation to synthreports"),
            body=_(
                "Hello,\n\n%(inviter)s invites you to synthreports as a %(role)s.\n\n"
                "Choose your password here (the link works for %(days)d days, once):\n"
                "%(link)s\n\nYour login name is %(username)s.\n"
            )
            % {
                "inviter": actor.get_full_name() or actor.get_username(),
                "role": _("reviewer") if role == "reviewer" else _("coordinator"),
                "days": invitation_valid_days(),
                "link": link,
                "username": user.username,
            },
        )
    return Invitation(user=user, link=link)


def user_access_reset(*, user: User, actor: User, base_url: str) -> Invitation:
    """Lock the current password and e-mail a new set-password link."""
    if not user.email:
        raise InvalidInput(
            _("%(user)s has no e-mail address.") % {"user": user.get_username()},
            code="email_missing",
        )
    if not user.is_active:
        raise Conflict(_("Reactivate the account first."), code="user_inactive")
    with transaction.atomic():
        user.set_unusable_password()
        user.save(update_fields=["password"])
        link = set_password_link(user=user, base_url=base_url)
        audit_log(actor=actor, action="people.reset_access", target=user.get_username())
        _send(
            to=user.email,
            subject=_("Your synthreports access"),
            body=_(
                "Hello,\n\nYour access to synthreports was reset by %(actor)s. Choose a new "
                "password here (the link works for %(days)d days, once):\n%(link)s\n\n"
                "Your login name is %(username)s.\n"
            )
            % {
                "actor": actor.get_full_name() or actor.get_username(),
                "days": invitation_valid_days(),
                "link": link,
                "username": user.get_username(),
            },
        )
    return Invitation(user=user, link=link)


def user_active_set(*, user: User, active: bool, actor: User) -> User:
    """Deactivate (no login, no new assignment) or reactivate an account."""
    if user.pk == actor.pk and not active:
        raise Conflict(_("You cannot deactivate your own account."), code="self_deactivate")
    if user.is_superuser and not active:
        raise Conflict(_("Superusers are managed in the admin."), code="superuser")
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit_log(
        actor=actor,
        action="people.activate" if active else "people.deactivate",
        target=user.get_username(),
    )
    return user


def people_list() -> list[PersonRow]:
    """Every account with its roles, invitation state and open panels, in three queries."""
    live_panels = Count(
        "panel_seats",
        filter=Q(
            panel_seats__active=True,
            panel_seats__study__status__in=[Study.Status.DRAFT, Study.Status.OPEN],
        ),
        distinct=True,
    )
    users = (
        User.objects.annotate(open_panels=live_panels)
        .prefetch_related("groups")
        .order_by("-is_active", "username")
    )
    rows = []
    for user in users:
        roles = tuple(sorted(g.name for g in user.groups.all() if g.name in ROLE_GROUPS))
        rows.append(
            PersonRow(
                pk=user.pk,
                username=user.get_username(),
                email=user.email,
                full_name=user.get_full_name(),
                roles=roles,
                is_active=user.is_active,
                is_superuser=user.is_superuser,
                invitation_pending=not user.has_usable_password() and user.last_login is None,
                last_login=user.last_login,
                open_panels=user.open_panels,
            )
        )
    return rows


@dataclass(frozen=True)
class RemindersSent:
    sent: int
    without_email: int


def _unfinished_seats(*, study: Study):
    """Active panel seats of `study` whose reviewer has unfinished reports there, each with
    `remaining` (how many)."""
    unfinished = Assignment.objects.filter(study=study, reviewer=OuterRef("reviewer")).exclude(
        status=Assignment.Status.SUBMITTED
    )
    return (
        StudyReviewer.objects.filter(study=study, active=True, reviewer__is_active=True)
        .filter(Exists(unfinished))
        .select_related("reviewer")
        .annotate(
            remaining=Count(
                "reviewer__assignments",
                filter=Q(reviewer__assignments__study=study)
                & ~Q(reviewer__assignments__status=Assignment.Status.SUBMITTED),
            )
        )
        .order_by("pseudonym")
    )


def _reminder_send(
    *,
    study: Study,
    reviewer: User,
    remaining: int,
    kind: str,
    base_url: str,
    sent_at: datetime | None = None,
) -> Reminder:
    """Record and e-mail one reminder; the caller holds the transaction, so a refused
    e-mail leaves no record."""
    link = base_url.rstrip("/") + reverse("review:continue", kwargs={"study_code": study.code})
    reminder = Reminder.objects.create(
        study=study,
        reviewer=reviewer,
        kind=kind,
        remaining=remaining,
        sent_at=sent_at or timezone.now(),
    )
    _send(
        to=reviewer.email,
        subject=_("Reminder: %(study)s") % {"study": study.name},
        body=ngettext(
            "Hello,\n\n%(n)d report is waiting for your ratings in “%(study)s”.\n"
            "Continue where you stopped:\n%(link)s\n",
            "Hello,\n\n%(n)d reports are waiting for your ratings in “%(study)s”.\n"
            "Continue where you stopped:\n%(link)s\n",
            remaining,
        )
        % {"n": remaining, "study": study.name, "link": link},
    )
    return reminder


def study_reminders_send(*, study: Study, actor: User, base_url: str) -> RemindersSent:
    """E-mail every active panel reviewer who has unfinished reports in an open study, with
    how many remain and the link that resumes their queue. Each one is recorded (a
    Reminder, which the scheduled reminders count too); audited with counts only."""
    if study.status != Study.Status.OPEN:
        raise Conflict(_("Reminders are for open studies."), code="study_not_open")
    sent = without_email = 0
    for seat in _unfinished_seats(study=study):
        if not seat.reviewer.email:
            without_email += 1
            continue
        with transaction.atomic():
            _reminder_send(
                study=study,
                reviewer=seat.reviewer,
                remaining=seat.remaining,
                kind=Reminder.Kind.MANUAL,
                base_url=base_url,
            )
        sent += 1
    audit_log(
        actor=actor,
        action="study.reminders",
        study=study,
        target=study.code,
        details={"sent": sent, "without_email": without_email},
    )
    return RemindersSent(sent=sent, without_email=without_email)


@dataclass(frozen=True)
class ScheduledReminders:
    studies: int
    sent: int


def reminders_send_due(*, now: datetime | None = None) -> ScheduledReminders:
    """The scheduled reminders (Celery beat, review.tasks.reminders_send_due): in every
    open study with `reminder_every_days` = N set, e-mail each active panel reviewer who
    has unfinished reports, an e-mail address, no activity in the study for N days (never
    active: N days since the study opened) and no reminder about it, manual or scheduled,
    in the last N days.

    Never twice within the interval, even when two runs overlap (a second beat, a
    redelivered task): the reviewer's panel seat is locked while the last reminder is
    checked and the new one recorded, and the e-mail goes out inside that transaction, so
    a refused e-mail leaves no record and is tried again on the next run. Each reminder
    is a Reminder row and an AuditEvent ("study.reminder_scheduled", no actor)."""
    now = now or timezone.now()
    studies = Study.objects.filter(status=Study.Status.OPEN, reminder_every_days__gte=1).order_by(
        "pk"
    )
    base_url = settings.SITE_URL
    seen = sent = 0
    for study in studies:
        seen += 1
        interval = timedelta(days=study.reminder_every_days or 0)
        last_activity = {row.reviewer_id: row.last_activity for row in study_progress(study=study)}
        for seat in _unfinished_seats(study=study).exclude(reviewer__email=""):
            idle_since = last_activity.get(seat.reviewer_id) or study.opened_at
            if idle_since is not None and now - idle_since < interval:
                continue
            with transaction.atomic():
                StudyReviewer.objects.select_for_update().get(pk=seat.pk)
                recent = Reminder.objects.filter(
                    study=study, reviewer_id=seat.reviewer_id, sent_at__gt=now - interval
                )
                if recent.exists():
                    continue
                reminder = _reminder_send(
                    study=study,
                    reviewer=seat.reviewer,
                    remaining=seat.remaining,
                    kind=Reminder.Kind.SCHEDULED,
                    base_url=base_url,
                    sent_at=now,
                )
                audit_log(
                    actor=None,
                    action="study.reminder_scheduled",
                    study=study,
                    target=seat.pseudonym,
                    details={
                        "reminder": reminder.pk,
                        "remaining": seat.remaining,
                        "every_days": study.reminder_every_days,
                    },
                )
            sent += 1
    return ScheduledReminders(studies=seen, sent=sent)
