"""Writes for the review app: studies, assignments, ratings, audit.

Views, the API, tasks and commands parse their input and call one of these keyword-only
functions; bad input raises `InvalidInput`, a forbidden state change `Conflict`, and in
both cases nothing is written.
"""

import random
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import connection, transaction
from django.db.models import Case, Count, F, Max, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from review.allocation import allocate_reviewers, interleave_by_source, queue_with_checks
from review.conventions import conventions_build
from review.copy_insert import objects_insert
from review.exceptions import Conflict, InvalidInput, NotFound
from review.models import (
    Assignment,
    AuditEvent,
    Domain,
    Rating,
    Report,
    Study,
    StudyReport,
    StudyReviewer,
    Tag,
    report_code_new,
)
from review.permissions import user_is_coordinator
from review.protocol import DEFAULT_DOMAINS


def audit_log(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    study: Study | None = None,
    target: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor if isinstance(actor, User) else None,
        action=action,
        study=study,
        target=target,
        details=details or {},
    )


def _domains_create_default(*, study: Study) -> None:
    # With their first history row each (bulk_create sends no post_save signal).
    bulk_create_with_history(
        [
            Domain(
                study=study,
                key=spec.key,
                label=spec.label,
                help_text=spec.help_text,
                anchor_low=spec.anchor_low,
                anchor_high=spec.anchor_high,
                translations={
                    "fr": {
                        "label": spec.label_fr,
                        "help_text": spec.help_text_fr,
                        "anchor_low": spec.anchor_low_fr,
                        "anchor_high": spec.anchor_high_fr,
                    }
                },
                order=index,
            )
            for index, spec in enumerate(DEFAULT_DOMAINS)
        ],
        Domain,
    )


def study_reminder_schedule_set(*, study: Study, every_days: int | None, actor: User) -> Study:
    """Turn the study's scheduled reminders off (None) or on every `every_days` days (1 to
    365); audited with the old and new value. Closed studies send none and keep theirs."""
    if every_days is not None and not 1 <= every_days <= 365:
        raise InvalidInput(
            _("Reminders are sent every 1 to 365 days, or never."), code="reminder_days_invalid"
        )
    if study.status == Study.Status.CLOSED:
        raise Conflict(_("The study is closed."), code="study_closed")
    previous = study.reminder_every_days
    study.reminder_every_days = every_days
    study.save(update_fields=["reminder_every_days"])
    audit_log(
        actor=actor,
        action="study.reminder_schedule",
        study=study,
        target=study.code,
        details={"from": previous, "to": every_days},
    )
    return study


def study_create(
    *,
    name: str,
    created_by: User | None,
    description: str = "",
    raters_per_report: int = 2,
    scale_min: int = 1,
    scale_max: int = 10,
    seed: int | None = None,
    noninferiority_margin: float = 1.0,
    kind: str = Study.Kind.RATING,
) -> Study:
    """A draft study: a rating study with the six domains of the reference protocol, or an
    annotation audit (no domains: reviewers judge annotations, review/audit_study/)."""
    if kind not in Study.Kind.values:
        raise InvalidInput(_("Unknown study kind."), code="kind")
    if not name.strip():
        raise InvalidInput(_("A study needs a name."), code="name_required")
    if raters_per_report < 1:
        raise InvalidInput(_("Each report needs at least one rater."), code="raters")
    if not 0 <= scale_min < scale_max <= 100:
        raise InvalidInput(
            _("The scale must go from a lower to a higher score, within 0–100."), code="scale"
        )
    if noninferiority_margin <= 0:
        raise InvalidInput(_("The non-inferiority margin must be positive."), code="margin")
    with transaction.atomic():
        study = Study.objects.create(
            name=name.strip(),
            description=description,
            raters_per_report=raters_per_report,
            scale_min=scale_min,
            scale_max=scale_max,
            seed=seed if seed is not None else secrets.randbelow(2**31),
            noninferiority_margin=noninferiority_margin,
            created_by=created_by,
            kind=kind,
        )
        if kind == Study.Kind.RATING:
            _domains_create_default(study=study)
        audit_log(actor=created_by, action="study.create", study=study, target=study.code)
    return study


def _require_draft(study: Study) -> None:
    if study.status != Study.Status.DRAFT:
        raise Conflict(
            _("This can only be changed while the study is a draft."), code="study_not_draft"
        )


def _study_lock(study: Study) -> Study:
    """The study's row, locked until the transaction ends, with its current status. Inside
    `transaction.atomic()`; a check on the caller's copy could be stale (a study opened or
    closed by another coordinator in between)."""
    return Study.objects.select_for_update().get(pk=study.pk)


def study_reports_add(*, study: Study, reports: Iterable[Report]) -> int:
    """Add reports to a draft study; reports already in it are ignored. Returns the count added."""
    _require_draft(study)
    with transaction.atomic():
        _require_draft(_study_lock(study))
        report_ids = {report.pk for report in reports}
        existing = set(study.memberships.values_list("report_id", flat=True))
        new_ids = sorted(report_ids - existing)
        objects_insert([StudyReport(study=study, report_id=pk) for pk in new_ids])
    return len(new_ids)


def study_reviewers_set(
    *, study: Study, reviewers: Sequence[User], actor: User | None = None
) -> None:
    """Set the panel of a draft study; pseudonyms (R1, R2, …) follow a seeded shuffle.
    Audited with the pseudonyms, not the names, as the rest of the study's trail."""
    _require_draft(study)
    reviewers = list(dict.fromkeys(reviewers))
    for reviewer in reviewers:
        _require_panel_eligible(reviewer)
    with transaction.atomic():
        _require_draft(_study_lock(study))
        study.panel.all().delete()
        order = list(range(1, len(reviewers) + 1))
        random.Random(study.seed).shuffle(order)
        StudyReviewer.objects.bulk_create(
            StudyReviewer(study=study, reviewer=reviewer, pseudonym=f"R{number}")
            for reviewer, number in zip(reviewers, order, strict=True)
        )
        audit_log(
            actor=actor,
            action="panel.set",
            study=study,
            target=study.code,
            details={"reviewers": len(reviewers)},
        )


def _require_panel_eligible(reviewer: User) -> None:
    if not reviewer.has_perm("review.rate"):
        raise InvalidInput(
            _("%(user)s is not a reviewer.") % {"user": reviewer.get_username()},
            code="not_reviewer",
        )
    # A coordinator sees every report's source: on a panel, they would rate unblinded.
    if user_is_coordinator(reviewer):
        raise InvalidInput(
            _("%(user)s is a coordinator and sees every report's source: not on a panel.")
            % {"user": reviewer.get_username()},
            code="coordinator_on_panel",
        )


