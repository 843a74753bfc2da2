"""The locks every reviewer write takes, in one order, and the SQL pieces the one-statement
fast paths share (table names, lock clauses, the reading-time clock): `assignments` and
`ratings` build their statements from these, so the order cannot drift between them."""

from dataclasses import dataclass

from django.db import connection
from django.utils.translation import gettext as _

from review.exceptions import Conflict, NotFound
from review.models import Assignment, Rating, Study, StudyReviewer


def assignment_require_open(*, assignment: Assignment) -> None:
    """A quick refusal on the caller's copy; the check that counts is `assignment_lock`."""
    if assignment.study.status != Study.Status.OPEN:
        raise Conflict(
            _("This study is closed; ratings can no longer be changed."), code="study_closed"
        )


@dataclass(frozen=True)
class AssignmentState:
    """An assignment's state read under `assignment_lock`: it cannot change before the
    transaction that read it ends."""

    status: str


def lock_clause(clause: str) -> str:
    # SQLite has no row locks (and needs none: the demo's transactions are IMMEDIATE, one
    # writer at a time); PostgreSQL gets the clause.
    return clause if connection.features.has_select_for_update else ""


ASSIGNMENT_TABLE = Assignment._meta.db_table
STUDY_TABLE = Study._meta.db_table
SEAT_TABLE = StudyReviewer._meta.db_table

# Lock order, the same in every write so that none deadlocks with another: the study's row
# first, then the assignment, then the seat. The study is taken in the weakest share mode
# (KEY SHARE): reviewers writing at once do not wait for each other, but closing the study,
# adding or removing a reviewer take FOR UPDATE on it and so wait for the writes in flight,
# and later writes wait for them. The assignment is locked against a concurrent submit or
# reassignment, the seat against its deactivation.
STUDY_SHARE_SQL = f"SELECT s.status FROM {STUDY_TABLE} s WHERE s.id = %s"  # noqa: S608 (table name from the model)
STUDY_SHARE_CLAUSE = " FOR KEY SHARE"
ASSIGNMENT_LOCK_SQL = f"""
SELECT a.status, p.active
FROM {ASSIGNMENT_TABLE} a
JOIN {SEAT_TABLE} p ON p.study_id = a.study_id AND p.reviewer_id = a.reviewer_id
WHERE a.id = %s
"""  # noqa: S608 (table names from the models, values bound)
ASSIGNMENT_LOCK_CLAUSE = " FOR NO KEY UPDATE OF a FOR SHARE OF p"


def assignment_lock(*, assignment: Assignment) -> AssignmentState:
    """Inside a transaction: lock the study, the assignment and the reviewer's seat, then
    check what a reviewer's write needs — the study is open (Conflict otherwise), the
    assignment still exists and the reviewer is still on the panel (NotFound otherwise)."""
    with connection.cursor() as cursor:
        cursor.execute(STUDY_SHARE_SQL + lock_clause(STUDY_SHARE_CLAUSE), [assignment.study_id])
        (study_status,) = cursor.fetchone()
        cursor.execute(ASSIGNMENT_LOCK_SQL + lock_clause(ASSIGNMENT_LOCK_CLAUSE), [assignment.pk])
        row = cursor.fetchone()
    if row is None or not row[1]:
        raise NotFound(_("This report is no longer assigned to you."), code="not_assigned")
    if study_status != Study.Status.OPEN:
        raise Conflict(
            _("This study is closed; ratings can no longer be changed."), code="study_closed"
        )
    return AssignmentState(status=row[0])


# Quoted: the reliability tests recognise the rating write by its SQL (INTO "review_rating").
RATING_TABLE = connection.ops.quote_name(Rating._meta.db_table)


# A visit can never count more than this, whatever the wall clock says (a tab left open
# overnight must not add hours to a report's reading time). Used by the one-statement
# writes (`assignments`, `ratings`) and by services.reviewer.assignment_reading_time_add.
READING_MS_MAX_PER_VISIT = 30 * 60 * 1000
# The clock of the reading time (services.reviewer.assignment_reading_time_add's rule) as
# SQL over the locked assignment row `a`: the visit counts at most the wall time since the
# page was served and READING_MS_MAX_PER_VISIT, and only what is not yet counted is added.
VISIT_COUNTED_SQL = """LEAST(%(ms)s, %(ms_max)s, GREATEST(0, FLOOR(
           EXTRACT(EPOCH FROM (%(now)s - a.reading_visit_at)) * 1000))::bigint)"""
CLOCK_SET_SQL = f"""
         active_ms = CASE WHEN %(ms)s > 0 AND a.reading_visit_at IS NOT NULL
           THEN a.active_ms + GREATEST(0, {VISIT_COUNTED_SQL} - a.reading_visit_ms)
           ELSE a.active_ms END,
         reading_visit_ms = CASE WHEN %(ms)s > 0 AND a.reading_visit_at IS NOT NULL
           THEN GREATEST(a.reading_visit_ms, {VISIT_COUNTED_SQL})
           ELSE a.reading_visit_ms END"""

# The study of the assignment `%(code)s`, if open, locked first and in KEY SHARE as
# `assignment_lock` takes it: an uncorrelated subquery, run before the rows are fetched.
OPEN_STUDY_OF_CODE_SQL = f"""(SELECT s2.id FROM {STUDY_TABLE} s2
     WHERE s2.id = (SELECT a2.study_id FROM {ASSIGNMENT_TABLE} a2 WHERE a2.code = %(code)s)
       AND s2.status = %(open)s FOR KEY SHARE)"""  # noqa: S608 (names from the models)
