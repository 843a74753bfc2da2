"""A reviewer's assignment: the locks every reviewer write takes, opening a report (the
reading-time clock), the comment, and the submit (one statement path and the slow path)."""

from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Case, F, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from review.exceptions import Conflict, InvalidInput
from review.models import (
    Assignment,
    Domain,
    Study,
)
from review.services.locks import (
    ASSIGNMENT_TABLE,
    CLOCK_SET_SQL,
    OPEN_STUDY_OF_CODE_SQL,
    RATING_TABLE,
    READING_MS_MAX_PER_VISIT,
    SEAT_TABLE,
    STUDY_TABLE,
    assignment_lock,
    assignment_require_open,
)

_OPEN_BY_CODE_SQL = f"""
UPDATE {ASSIGNMENT_TABLE} a
   SET reading_visit_at = %(now)s, reading_visit_ms = 0,
       first_opened_at = COALESCE(a.first_opened_at, %(now)s),
       status = CASE WHEN a.status = %(pending)s THEN %(in_progress)s ELSE a.status END
  FROM {STUDY_TABLE} s
 WHERE s.id = a.study_id AND a.code = %(code)s AND a.reviewer_id = %(reviewer)s
   AND s.status = %(open)s AND s.kind = %(rating)s
   AND EXISTS (SELECT 1 FROM {SEAT_TABLE} p
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


def assignment_open(*, assignment: Assignment) -> Assignment:
    """Record the first time a reviewer opens a report, and start a new visit of it for
    the reading time (services.reviewer.assignment_reading_time_add), in one statement."""
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


# The submit, in two statements and one transaction (PostgreSQL): the first takes the locks
# of `assignment_lock` (study in KEY SHARE, then the assignment and the seat) on an
# assignment not yet submitted; the second, under those locks and so with a snapshot taken
# after any score saved or cleared meanwhile, submits it only when every domain of the study
# is scored, with the comment and the page's reading time. One statement would not do: its
# check of the scores would read the snapshot taken before it waited for the lock.
_SUBMIT_LOCK_SQL = f"""
SELECT a.id, s.code
FROM {ASSIGNMENT_TABLE} a
JOIN {SEAT_TABLE} p ON p.study_id = a.study_id AND p.reviewer_id = a.reviewer_id
JOIN {STUDY_TABLE} s ON s.id = a.study_id
WHERE a.code = %(code)s AND a.reviewer_id = %(reviewer)s AND a.status = ANY(%(writable)s)
  AND p.active
  AND a.study_id = {OPEN_STUDY_OF_CODE_SQL}
FOR NO KEY UPDATE OF a FOR SHARE OF p
"""  # noqa: S608 (names from the models, values bound)
_SUBMIT_SQL = f"""
UPDATE {ASSIGNMENT_TABLE} a
   SET status = %(submitted)s, submitted_at = %(now)s, updated_at = %(now)s,
       comment = COALESCE(%(comment)s, a.comment),{CLOCK_SET_SQL}
 WHERE a.id = %(id)s AND a.status = ANY(%(writable)s)
   AND NOT EXISTS (
     SELECT 1 FROM {Domain._meta.db_table} d
      WHERE d.study_id = a.study_id
        AND NOT EXISTS (SELECT 1 FROM {RATING_TABLE} r
                         WHERE r.assignment_id = a.id AND r.domain_id = d.id))
RETURNING a.study_id
"""  # noqa: S608 (names from the models, values bound)
# The rating page goes on to the reviewer's next unsubmitted report: found by the submit's
# own statement rather than by one more query (index assign_queue). The subquery reads the
# rows as they were before the update, so the submitted one is excluded by its id. (A
# statement of its own: the API's submit does not plan the subquery.)
_SUBMIT_WITH_NEXT_SQL = f"""{_SUBMIT_SQL.rstrip()},
          (SELECT q.code FROM {ASSIGNMENT_TABLE} q
            WHERE q.study_id = a.study_id AND q.reviewer_id = a.reviewer_id
              AND q.id <> a.id AND q.status <> %(submitted)s
            ORDER BY q.position LIMIT 1)
"""  # noqa: S608 (names from the models, values bound)


_READING_TIME_BY_CODE_SQL = f"""
UPDATE {ASSIGNMENT_TABLE} a
   SET {CLOCK_SET_SQL.strip()}
  FROM {STUDY_TABLE} s
 WHERE s.id = a.study_id AND a.code = %(code)s AND a.reviewer_id = %(reviewer)s
   AND s.status = %(open)s AND a.reading_visit_at IS NOT NULL
   AND EXISTS (SELECT 1 FROM {SEAT_TABLE} p
                WHERE p.study_id = a.study_id AND p.reviewer_id = a.reviewer_id AND p.active)
RETURNING a.id
"""  # noqa: S608 (names from the models, values bound)


def reading_time_add_by_code(*, reviewer_id: int, code: str, visit_ms: int) -> bool:
    """The rating page's reading-time beat (at most once a minute, nothing else) in one
    statement, by the rule of services.reviewer.assignment_reading_time_add. False when it
    does not apply — not PostgreSQL, not theirs, seat removed, study not open, no visit
    started — and nothing was written: the caller goes the usual way (404, or nothing to
    count)."""
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
        return assignment_submit_statements(
            reviewer_id=reviewer_id,
            code=code,
            comment=comment,
            client_ms=client_ms,
            with_next=with_next,
        )


def assignment_submit_statements(
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


def assignment_comment_save(*, assignment: Assignment, comment: str) -> Assignment:
    assignment_require_open(assignment=assignment)
    if len(comment) > 5000:
        raise InvalidInput(_("The comment is limited to 5,000 characters."), code="comment_long")
    with transaction.atomic():
        assignment_lock(assignment=assignment)
        Assignment.objects.filter(pk=assignment.pk).update(
            comment=comment, updated_at=timezone.now()
        )
    assignment.comment = comment
    return assignment


def assignment_submit(*, assignment: Assignment) -> Assignment:
    """Submit once every domain of the study is scored. A second submit is refused, so a
    replayed request changes nothing. Checked under the assignment's lock: a score saved
    at the same moment lands either before the submit or after it, with its audit row."""
    assignment_require_open(assignment=assignment)
    with transaction.atomic():
        state = assignment_lock(assignment=assignment)
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