def study_update_settings(
    *,
    study: Study,
    name: str | None = None,
    description: str | None = None,
    noninferiority_margin: float | None = None,
) -> Study:
    if name is not None:
        if not name.strip():
            raise InvalidInput(_("A study needs a name."), code="name_required")
        study.name = name.strip()
    if description is not None:
        study.description = description
    if noninferiority_margin is not None:
        if noninferiority_margin <= 0:
            raise InvalidInput(_("The non-inferiority margin must be positive."), code="margin")
        if noninferiority_margin != study.noninferiority_margin and study_settings_locked(
            study=study
        ):
            raise Conflict(
                _(
                    "The margin is locked: ratings have been submitted. An administrator can "
                    "change it with a recorded reason."
                ),
                code="settings_locked",
            )
        study.noninferiority_margin = noninferiority_margin
    study.save()
    return study


# Read by the statistics: once an assessment is submitted, changing them would rewrite
# results already seen (ICH E9, 1998, section 5.1: the analysis is specified in advance).
LOCKED_STUDY_FIELDS = ("noninferiority_margin", "scale_min", "scale_max")


def study_settings_locked(*, study: Study) -> bool:
    """Margin, scale and domains are fixed once the study has a submitted assessment."""
    return Assignment.objects.filter(study=study, status=Assignment.Status.SUBMITTED).exists()


def study_open(*, study: Study, actor: User | None = None) -> Study:
    """Open a draft study: assign every report to k distinct reviewers, balanced, each
    reviewer getting their own seeded order that interleaves real and synthetic reports
    (after the calibration items, with the study's attention checks).
    A study not ready (no reports, no domains, too few reviewers) is a Conflict (409): the
    request is right, the study's state is not."""
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study.pk)
        _require_draft(study)
        # Calibration items are rated by everyone, outside the allocation (services_reviewer).
        report_rows = list(
            study.memberships.filter(role=StudyReport.Role.MEMBER).values_list(
                "report_id", "report__source"
            )
        )
        calibration = list(
            study.memberships.filter(role=StudyReport.Role.CALIBRATION)
            .order_by("report_id")
            .values_list("report_id", flat=True)
        )
        reviewer_ids = list(
            study.panel.filter(active=True).order_by("pk").values_list("reviewer_id", flat=True)
        )
        if not report_rows:
            raise Conflict(_("Add reports before opening the study."), code="no_reports")
        audit = study.kind == Study.Kind.ANNOTATION_AUDIT
        if not audit and not study.domains.exists():
            raise Conflict(_("The study has no rating domains."), code="no_domains")
        if audit and any(source != Report.Source.SYNTHETIC for _report, source in report_rows):
            # The audit judges the generator's annotations: a real report has none to judge.
            raise Conflict(
                _("An annotation audit takes synthetic reports only."), code="audit_real_report"
            )
        if len(reviewer_ids) < study.raters_per_report:
            raise Conflict(
                _(
                    "Each report needs %(k)d distinct reviewers but the panel has %(m)d. "
                    "Add reviewers or lower the raters per report."
                )
                % {"k": study.raters_per_report, "m": len(reviewer_ids)},
                code="too_few_reviewers",
            )
        source_of = dict(report_rows)
        allocation = allocate_reviewers(
            reports=sorted(source_of),
            reviewers=reviewer_ids,
            raters_per_report=study.raters_per_report,
            seed=study.seed,
        )
        assignments: list[Assignment] = []
        for reviewer_id, report_ids in allocation.items():
            queue = interleave_by_source(
                items=report_ids, source_of=source_of, seed=study.seed * 1_000_003 + reviewer_id
            )
            rows = queue_with_checks(
                queue=queue,
                # Calibration and attention checks are rating-study devices (reference
                # scores, test–retest of a score); an audit has verdicts, not scores.
                calibration=[] if audit else calibration,
                attention_checks=0 if audit else study.attention_checks,
                seed=study.seed * 104_729 + reviewer_id,
            )
            assignments.extend(
                Assignment(
                    study=study,
                    reviewer_id=reviewer_id,
                    report_id=report_id,
                    position=position,
                    kind=kind,
                    # A repeat shows a code of its own, or it would give itself away.
                    display_code=report_code_new() if kind == Assignment.Kind.ATTENTION else "",
                )
                for position, (report_id, kind) in enumerate(rows, start=1)
            )
        objects_insert(assignments, batch_size=2000)
        # What reviewers read is fixed with the composition: the corpus's accents and
        # abbreviation forms, the same for every report whatever its source.
        study.house_style = conventions_build(
            reports=list(study.reports.values_list("text", "language", "source"))
        ).to_json()
        study.status = Study.Status.OPEN
        study.opened_at = timezone.now()
        study.save(update_fields=["status", "opened_at", "house_style"])
        audit_log(
            actor=actor,
            action="study.open",
            study=study,
            target=study.code,
            details={"assignments": len(assignments), "reviewers": len(reviewer_ids)},
        )
    return study


def study_close(*, study: Study, actor: User | None = None) -> Study:
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study.pk)
        if study.status != Study.Status.OPEN:
            raise Conflict(_("Only an open study can be closed."), code="study_not_open")
        study.status = Study.Status.CLOSED
        study.closed_at = timezone.now()
        study.save(update_fields=["status", "closed_at"])
        audit_log(actor=actor, action="study.close", study=study, target=study.code)
    return study


def _pseudonym_next(study: Study) -> str:
    """R{n} after the highest number in use. The caller holds the study's row lock, so two
    coordinators adding reviewers at once take turns instead of both picking the same n."""
    numbers = [
        int(match.group(1))
        for pseudonym in study.panel.values_list("pseudonym", flat=True)
        if (match := re.fullmatch(r"R(\d+)", pseudonym))
    ]
    return f"R{max(numbers, default=0) + 1}"


