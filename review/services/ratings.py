"""Scores: one at a time (the rating page), several at once (the API's PUT), and with the
submit that carries them; each write has a fast path in one statement on PostgreSQL
and a slow path that explains every refusal."""

import re
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from review.exceptions import Conflict, InvalidInput
from review.models import (
    Assignment,
    Domain,
    Rating,
    Study,
)
from review.services.assignments import (
    Submitted,
    assignment_comment_save,
    assignment_submit_statements,
)
from review.services.audit import audit_log
from review.services.locks import (
    ASSIGNMENT_LOCK_CLAUSE,
    ASSIGNMENT_TABLE,
    CLOCK_SET_SQL,
    OPEN_STUDY_OF_CODE_SQL,
    RATING_TABLE,
    READING_MS_MAX_PER_VISIT,
    SEAT_TABLE,
    STUDY_SHARE_CLAUSE,
    STUDY_SHARE_SQL,
    STUDY_TABLE,
    AssignmentState,
    assignment_lock,
    assignment_require_open,
    lock_clause,
)

_UPSERT_TAIL = """
ON CONFLICT (assignment_id, domain_id)
DO UPDATE SET score = EXCLUDED.score, updated_at = EXCLUDED.updated_at
RETURNING id"""


def _rating_upsert(rating: Rating) -> None:
    """Insert or overwrite one score in a single statement and set the rating's pk. The
    caller holds `assignment_lock`."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {RATING_TABLE} (assignment_id, domain_id, score, updated_at) "  # noqa: S608 (table name from the model, values bound)
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
    # before it fetches and locks the assignment: the lock order of `assignment_lock`.
    sql = (
        f"WITH target AS (SELECT a.id FROM {ASSIGNMENT_TABLE} a "  # noqa: S608 (names from the models, values bound)
        f"JOIN {SEAT_TABLE} p ON p.study_id = a.study_id AND p.reviewer_id = a.reviewer_id "
        f"WHERE a.id = %s AND a.status = %s AND p.active AND a.study_id = "
        f"({STUDY_SHARE_SQL} AND s.status = %s{lock_clause(STUDY_SHARE_CLAUSE)})"
        f"{lock_clause(ASSIGNMENT_LOCK_CLAUSE)}) "
        f"INSERT INTO {RATING_TABLE} (assignment_id, domain_id, score, updated_at) "
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
    assignment_require_open(assignment=assignment)
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
        state = assignment_lock(assignment=assignment)
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


@dataclass(frozen=True)
class SavedScore:
    """What the rating page's domain row needs after a save: the domain, the score kept,
    and the study's scale."""

    domain: Domain
    score: int
    scale_min: int
    scale_max: int


_DOMAIN_COLUMNS = [field.column for field in Domain._meta.concrete_fields]

# The whole save of a score by a reviewer clicking through a report they have started, in
# ONE statement (PostgreSQL): find their assignment by code and the domain by key, check and
# lock as `assignment_lock` does (study first, in KEY SHARE, by the uncorrelated subquery
# that runs before the rows are fetched; then the assignment and the seat), upsert the
# score, add the page's reading time (the rule of services.reviewer.assignment_reading_time_add,
# under the same row lock), and return the domain row for the answer. No row comes back
# when any check fails: the caller then takes `rating_save`, which says why.
_SCORE_SAVE_SQL = f"""
WITH target AS (
  SELECT a.id AS assignment_id, d.id AS domain_id, s.scale_min, s.scale_max
  FROM {ASSIGNMENT_TABLE} a
  JOIN {SEAT_TABLE} p ON p.study_id = a.study_id AND p.reviewer_id = a.reviewer_id
  JOIN {STUDY_TABLE} s ON s.id = a.study_id
  JOIN {Domain._meta.db_table} d ON d.study_id = a.study_id AND d.key = %(key)s
  WHERE a.code = %(code)s AND a.reviewer_id = %(reviewer)s AND a.status = %(in_progress)s
    AND p.active AND %(score)s BETWEEN s.scale_min AND s.scale_max
    AND a.study_id = {OPEN_STUDY_OF_CODE_SQL}
  FOR NO KEY UPDATE OF a FOR SHARE OF p
), saved AS (
  INSERT INTO {RATING_TABLE} (assignment_id, domain_id, score, updated_at)
  SELECT assignment_id, domain_id, %(score)s, %(now)s FROM target
  {_UPSERT_TAIL}
), clock AS (
  UPDATE {ASSIGNMENT_TABLE} a
     SET {CLOCK_SET_SQL.strip()}
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
# (PostgreSQL): the same locks, in the same order, and the same checks as `assignment_lock`
# + `_ratings_upsert_many` (every key a domain of the study, every score on its scale), all
# or nothing: the upsert runs only when every wanted score found its domain. A pending
# assignment becomes in progress, as the slow path does.
_RATINGS_PUT_SQL = f"""
WITH wanted(key, score) AS (
  SELECT * FROM unnest(%(keys)s::text[], %(scores)s::integer[])
), target AS (
  SELECT a.id AS assignment_id, a.status, d.id AS domain_id, w.score
  FROM {ASSIGNMENT_TABLE} a
  JOIN {SEAT_TABLE} p ON p.study_id = a.study_id AND p.reviewer_id = a.reviewer_id
  JOIN {STUDY_TABLE} s ON s.id = a.study_id
  JOIN {Domain._meta.db_table} d ON d.study_id = a.study_id
  JOIN wanted w ON w.key = d.key
  WHERE a.code = %(code)s AND a.reviewer_id = %(reviewer)s AND a.status = ANY(%(writable)s)
    AND p.active AND w.score BETWEEN s.scale_min AND s.scale_max
    AND a.study_id = {OPEN_STUDY_OF_CODE_SQL}
  FOR NO KEY UPDATE OF a FOR SHARE OF p
), complete AS (
  SELECT COUNT(*) = %(wanted)s AS ok FROM target
), saved AS (
  INSERT INTO {RATING_TABLE} (assignment_id, domain_id, score, updated_at)
  SELECT assignment_id, domain_id, score, %(now)s FROM target WHERE (SELECT ok FROM complete)
  {_UPSERT_TAIL}
), opened AS (
  UPDATE {ASSIGNMENT_TABLE} a SET status = %(in_progress)s, first_opened_at = %(now)s
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
        submitted = assignment_submit_statements(
            reviewer_id=reviewer_id, code=code, comment=comment, client_ms=0, with_next=False
        )
        if submitted is None:
            # A refused submit keeps none of its scores: all or nothing, as the API says.
            transaction.set_rollback(True)
        return submitted


def assignment_ratings_put(
    *, assignment: Assignment, scores: dict[str, Any], comment: str | None = None
) -> Assignment:
    """Save several scores and the comment at once, all or nothing (the API's PUT)."""
    assignment_require_open(assignment=assignment)
    with transaction.atomic():
        state = assignment_lock(assignment=assignment)
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
    """Every score of a PUT in one statement (the caller holds `assignment_lock` on an
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
            f"INSERT INTO {RATING_TABLE} (assignment_id, domain_id, score, updated_at) VALUES "  # noqa: S608 (table name from the model, values bound)
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