def study_reopen(*, study: Study, actor: User | None, reason: str) -> Study:
    """Reopen a closed study (ratings can change again), with the reason in the audit
    trail; its assignments and submitted ratings are kept as they were."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Say why the study is reopened."), code="reason_required")
    if len(reason) > 500:
        raise InvalidInput(_("The reason is limited to 500 characters."), code="reason_long")
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study.pk)
        if study.status != Study.Status.CLOSED:
            raise Conflict(_("Only a closed study can be reopened."), code="study_not_closed")
        closed_at = study.closed_at
        study.status = Study.Status.OPEN
        study.closed_at = None
        study.save(update_fields=["status", "closed_at"])
        audit_log(
            actor=actor,
            action="study.reopen",
            study=study,
            target=study.code,
            details={"reason": reason, "closed_at": closed_at.isoformat() if closed_at else ""},
        )
    return study


def study_reviewer_add(*, study: Study, reviewer: User, actor: User | None = None) -> StudyReviewer:
    """Add a reviewer to the panel (for an open study, they receive reports on drop-outs)."""
    _require_panel_eligible(reviewer)
    with transaction.atomic():
        study = _study_lock(study)
        if study.status == Study.Status.CLOSED:
            raise Conflict(_("The study is closed."), code="study_closed")
        seat = study.panel.filter(reviewer=reviewer).first()
        if seat is None:
            seat = StudyReviewer.objects.create(
                study=study, reviewer=reviewer, pseudonym=_pseudonym_next(study)
            )
        elif not seat.active:
            seat.active = True
            seat.save(update_fields=["active"])
        audit_log(actor=actor, action="panel.add", study=study, target=seat.pseudonym, details={})
    return seat


def study_reviewer_remove(*, study: Study, reviewer: User, actor: User | None = None) -> int:
    """A reviewer drops out: their submitted ratings stay; every report they had not yet
    submitted goes to the least-loaded active reviewer who does not already have it.
    Returns the number of reports reassigned.

    Never loses a submission made while the removal runs: the study's row lock waits for
    every rating write and submit in flight (they hold a share lock on it, see
    `_assignment_lock`) and holds off new ones; each assignment is then locked and
    deleted only if it is still unsubmitted."""
    with transaction.atomic():
        study = _study_lock(study)
        seat = study.panel.select_for_update().filter(reviewer=reviewer, active=True).first()
        if seat is None:
            raise InvalidInput(_("This reviewer is not on the study's panel."), code="not_panel")
        if study.status == Study.Status.CLOSED:
            raise Conflict(_("The study is closed."), code="study_closed")
        seat.active = False
        seat.save(update_fields=["active"])
        if study.status == Study.Status.DRAFT:
            audit_log(actor=actor, action="panel.remove", study=study, target=seat.pseudonym)
            return 0
        own = study.assignments.filter(reviewer=reviewer)
        unfinished = list(
            own.select_for_update().exclude(status=Assignment.Status.SUBMITTED).order_by("position")
        )
        others = list(
            study.panel.filter(active=True)
            .exclude(reviewer=reviewer)
            .values_list("reviewer_id", flat=True)
        )
        load = dict.fromkeys(others, 0)
        for row in (
            study.assignments.filter(reviewer_id__in=others)
            .values("reviewer_id")
            .annotate(n=Count("id"))
        ):
            load[row["reviewer_id"]] = row["n"]
        has_report = set(
            study.assignments.filter(reviewer_id__in=others).values_list("reviewer_id", "report_id")
        )
        next_position = {
            row["reviewer_id"]: row["top"]
            for row in study.assignments.filter(reviewer_id__in=others)
            .values("reviewer_id")
            .annotate(top=Max("position"))
        }
        rng = random.Random(study.seed + reviewer.pk)
        rng.shuffle(unfinished)
        moved = 0
        for assignment in unfinished:
            candidates = [rid for rid in others if (rid, assignment.report_id) not in has_report]
            if not candidates:
                raise Conflict(
                    _("No other reviewer is free to take report %(code)s; add a reviewer first.")
                    % {"code": assignment.report.code},
                    code="no_replacement",
                )
            # Conditional on the status as well as locked: a submitted row is never deleted.
            _count, deleted = (
                Assignment.objects.filter(pk=assignment.pk)
                .exclude(status=Assignment.Status.SUBMITTED)
                .delete()
            )
            if not deleted.get(Assignment._meta.label):
                continue
            target = min(candidates, key=lambda rid: (load[rid], rng.random()))
            next_position[target] = next_position.get(target, 0) + 1
            Assignment.objects.create(
                study=study,
                reviewer_id=target,
                report_id=assignment.report_id,
                position=next_position[target],
            )
            load[target] += 1
            has_report.add((target, assignment.report_id))
            moved += 1
        audit_log(
            actor=actor,
            action="panel.remove",
            study=study,
            target=seat.pseudonym,
            details={
                "reassigned": moved,
                "kept_submitted": own.filter(status=Assignment.Status.SUBMITTED).count(),
            },
        )
    return moved


def domains_update(*, study: Study, rows: Sequence[dict[str, Any]]) -> None:
    """Replace a draft study's domains by `rows` (key, label, help_text, anchors, and the
    same with a `_fr` suffix for French), in the order given."""
    _require_draft(study)
    keys = [row.get("key", "") for row in rows]
    if not rows:
        raise InvalidInput(_("A study needs at least one domain."), code="no_domains")
    if len(set(keys)) != len(keys) or any(not key for key in keys):
        raise InvalidInput(_("Domain keys must be present and unique."), code="domain_keys")
    with transaction.atomic():
        _require_draft(_study_lock(study))
        existing = {domain.key: domain for domain in study.domains.all()}
        study.domains.exclude(key__in=keys).delete()
        for order, row in enumerate(rows):
            domain = existing.get(row["key"]) or Domain(study=study, key=row["key"])
            french = dict(domain.translations.get("fr", {}))
            for field in ("label", "help_text", "anchor_low", "anchor_high"):
                if field in row:
                    setattr(domain, field, row[field])
                if f"{field}_fr" in row:
                    french[field] = row[f"{field}_fr"]
            # Empty French fields fall back to English (Domain.localized).
            domain.translations = {
                **domain.translations,
                "fr": {field: value for field, value in french.items() if value},
            }
            if not domain.label:
                raise InvalidInput(_("Every domain needs a label."), code="domain_label")
            domain.order = order
            domain.save()


def _require_open(assignment: Assignment) -> None:
    """A quick refusal on the caller's copy; the check that counts is `_assignment_lock`."""
    if assignment.study.status != Study.Status.OPEN:
        raise Conflict(
            _("This study is closed; ratings can no longer be changed."), code="study_closed"
        )


@dataclass(frozen=True)
class AssignmentState:
    """An assignment's state read under `_assignment_lock`: it cannot change before the
    transaction that read it ends."""

    status: str


def _locking(clause: str) -> str:
    # SQLite has no row locks (and needs none: the demo's transactions are IMMEDIATE, one
    # writer at a time); PostgreSQL gets the clause.
    return clause if connection.features.has_select_for_update else ""


_ASSIGNMENT_TABLE = Assignment._meta.db_table
_STUDY_TABLE = Study._meta.db_table
_SEAT_TABLE = StudyReviewer._meta.db_table

# Lock order, the same in every write so that none deadlocks with another: the study's row
# first, then the assignment, then the seat. The study is taken in the weakest share mode
# (KEY SHARE): reviewers writing at once do not wait for each other, but closing the study,
# adding or removing a reviewer take FOR UPDATE on it and so wait for the writes in flight,
# and later writes wait for them. The assignment is locked against a concurrent submit or
# reassignment, the seat against its deactivation.
_STUDY_SHARE_SQL = f"SELECT s.status FROM {_STUDY_TABLE} s WHERE s.id = %s"  # noqa: S608 (table name from the model)
_STUDY_SHARE_CLAUSE = " FOR KEY SHARE"
_ASSIGNMENT_LOCK_SQL = f"""
SELECT a.status, p.active
FROM {_ASSIGNMENT_TABLE} a
JOIN {_SEAT_TABLE} p ON p.study_id = a.study_id AND p.reviewer_id = a.reviewer_id
WHERE a.id = %s
"""  # noqa: S608 (table names from the models, values bound)
_ASSIGNMENT_LOCK_CLAUSE = " FOR NO KEY UPDATE OF a FOR SHARE OF p"


def _assignment_lock(assignment: Assignment) -> AssignmentState:
    """Inside a transaction: lock the study, the assignment and the reviewer's seat, then
    check what a reviewer's write needs — the study is open (Conflict otherwise), the
    assignment still exists and the reviewer is still on the panel (NotFound otherwise)."""
    with connection.cursor() as cursor:
        cursor.execute(_STUDY_SHARE_SQL + _locking(_STUDY_SHARE_CLAUSE), [assignment.study_id])
        (study_status,) = cursor.fetchone()
        cursor.execute(_ASSIGNMENT_LOCK_SQL + _locking(_ASSIGNMENT_LOCK_CLAUSE), [assignment.pk])
        row = cursor.fetchone()
    if row is None or not row[1]:
        raise NotFound(_("This report is no longer assigned to you."), code="not_assigned")
    if study_status != Study.Status.OPEN:
        raise Conflict(
            _("This study is closed; ratings can no longer be changed."), code="study_closed"
        )
    return AssignmentState(status=row[0])


_OPEN_BY_CODE_SQL = f"""
UPDATE {_ASSIGNMENT_TABLE} a
   SET reading_visit_at = %(now)s, reading_visit_ms = 0,
       first_opened_at = COALESCE(a.first_opened_at, %(now)s),
       status = CASE WHEN a.status = %(pending)s THEN %(in_progress)s ELSE a.status END
  FROM {_STUDY_TABLE} s
 WHERE s.id = a.study_id AND a.code = %(code)s AND a.reviewer_id = %(reviewer)s
   AND s.status = %(open)s AND s.kind = %(rating)s
   AND EXISTS (SELECT 1 FROM {_SEAT_TABLE} p
                WHERE p.study_id = a.study_id AND p.reviewer_id = a.reviewer_id AND p.active)
RETURNING a.id
"""  # noqa: S608 (names from the models, values bound)


def assignment_open_by_code(*, reviewer_id: int, code: str) -> bool:
    """The rating page's opening of a report of an open rating study by its reviewer (what
    `assignment_open` records), found by code in the same statement. False when it does not
    apply — not theirs, seat removed, study not open, an annotation audit — and nothing was
    written: the caller goes the usual way, which answers 404, redirects or shows the page
    read-only."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            _OPEN_BY_CODE_SQL,
            {
                "now": timezone.now(),
                "pending": Assignment.Status.PENDING.value,
                "in_progress": Assignment.Status.IN_PROGRESS.value,
                "code": code,
                "reviewer": reviewer_id,
                "open": Study.Status.OPEN.value,
                "rating": Study.Kind.RATING.value,
            },
        )
        return cursor.fetchone() is not None


def assignment_lock(*, assignment: Assignment) -> AssignmentState:
    """`_assignment_lock` for the reviewer's other writes (services_reviewer)."""
    return _assignment_lock(assignment)


def assignment_open(*, assignment: Assignment) -> Assignment:
    """Record the first time a reviewer opens a report, and start a new visit of it for
    the reading time (services_reviewer.assignment_reading_time_add), in one statement."""
    if assignment.study.status != Study.Status.OPEN:
        return assignment
    now = timezone.now()
    Assignment.objects.filter(pk=assignment.pk).update(
        reading_visit_at=now,
        reading_visit_ms=0,
        first_opened_at=Coalesce(F("first_opened_at"), Value(now)),
        status=Case(
            When(status=Assignment.Status.PENDING, then=Value(Assignment.Status.IN_PROGRESS)),
            default=F("status"),
        ),
    )
    if assignment.first_opened_at is None:
        assignment.first_opened_at = now
    assignment.reading_visit_at, assignment.reading_visit_ms = now, 0
    if assignment.status == Assignment.Status.PENDING:
        assignment.status = Assignment.Status.IN_PROGRESS
    return assignment


# Quoted: the reliability tests recognise the rating write by its SQL (INTO "review_rating").
_RATING_TABLE = connection.ops.quote_name(Rating._meta.db_table)
_UPSERT_TAIL = """
ON CONFLICT (assignment_id, domain_id)
DO UPDATE SET score = EXCLUDED.score, updated_at = EXCLUDED.updated_at
RETURNING id"""


def _rating_upsert(rating: Rating) -> None:
    """Insert or overwrite one score in a single statement and set the rating's pk. The
    caller holds `_assignment_lock`."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_RATING_TABLE} (assignment_id, domain_id, score, updated_at) "  # noqa: S608 (table name from the model, values bound)
            "VALUES (%s, %s, %s, %s)" + _UPSERT_TAIL,
            [
                rating.assignment_id,
                rating.domain_id,
                rating.score,
                connection.ops.adapt_datetimefield_value(rating.updated_at),
            ],
        )
        (rating.pk,) = cursor.fetchone()
    rating._state.adding = False


def _rating_upsert_in_progress(rating: Rating) -> bool:
    """The hot path, a reviewer clicking through a report they have started: lock and check
    (in progress, study open, seat active) and upsert in one statement, so one round trip.
    False when the checks fail, and nothing was written: the caller takes the slow path,
    which says why. bulk_create(update_conflicts=…) would cost two more round trips."""
    # The study's lock sits in an uncorrelated subquery, which PostgreSQL runs (once)
    # before it fetches and locks the assignment: the lock order of `_assignment_lock`.
    sql = (
        f"WITH target AS (SELECT a.id FROM {_ASSIGNMENT_TABLE} a "  # noqa: S608 (names from the models, values bound)
        f"JOIN {_SEAT_TABLE} p ON p.study_id = a.study_id AND p.reviewer_id = a.reviewer_id "
        f"WHERE a.id = %s AND a.status = %s AND p.active AND a.study_id = "
        f"({_STUDY_SHARE_SQL} AND s.status = %s{_locking(_STUDY_SHARE_CLAUSE)})"
        f"{_locking(_ASSIGNMENT_LOCK_CLAUSE)}) "
        f"INSERT INTO {_RATING_TABLE} (assignment_id, domain_id, score, updated_at) "
        "SELECT %s, %s, %s, %s FROM target" + _UPSERT_TAIL
    ).replace("SELECT s.status FROM", "SELECT s.id FROM", 1)
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                rating.assignment_id,
                Assignment.Status.IN_PROGRESS.value,
                rating.assignment.study_id,
                Study.Status.OPEN.value,
                rating.assignment_id,
                rating.domain_id,
                rating.score,
                connection.ops.adapt_datetimefield_value(rating.updated_at),
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return False
    rating.pk = row[0]
    rating._state.adding = False
    return True


# A score is typed or clicked: ASCII digits with an optional sign, a few of them. str.isdigit
# accepts "²" and "①", which int() then refuses; thousands of digits make int() slow.
_SCORE_PATTERN = re.compile(r"[+-]?[0-9]{1,6}")


def score_parse(value: Any) -> int:
    """A score from a form or JSON value; InvalidInput unless it is a whole number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _SCORE_PATTERN.fullmatch(value.strip()):
        return int(value.strip())
    raise InvalidInput(_("The score must be a whole number."), code="score_not_integer")


def rating_save(*, assignment: Assignment, domain_key: str, score: Any) -> Rating:
    """Save one score at once (every click is kept). Two tabs saving the same rating: the
    last write wins, atomically, through an upsert on (assignment, domain).

    The assignment's and the study's states are checked under row locks in the statement
    or transaction that writes: no score lands after the study closed, and a score changed
    after its assignment was submitted always has its `rating.change_after_submit` row."""
    _require_open(assignment)
    if (
        assignment.kind == Assignment.Kind.CALIBRATION
        and assignment.status == Assignment.Status.SUBMITTED
    ):
        # Its reference scores are on screen now: a change would only copy them.
        raise Conflict(
            _("A submitted calibration item cannot be changed."), code="calibration_locked"
        )
    study = assignment.study
    try:
        domain = Domain.objects.get(study_id=study.pk, key=domain_key)
    except Domain.DoesNotExist:
        raise InvalidInput(
            _("This domain is not part of the study."), code="unknown_domain"
        ) from None
    score = score_parse(score)
    if not study.scale_min <= score <= study.scale_max:
        raise InvalidInput(
            _("The score must be between %(low)d and %(high)d.")
            % {"low": study.scale_min, "high": study.scale_max},
            code="score_out_of_range",
        )
    now = timezone.now()
    rating = Rating(assignment=assignment, domain=domain, score=score, updated_at=now)
    if assignment.status == Assignment.Status.IN_PROGRESS and _rating_upsert_in_progress(rating):
        return rating
    with transaction.atomic():
        state = _assignment_lock(assignment)
        previous = None
        if state.status == Assignment.Status.SUBMITTED:
            previous = (
                Rating.objects.filter(assignment=assignment, domain=domain)
                .values_list("score", flat=True)
                .first()
            )
        rating.updated_at = timezone.now()
        _rating_upsert(rating)
        if state.status == Assignment.Status.PENDING:
            Assignment.objects.filter(pk=assignment.pk, status=Assignment.Status.PENDING).update(
                status=Assignment.Status.IN_PROGRESS, first_opened_at=now
            )
            assignment.first_opened_at = now
        assignment.status = (
            Assignment.Status.IN_PROGRESS
            if state.status == Assignment.Status.PENDING
            else state.status
        )
        if previous is not None and previous != score:
            audit_log(
                actor=assignment.reviewer,
                action="rating.change_after_submit",
                study=study,
                target=assignment.code,
                details={"domain": domain.key, "old": previous, "new": score},
            )
    return rating


# A visit can never count more than this, whatever the wall clock says (a tab left open
# overnight must not add hours to a report's reading time). Used by the one-statement save
# below and by services_reviewer.assignment_reading_time_add.
READING_MS_MAX_PER_VISIT = 30 * 60 * 1000


@dataclass(frozen=True)
class SavedScore:
    """What the rating page's domain row needs after a save: the domain, the score kept,
    and the study's scale."""

    domain: Domain
    score: int
    scale_min: int
    scale_max: int


_DOMAIN_COLUMNS = [field.column for field in Domain._meta.concrete_fields]
# The clock of the reading time (services_reviewer.assignment_reading_time_add's rule) as
# SQL over the locked assignment row `a`: the visit counts at most the wall time since the
# page was served and READING_MS_MAX_PER_VISIT, and only what is not yet counted is added.
_VISIT_COUNTED_SQL = """LEAST(%(ms)s, %(ms_max)s, GREATEST(0, FLOOR(
           EXTRACT(EPOCH FROM (%(now)s - a.reading_visit_at)) * 1000))::bigint)"""
_CLOCK_SET_SQL = f"""
         active_ms = CASE WHEN %(ms)s > 0 AND a.reading_visit_at IS NOT NULL
           THEN a.active_ms + GREATEST(0, {_VISIT_COUNTED_SQL} - a.reading_visit_ms)
           ELSE a.active_ms END,
         reading_visit_ms = CASE WHEN %(ms)s > 0 AND a.reading_visit_at IS NOT NULL
           THEN GREATEST(a.reading_visit_ms, {_VISIT_COUNTED_SQL})
           ELSE a.reading_visit_ms END"""

# The study of the assignment `%(code)s`, if open, locked first and in KEY SHARE as
# `_assignment_lock` takes it: an uncorrelated subquery, run before the rows are fetched.
_OPEN_STUDY_OF_CODE_SQL = f"""(SELECT s2.id FROM {_STUDY_TABLE} s2
     WHERE s2.id = (SELECT a2.study_id FROM {_ASSIGNMENT_TABLE} a2 WHERE a2.code = %(code)s)
       AND s2.status = %(open)s FOR KEY SHARE)"""  # noqa: S608 (names from the models)

# The whole save of a score by a reviewer clicking through a report they have started, in
# ONE statement (PostgreSQL): find their assignment by code and the domain by key, check and
# lock as `_assignment_lock` does (study first, in KEY SHARE, by the uncorrelated subquery
# that runs before the rows are fetched; then the assignment and the seat), upsert the
# score, add the page's reading time (the rule of services_reviewer.assignment_reading_time_add,
# under the same row lock), and return the domain row for the answer. No row comes back
# when any check fails: the caller then takes `rating_save`, which says why.
_SCORE_SAVE_SQL = f"""
WITH target AS (
  SELECT a.id AS assignment_id, d.id AS domain_id, s.scale_min, s.scale_max
  FROM {_ASSIGNMENT_TABLE} a
  JOIN {_SEAT_TABLE} p ON p.study_id = a.study_id AND p.reviewer_id = a.reviewer_id
  JOIN {_STUDY_TABLE} s ON s.id = a.study_id
  JOIN {Domain._meta.db_table} d ON d.study_id = a.study_id AND d.key = %(key)s
  WHERE a.code = %(code)s AND a.reviewer_id = %(reviewer)s AND a.status = %(in_progress)s
    AND p.active AND %(score)s BETWEEN s.scale_min AND s.scale_max
    AND a.study_id = {_OPEN_STUDY_OF_CODE_SQL}
  FOR NO KEY UPDATE OF a FOR SHARE OF p
), saved AS (
  INSERT INTO {_RATING_TABLE} (assignment_id, domain_id, score, updated_at)
  SELECT assignment_id, domain_id, %(score)s, %(now)s FROM target
  {_UPSERT_TAIL}
), clock AS (
  UPDATE {_ASSIGNMENT_TABLE} a
     SET {_CLOCK_SET_SQL.strip()}
    FROM target t
   WHERE a.id = t.assignment_id AND %(ms)s > 0 AND a.reading_visit_at IS NOT NULL
)
SELECT t.scale_min, t.scale_max, (SELECT id FROM saved),
       {", ".join(f"d.{column}" for column in _DOMAIN_COLUMNS)}
FROM target t JOIN {Domain._meta.db_table} d ON d.id = t.domain_id
"""  # noqa: S608 (names from the models, values bound)


def score_save_in_one_statement(
    *, reviewer_id: int, code: str, domain_key: str, score: Any, client_ms: int | None = 0
) -> SavedScore | None:
    """The rating page's hot path: save one score of an assignment in progress (and the
    reading time sent with it) in one statement, with every check of `rating_save` taken
    under the same locks. None when it does not apply — not PostgreSQL, not in progress,
    study closed, seat removed, unknown domain, bad score — and nothing was written: the
    caller goes through `rating_save`, which refuses with the reason or takes the slow
    path (first score, change after submit with its audit row)."""
    if connection.vendor != "postgresql":
        return None
    try:
        value = score_parse(score)
    except InvalidInput:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            _SCORE_SAVE_SQL,
            {
                "key": domain_key,
                "code": code,
                "reviewer": reviewer_id,
                "in_progress": Assignment.Status.IN_PROGRESS.value,
                "open": Study.Status.OPEN.value,
                "score": value,
                "now": timezone.now(),
                "ms": max(0, client_ms or 0),
                "ms_max": READING_MS_MAX_PER_VISIT,
            },
        )
        row = cursor.fetchone()
    if row is None or row[2] is None:
        return None
    scale_min, scale_max, _rating_id, *domain_values = row
    domain = Domain.from_raw_row(domain_values)
    return SavedScore(domain=domain, score=value, scale_min=scale_min, scale_max=scale_max)


# A PUT of several scores by a reviewer on an assignment not yet submitted, in ONE statement
# (PostgreSQL): the same locks, in the same order, and the same checks as `_assignment_lock`
# + `_ratings_upsert_many` (every key a domain of the study, every score on its scale), all
# or nothing: the upsert runs only when every wanted score found its domain. A pending
# assignment becomes in progress, as the slow path does.
_RATINGS_PUT_SQL = f"""
WITH wanted(key, score) AS (
  SELECT * FROM unnest(%(keys)s::text[], %(scores)s::integer[])
), target AS (
  SELECT a.id AS assignment_id, a.status, d.id AS domain_id, w.score
  FROM {_ASSIGNMENT_TABLE} a
  JOIN {_SEAT_TABLE} p ON p.study_id = a.study_id AND p.reviewer_id = a.reviewer_id
  JOIN {_STUDY_TABLE} s ON s.id = a.study_id
  JOIN {Domain._meta.db_table} d ON d.study_id = a.study_id
  JOIN wanted w ON w.key = d.key
  WHERE a.code = %(code)s AND a.reviewer_id = %(reviewer)s AND a.status = ANY(%(writable)s)
    AND p.active AND w.score BETWEEN s.scale_min AND s.scale_max
    AND a.study_id = {_OPEN_STUDY_OF_CODE_SQL}
  FOR NO KEY UPDATE OF a FOR SHARE OF p
), complete AS (
  SELECT COUNT(*) = %(wanted)s AS ok FROM target
), saved AS (
  INSERT INTO {_RATING_TABLE} (assignment_id, domain_id, score, updated_at)
  SELECT assignment_id, domain_id, score, %(now)s FROM target WHERE (SELECT ok FROM complete)
  {_UPSERT_TAIL}
), opened AS (
  UPDATE {_ASSIGNMENT_TABLE} a SET status = %(in_progress)s, first_opened_at = %(now)s
   WHERE a.id = (SELECT assignment_id FROM target LIMIT 1) AND a.status = %(pending)s
     AND (SELECT ok FROM complete)
)
SELECT COUNT(*) FROM saved
"""  # noqa: S608 (names from the models, values bound)


def ratings_put_in_one_statement(*, reviewer_id: int, code: str, scores: dict[str, Any]) -> bool:
    """The API's PUT of scores on an assignment not yet submitted, in one statement. False
    when it does not apply — not PostgreSQL, no score, a score that is not a whole number,
    submitted, study closed, seat removed, unknown domain, score off the scale — and nothing
    was written: the caller goes through `assignment_ratings_put`, which says why or takes
    the slow path (changes after submission keep their audit rows)."""
    if connection.vendor != "postgresql" or not scores:
        return False
    try:
        values = [score_parse(raw) for raw in scores.values()]
    except InvalidInput:
        return False
    if not all(-(2**31) <= value < 2**31 for value in values):
        return False  # not a PostgreSQL integer: off any scale, refused by the slow path
    with connection.cursor() as cursor:
        cursor.execute(
            _RATINGS_PUT_SQL,
            {
                "keys": list(scores),
                "scores": values,
                "wanted": len(values),
                "code": code,
                "reviewer": reviewer_id,
                "writable": [Assignment.Status.PENDING.value, Assignment.Status.IN_PROGRESS.value],
                "pending": Assignment.Status.PENDING.value,
                "in_progress": Assignment.Status.IN_PROGRESS.value,
                "open": Study.Status.OPEN.value,
                "now": timezone.now(),
            },
        )
        (saved,) = cursor.fetchone()
    return saved == len(values)


# The submit, in two statements and one transaction (PostgreSQL): the first takes the locks
# of `_assignment_lock` (study in KEY SHARE, then the assignment and the seat) on an
# assignment not yet submitted; the second, under those locks and so with a snapshot taken
# after any score saved or cleared meanwhile, submits it only when every domain of the study
# is scored, with the comment and the page's reading time. One statement would not do: its
# check of the scores would read the snapshot taken before it waited for the lock.
_SUBMIT_LOCK_SQL = f"""
SELECT a.id, s.code
FROM {_ASSIGNMENT_TABLE} a
JOIN {_SEAT_TABLE} p ON p.study_id = a.study_id AND p.reviewer_id = a.reviewer_id
JOIN {_STUDY_TABLE} s ON s.id = a.study_id
WHERE a.code = %(code)s AND a.reviewer_id = %(reviewer)s AND a.status = ANY(%(writable)s)
  AND p.active
  AND a.study_id = {_OPEN_STUDY_OF_CODE_SQL}
FOR NO KEY UPDATE OF a FOR SHARE OF p
"""  # noqa: S608 (names from the models, values bound)
_SUBMIT_SQL = f"""
UPDATE {_ASSIGNMENT_TABLE} a
   SET status = %(submitted)s, submitted_at = %(now)s, updated_at = %(now)s,
       comment = COALESCE(%(comment)s, a.comment),{_CLOCK_SET_SQL}
 WHERE a.id = %(id)s AND a.status = ANY(%(writable)s)
   AND NOT EXISTS (
     SELECT 1 FROM {Domain._meta.db_table} d
      WHERE d.study_id = a.study_id
        AND NOT EXISTS (SELECT 1 FROM {_RATING_TABLE} r
                         WHERE r.assignment_id = a.id AND r.domain_id = d.id))
RETURNING a.study_id
"""  # noqa: S608 (names from the models, values bound)
# The rating page goes on to the reviewer's next unsubmitted report: found by the submit's
# own statement rather than by one more query (index assign_queue). The subquery reads the
# rows as they were before the update, so the submitted one is excluded by its id. (A
# statement of its own: the API's submit does not plan the subquery.)
_SUBMIT_WITH_NEXT_SQL = f"""{_SUBMIT_SQL.rstrip()},
          (SELECT q.code FROM {_ASSIGNMENT_TABLE} q
            WHERE q.study_id = a.study_id AND q.reviewer_id = a.reviewer_id
              AND q.id <> a.id AND q.status <> %(submitted)s
            ORDER BY q.position LIMIT 1)
"""  # noqa: S608 (names from the models, values bound)


_READING_TIME_BY_CODE_SQL = f"""
UPDATE {_ASSIGNMENT_TABLE} a
   SET {_CLOCK_SET_SQL.strip()}
  FROM {_STUDY_TABLE} s
 WHERE s.id = a.study_id AND a.code = %(code)s AND a.reviewer_id = %(reviewer)s
   AND s.status = %(open)s AND a.reading_visit_at IS NOT NULL
   AND EXISTS (SELECT 1 FROM {_SEAT_TABLE} p
                WHERE p.study_id = a.study_id AND p.reviewer_id = a.reviewer_id AND p.active)
RETURNING a.id
"""  # noqa: S608 (names from the models, values bound)


def reading_time_add_by_code(*, reviewer_id: int, code: str, visit_ms: int) -> bool:
    """The rating page's 15 s beat (its reading time, nothing else) in one statement, by the
    rule of services_reviewer.assignment_reading_time_add. False when it does not apply —
    not PostgreSQL, not theirs, seat removed, study not open, no visit started — and
    nothing was written: the caller goes the usual way (404, or nothing to count)."""
    if connection.vendor != "postgresql" or visit_ms <= 0:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            _READING_TIME_BY_CODE_SQL,
            {
                "code": code,
                "reviewer": reviewer_id,
                "open": Study.Status.OPEN.value,
                "now": timezone.now(),
                "ms": visit_ms,
                "ms_max": READING_MS_MAX_PER_VISIT,
            },
        )
        return cursor.fetchone() is not None


@dataclass(frozen=True)
class Submitted:
    """A submit the fast path made: what the caller needs to go on to the next report."""

    study_id: int
    study_code: str
    # With `with_next`: the code of the reviewer's first unsubmitted assignment of the
    # study after this one (None: they have submitted them all). Without: always None.
    next_code: str | None = None


def assignment_submit_in_two_statements(
    *,
    reviewer_id: int,
    code: str,
    comment: str | None = None,
    client_ms: int | None = 0,
    with_next: bool = False,
) -> Submitted | None:
    """Submit a complete assignment (with the comment and the reading time sent with the
    submit) in two statements. None when it does not apply — not PostgreSQL, a comment over
    the limit, already submitted, study closed, seat removed, a domain not scored — and
    nothing was written: the caller goes through `assignment_submit`, which says why.
    `with_next`: also find the reviewer's next report to rate (`Submitted.next_code`), as
    `selectors.queue_next_for_reviewer` would after the submit."""
    if connection.vendor != "postgresql" or (comment is not None and len(comment) > 5000):
        return None
    with transaction.atomic():
        return _submit_statements(
            reviewer_id=reviewer_id,
            code=code,
            comment=comment,
            client_ms=client_ms,
            with_next=with_next,
        )


def _submit_statements(
    *, reviewer_id: int, code: str, comment: str | None, client_ms: int | None, with_next: bool
) -> Submitted | None:
    """The two statements of `assignment_submit_in_two_statements`, inside the caller's
    transaction; None when the submit does not apply (nothing written by them)."""
    writable = [Assignment.Status.PENDING.value, Assignment.Status.IN_PROGRESS.value]
    with connection.cursor() as cursor:
        cursor.execute(
            _SUBMIT_LOCK_SQL,
            {
                "code": code,
                "reviewer": reviewer_id,
                "writable": writable,
                "open": Study.Status.OPEN.value,
            },
        )
        locked = cursor.fetchone()
        if locked is None:
            return None
        assignment_id, study_code = locked
        cursor.execute(
            _SUBMIT_WITH_NEXT_SQL if with_next else _SUBMIT_SQL,
            {
                "id": assignment_id,
                "writable": writable,
                "submitted": Assignment.Status.SUBMITTED.value,
                "comment": comment,
                "now": timezone.now(),
                "ms": max(0, client_ms or 0),
                "ms_max": READING_MS_MAX_PER_VISIT,
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return Submitted(
        study_id=row[0], study_code=study_code, next_code=row[1] if with_next else None
    )


def assignment_submit_with_scores_in_three_statements(
    *, reviewer_id: int, code: str, scores: dict[str, Any], comment: str | None = None
) -> Submitted | None:
    """The API's submit that carries its scores: the PUT's statement, then the submit's
    two, in one transaction. None when it does not apply (what either declines: a score the
    statement does not take, submitted, closed, not theirs, a domain left unscored) and
    nothing was written, not even the scores: the caller goes through
    `assignment_ratings_put` and `assignment_submit` in a transaction, which say why."""
    if connection.vendor != "postgresql" or (comment is not None and len(comment) > 5000):
        return None
    with transaction.atomic():
        if not ratings_put_in_one_statement(reviewer_id=reviewer_id, code=code, scores=scores):
            return None
        submitted = _submit_statements(
            reviewer_id=reviewer_id, code=code, comment=comment, client_ms=0, with_next=False
        )
        if submitted is None:
            # A refused submit keeps none of its scores: all or nothing, as the API says.
            transaction.set_rollback(True)
        return submitted


def assignment_comment_save(*, assignment: Assignment, comment: str) -> Assignment:
    _require_open(assignment)
    if len(comment) > 5000:
        raise InvalidInput(_("The comment is limited to 5,000 characters."), code="comment_long")
    with transaction.atomic():
        _assignment_lock(assignment)
        Assignment.objects.filter(pk=assignment.pk).update(
            comment=comment, updated_at=timezone.now()
        )
    assignment.comment = comment
    return assignment


def assignment_ratings_put(
    *, assignment: Assignment, scores: dict[str, Any], comment: str | None = None
) -> Assignment:
    """Save several scores and the comment at once, all or nothing (the API's PUT)."""
    _require_open(assignment)
    with transaction.atomic():
        state = _assignment_lock(assignment)
        assignment.status = state.status
        if state.status == Assignment.Status.SUBMITTED or not scores:
            # Changes after submission keep their audit rows: one score at a time.
            for domain_key, score in scores.items():
                rating_save(assignment=assignment, domain_key=domain_key, score=score)
        else:
            _ratings_upsert_many(assignment=assignment, state=state, scores=scores)
        if comment is not None:
            assignment_comment_save(assignment=assignment, comment=comment)
    return assignment


def _ratings_upsert_many(
    *, assignment: Assignment, state: AssignmentState, scores: dict[str, Any]
) -> None:
    """Every score of a PUT in one statement (the caller holds `_assignment_lock` on an
    assignment not yet submitted), after the checks `rating_save` makes on each, in the
    same order and with the same refusals: the study's domains are read once."""
    study = assignment.study
    domains = {domain.key: domain for domain in Domain.objects.filter(study_id=study.pk)}
    params: list[Any] = []
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    for domain_key, raw in scores.items():
        domain = domains.get(domain_key)
        if domain is None:
            raise InvalidInput(_("This domain is not part of the study."), code="unknown_domain")
        score = score_parse(raw)
        if not study.scale_min <= score <= study.scale_max:
            raise InvalidInput(
                _("The score must be between %(low)d and %(high)d.")
                % {"low": study.scale_min, "high": study.scale_max},
                code="score_out_of_range",
            )
        params.extend((assignment.pk, domain.pk, score, stamp))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_RATING_TABLE} (assignment_id, domain_id, score, updated_at) VALUES "  # noqa: S608 (table name from the model, values bound)
            + ", ".join(["(%s, %s, %s, %s)"] * (len(params) // 4))
            + _UPSERT_TAIL,
            params,
        )
    if state.status == Assignment.Status.PENDING:
        Assignment.objects.filter(pk=assignment.pk, status=Assignment.Status.PENDING).update(
            status=Assignment.Status.IN_PROGRESS, first_opened_at=now
        )
        assignment.first_opened_at = now
        assignment.status = Assignment.Status.IN_PROGRESS


def assignment_submit(*, assignment: Assignment) -> Assignment:
    """Submit once every domain of the study is scored. A second submit is refused, so a
    replayed request changes nothing. Checked under the assignment's lock: a score saved
    at the same moment lands either before the submit or after it, with its audit row."""
    _require_open(assignment)
    with transaction.atomic():
        state = _assignment_lock(assignment)
        if state.status == Assignment.Status.SUBMITTED:
            raise Conflict(_("This report was already submitted."), code="already_submitted")
        missing = list(
            assignment.study.domains.exclude(ratings__assignment=assignment).values_list(
                "label", flat=True
            )
        )
        if missing:
            raise InvalidInput(
                _("Score every domain before submitting. Missing: %(domains)s.")
                % {"domains": ", ".join(missing)},
                code="incomplete",
            )
        now = timezone.now()
        Assignment.objects.filter(pk=assignment.pk).update(
            status=Assignment.Status.SUBMITTED, submitted_at=now, updated_at=now
        )
    assignment.status = Assignment.Status.SUBMITTED
    assignment.submitted_at = now
    return assignment


def reports_pick_for_study(
    *,
    include_real: bool,
    synthetic_count: int,
    synthetic_batch: str = "",
    seed: int,
    exclude_flagged: bool = False,
) -> list[Report]:
    """All real reports (optionally) plus N synthetic ones drawn at random (seeded),
    optionally only from one generation batch."""
    chosen: list[Report] = []
    if include_real:
        chosen.extend(Report.objects.filter(source=Report.Source.REAL).order_by("pk"))
    if synthetic_count:
        synthetic = Report.objects.filter(source=Report.Source.SYNTHETIC)
        if synthetic_batch:
            synthetic = synthetic.filter(provenance__batch=synthetic_batch)
        if exclude_flagged:
            synthetic = synthetic.filter(
                Q(provenance__flags__isnull=True) | Q(provenance__flags=[])
            )
        pool = list(synthetic.order_by("pk"))
        if synthetic_count > len(pool):
            raise InvalidInput(
                _("Only %(n)d synthetic reports match; asked for %(asked)d.")
                % {"n": len(pool), "asked": synthetic_count},
                code="not_enough_synthetic",
            )
        chosen.extend(random.Random(seed).sample(pool, synthetic_count))
    return chosen


def report_tags_set(*, report: Report, names: Iterable[str], actor: User | None) -> list[str]:
    """Replace a report's tags by `names` (slugs; new tags are created). Returns the sorted
    names. Refused, writing nothing, when a name is not a slug of at most 64 characters."""
    cleaned = sorted({name.strip().lower() for name in names if name.strip()})
    for name in cleaned:
        if len(name) > 64 or not all(c.isalnum() or c in "-_" for c in name):
            raise InvalidInput(
                _("Tags are single words (letters, digits, - and _), not “%(tag)s”.")
                % {"tag": name},
                code="tag_invalid",
            )
    with transaction.atomic():
        tags = [Tag.objects.get_or_create(name=name)[0] for name in cleaned]
        report.tags.set(tags)
        audit_log(actor=actor, action="report.tags", target=report.code, details={"tags": cleaned})
    return cleaned


# Surface differences between the sources (length, sections) that the leak audit treats as
# leaks unless a coordinator accepts them: the reference study found synthetic reports
# longer, which can be a result, but opening a study with it must be a recorded decision.
ACCEPTABLE_SURFACE_CUES = ("length", "sections")
SURFACE_ACCEPTED = "blinding.surface_accepted"


def blinding_surface_accept(*, study: Study, cue: str, reason: str, actor: User) -> AuditEvent:
    """Record that `actor` accepts the difference in `cue` between the sources, with their
    reason, in the audit trail (append-only); the audit then reports it as accepted."""
    reason = reason.strip()
    if cue not in ACCEPTABLE_SURFACE_CUES:
        raise InvalidInput(
            _("Only %(cues)s differences can be accepted.")
            % {"cues": ", ".join(ACCEPTABLE_SURFACE_CUES)},
            code="unknown_cue",
        )
    if len(reason) < 10:
        raise InvalidInput(
            _("Give the reason for accepting this difference (at least 10 characters)."),
            code="reason_required",
        )
    return audit_log(
        actor=actor,
        action=SURFACE_ACCEPTED,
        study=study,
        target=study.code,
        details={"cue": cue, "reason": reason},
    )
