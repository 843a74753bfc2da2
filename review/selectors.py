"""Reads for the review app.

Blinding is enforced here. Every reviewer-facing page, partial and API response gets its
data from the `reviewer_*`/`queue_*` functions below, which return plain dataclasses holding
only what a reviewer may see: codes, the normalised text, the domains, their own ratings.
No `Report` instance (and so no source, provenance, id or timestamp) leaves this module on
the reviewer side. Objects that are not the reviewer's raise Http404, so existence does not
leak either.
"""

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    Func,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404

from review.blinding.presentation import Block, blocks_text, report_blocks
from review.blinding.surface import SurfaceCue, surface_cues
from review.conventions import Conventions
from review.models import (
    Assignment,
    AuditEvent,
    Domain,
    Rating,
    Report,
    ReportSearch,
    Study,
    StudyReport,
    StudyReviewer,
)
from review.search_index import SEARCH_CONFIGS
from review.services import audit_log
from review.text_folding import fold

# ---------------------------------------------------------------------------------------
# Reviewer side (blinded)
# ---------------------------------------------------------------------------------------


def _seated(reviewer: User, study=None):
    """An active seat on the study's panel: part of every reviewer read, so a reviewer
    removed from a study no longer sees or opens anything of it (404, as for any object
    that is not theirs)."""
    return Exists(
        StudyReviewer.objects.filter(
            study=OuterRef(study or "study"), reviewer_id=reviewer.pk, active=True
        )
    )


@dataclass(frozen=True)
class ReviewerStudy:
    code: str
    name: str
    description: str
    is_open: bool
    total: int
    submitted: int
    next_assignment_code: str | None
    has_instructions: bool = False

    @property
    def percent(self) -> int:
        return round(100 * self.submitted / self.total) if self.total else 0


@dataclass(frozen=True)
class BlindedDomain:
    key: str
    label: str
    help_text: str
    anchor_low: str
    anchor_high: str
    score: int | None
    example_low: str = ""
    example_mid: str = ""
    example_high: str = ""
    # Calibration items, once submitted: the panel's reference score for this domain.
    reference_score: int | None = None


@dataclass(frozen=True)
class BlindedAssignment:
    code: str
    report_code: str
    study_code: str
    study_name: str
    study_open: bool
    status: str
    position: int
    queue_length: int
    submitted_count: int
    # The report as the rating page renders it, and the same structure as plain text (what
    # the API returns): both normalised here, so no serializer or template re-formats it.
    blocks: list[Block]
    text: str
    domains: list[BlindedDomain]
    scale: list[int]
    comment: str
    previous_code: str | None
    next_code: str | None
    next_unrated_code: str | None = None
    scale_min: int = 1
    scale_max: int = 10
    extra: dict = field(default_factory=dict)
    kind: str = Assignment.Kind.REGULAR

    @property
    def is_submitted(self) -> bool:
        return self.status == Assignment.Status.SUBMITTED

    @property
    def is_calibration(self) -> bool:
        return self.kind == Assignment.Kind.CALIBRATION

    @property
    def scores_editable(self) -> bool:
        """Open study; a calibration item is frozen once submitted (references shown)."""
        return self.study_open and not (self.is_calibration and self.is_submitted)

    @property
    def is_complete(self) -> bool:
        return all(domain.score is not None for domain in self.domains)


@dataclass(frozen=True)
class QueueEntry:
    code: str
    report_code: str
    position: int
    status: str


def reviewer_studies(*, reviewer: User) -> list[ReviewerStudy]:
    """The studies on a reviewer's home page, with progress and next report, in one query."""
    own = Assignment.objects.filter(study=OuterRef("pk"), reviewer=reviewer)
    # Counted in subqueries on the reviewer's own queue (index assign_queue), not by joining
    # every assignment of the study: the page costs the same in a study of 100 or 100,000.
    studies = (
        Study.objects.filter(
            Exists(own),
            _seated(reviewer, study="pk"),
            status__in=[Study.Status.OPEN, Study.Status.CLOSED],
        )
        .annotate(
            total=Subquery(own.order_by().values("study").annotate(n=Count("pk")).values("n")),
            submitted=Subquery(
                own.filter(status=Assignment.Status.SUBMITTED)
                .order_by()
                .values("study")
                .annotate(n=Count("pk"))
                .values("n")
            ),
            next_code=Subquery(
                own.exclude(status=Assignment.Status.SUBMITTED)
                .order_by("position")
                .values("code")[:1]
            ),
        )
        .order_by("-status", "name")
    )
    return [
        ReviewerStudy(
            code=study.code,
            name=study.name,
            description=study.description,
            is_open=study.status == Study.Status.OPEN,
            total=study.total or 0,
            submitted=study.submitted or 0,
            next_assignment_code=study.next_code,
            has_instructions=bool(study.instructions or study.instructions_fr),
        )
        for study in studies
    ]


def queue_next_for_reviewer(*, reviewer: User, study_code: str) -> str | None:
    """The code of the reviewer's first unsubmitted assignment in the study, or None when
    they are done. 404 if the reviewer has nothing in that study."""
    own = Assignment.objects.filter(_seated(reviewer), reviewer=reviewer, study__code=study_code)
    rows = list(
        own.exclude(status=Assignment.Status.SUBMITTED)
        .order_by("position")
        .values_list("code", flat=True)[:1]
    )
    if rows:
        return rows[0]
    if not own.exists():
        raise Http404
    return None


def reviewer_queue_rows(*, reviewer: User, study_code: str | None = None, status: str = ""):
    """A reviewer's assignments in queue order as (code, shown report code, rank, status)
    rows: a lazy queryset, so a paginated answer reads one page of it. The rank is the
    position in the study's queue (1, 2, 3… without gaps), as on the rating page, counted
    over the whole queue whatever the status filter (index assign_queue)."""
    assignments = Assignment.objects.filter(_seated(reviewer), reviewer=reviewer).exclude(
        study__status=Study.Status.DRAFT
    )
    if study_code:
        assignments = assignments.filter(study__code=study_code)
    if status:
        assignments = assignments.filter(status=status)
    rank = Subquery(
        Assignment.objects.filter(
            study_id=OuterRef("study_id"), reviewer=reviewer, position__lte=OuterRef("position")
        )
        .order_by()
        .values("study_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        assignments.order_by("study__name", "study_id", "position")
        # An attention check shows its own code, never the repeated report's.
        .annotate(shown_code=Coalesce(NullIf("display_code", Value("")), "report__code"))
        .annotate(rank=rank)
        .values_list("code", "shown_code", "rank", "status")
    )


def queue_entries(rows) -> list[QueueEntry]:
    return [
        QueueEntry(code=code, report_code=report_code, position=position, status=status)
        for code, report_code, position, status in rows
    ]


def reviewer_queue(*, reviewer: User, study_code: str | None = None) -> list[QueueEntry]:
    """A reviewer's assignments in queue order: code, position, status — nothing else."""
    return queue_entries(reviewer_queue_rows(reviewer=reviewer, study_code=study_code))


def assignment_for_reviewer_update(*, reviewer: User, code: str) -> Assignment:
    """The reviewer's own assignment, for passing to a service (never to a template).
    The services check the seat again under lock, as the removal may come in between."""
    try:
        return Assignment.objects.select_related("study").get(
            _seated(reviewer),
            code=code,
            reviewer=reviewer,
            study__status__in=[Study.Status.OPEN, Study.Status.CLOSED],
        )
    except Assignment.DoesNotExist:
        raise Http404 from None


def _blinded_domain(
    domain: Domain, score: int | None, language: str | None, reference: int | None = None
) -> BlindedDomain:
    return BlindedDomain(
        key=domain.key,
        label=domain.localized("label", language),
        help_text=domain.localized("help_text", language),
        anchor_low=domain.localized("anchor_low", language),
        anchor_high=domain.localized("anchor_high", language),
        score=score,
        example_low=domain.localized("example_low", language),
        example_mid=domain.localized("example_mid", language),
        example_high=domain.localized("example_high", language),
        reference_score=reference,
    )


# The rating page is the most requested page of the app. Its main read is written in SQL:
# built by the ORM (five correlated subqueries) it cost ~5 ms of CPU per request to compose,
# against ~0.2 ms to run. Portable SQL (PostgreSQL and SQLite); each subquery is served by
# the queue indexes (tests/review/test_query_plans.py). Of the report, only its code, text
# and language (for the house style) are read, with the study's house-style conventions. The
# position shown is the rank in the queue, not the stored position: a report handed back
# ("cannot assess") leaves a gap there.
_RATING_PAGE_SQL = f"""
SELECT a.id, a.code, a.status,
       (SELECT COUNT(*) FROM {Assignment._meta.db_table} q
         WHERE q.study_id = a.study_id AND q.reviewer_id = a.reviewer_id
           AND q.position <= a.position),
       a.comment, a.kind, a.report_id,
       s.id, s.code, s.name, s.status, s.scale_min, s.scale_max,
       COALESCE(NULLIF(a.display_code, ''), r.code), r.text, r.language, s.house_style,
       (SELECT COUNT(*) FROM {Assignment._meta.db_table} q
         WHERE q.study_id = a.study_id AND q.reviewer_id = a.reviewer_id),
       (SELECT COUNT(*) FROM {Assignment._meta.db_table} q
         WHERE q.study_id = a.study_id AND q.reviewer_id = a.reviewer_id AND q.status = %s),
       (SELECT q.code FROM {Assignment._meta.db_table} q
         WHERE q.study_id = a.study_id AND q.reviewer_id = a.reviewer_id
           AND q.position < a.position ORDER BY q.position DESC LIMIT 1),
       (SELECT q.code FROM {Assignment._meta.db_table} q
         WHERE q.study_id = a.study_id AND q.reviewer_id = a.reviewer_id
           AND q.position > a.position ORDER BY q.position LIMIT 1),
       (SELECT q.code FROM {Assignment._meta.db_table} q
         WHERE q.study_id = a.study_id AND q.reviewer_id = a.reviewer_id
           AND NOT (q.status = %s) AND q.id <> a.id ORDER BY q.position LIMIT 1)
FROM {Assignment._meta.db_table} a
JOIN {Study._meta.db_table} s ON s.id = a.study_id
JOIN {Report._meta.db_table} r ON r.id = a.report_id
WHERE a.code = %s AND a.reviewer_id = %s AND s.status IN (%s, %s)
  AND EXISTS (SELECT 1 FROM {StudyReviewer._meta.db_table} p
               WHERE p.study_id = a.study_id AND p.reviewer_id = a.reviewer_id AND p.active)
"""  # noqa: S608 (table names come from the models; every value is a bound parameter)


def reviewer_assignment(
    *, reviewer: User, code: str, language: str | None = None
) -> BlindedAssignment:
    """Everything the rating page shows, blinded. 404 if the assignment is not theirs.

    Two queries whatever the size of the study: the assignment with its report's code and
    text, its study and its queue neighbours; then the domains with this assignment's scores.
    """
    submitted = Assignment.Status.SUBMITTED.value
    with connection.cursor() as cursor:
        cursor.execute(
            _RATING_PAGE_SQL,
            [
                submitted,
                submitted,
                code,
                reviewer.pk,
                Study.Status.OPEN.value,
                Study.Status.CLOSED.value,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        raise Http404
    return _blinded_assignment(row, language)


# The API's "next" (GET /api/v1/me/next/): the same read, the assignment being the reviewer's
# first unsubmitted one in queue order (index assign_queue), found in the same statement.
_NEXT_ASSIGNMENT_SQL = _RATING_PAGE_SQL.replace(
    "WHERE a.code = %s AND a.reviewer_id = %s",
    f"""WHERE a.id = (SELECT q.id FROM {Assignment._meta.db_table} q
                 JOIN {Study._meta.db_table} qs ON qs.id = q.study_id
                WHERE qs.code = %s AND q.reviewer_id = %s AND NOT (q.status = %s)
                ORDER BY q.position LIMIT 1) AND a.reviewer_id = %s""",  # noqa: S608 (names from the models, values bound)
    1,
)
assert _NEXT_ASSIGNMENT_SQL != _RATING_PAGE_SQL


def reviewer_next_assignment(
    *, reviewer: User, study_code: str, language: str | None = None
) -> BlindedAssignment | None:
    """The reviewer's next unsubmitted assignment in the study with everything the rating
    page shows (blinded text and domains), in two queries; None when every one is
    submitted (one more query to tell that apart from a study that is not theirs: 404)."""
    submitted = Assignment.Status.SUBMITTED.value
    with connection.cursor() as cursor:
        cursor.execute(
            _NEXT_ASSIGNMENT_SQL,
            [
                submitted,
                submitted,
                study_code,
                reviewer.pk,
                submitted,
                reviewer.pk,
                Study.Status.OPEN.value,
                Study.Status.CLOSED.value,
            ],
        )
        row = cursor.fetchone()
    if row is not None:
        return _blinded_assignment(row, language)
    if not Assignment.objects.filter(
        _seated(reviewer),
        reviewer=reviewer,
        study__code=study_code,
        study__status__in=[Study.Status.OPEN, Study.Status.CLOSED],
    ).exists():
        raise Http404
    return None


@lru_cache(maxsize=512)
def _presented(text: str, language: str, house_style: str) -> tuple[tuple[Block, ...], str]:
    """A report as the rating page and the API show it. Reports are never edited, and the
    normalisation costs ~1.3 ms for 2,500 characters: the API's next, PUT and submit each
    answer with the same report, so it is computed once per process and report. Keyed by
    the text itself; the blocks are read, never changed, by templates and serializers."""
    conventions = Conventions.from_json(json.loads(house_style))
    blocks = tuple(report_blocks(text, language=language, conventions=conventions))
    return blocks, blocks_text(list(blocks))


_DOMAIN_FIELDS = Domain._meta.concrete_fields
_DOMAINS_WITH_SCORES_SQL = f"""
SELECT {", ".join(f"d.{connection.ops.quote_name(str(f.column))}" for f in _DOMAIN_FIELDS)},
       (SELECT r.score FROM {Rating._meta.db_table} r
         WHERE r.assignment_id = %s AND r.domain_id = d.id)
FROM {Domain._meta.db_table} d
WHERE d.study_id = %s ORDER BY d.{connection.ops.quote_name("order")}, d.id
"""  # noqa: S608 (names from the models, values bound)


def _domains_with_scores(*, study_id: int, assignment_id: int) -> list[tuple[Domain, int | None]]:
    """A study's domains in their order, each with the assignment's score (or None). In
    SQL: the ORM's version (a subquery annotation) cost ~1 ms of CPU per request to compose,
    and every response of the rating flow carries the domains."""
    with connection.cursor() as cursor:
        cursor.execute(_DOMAINS_WITH_SCORES_SQL, [assignment_id, study_id])
        rows = cursor.fetchall()
    return [(Domain.from_raw_row(values), score) for *values, score in rows]


def _blinded_assignment(row: tuple, language: str | None) -> BlindedAssignment:
    (
        assignment_id,
        assignment_code,
        status,
        position,
        comment,
        kind,
        report_id,
        study_id,
        study_code,
        study_name,
        study_status,
        scale_min,
        scale_max,
        report_code,
        text,
        report_language,
        house_style,
        queue_length,
        submitted_count,
        previous_code,
        next_code,
        next_unrated_code,
    ) = row
    # Only for a submitted calibration item: the panel's reference scores (one more query).
    references: dict = {}
    if kind == Assignment.Kind.CALIBRATION and status == Assignment.Status.SUBMITTED:
        references = (
            StudyReport.objects.filter(study_id=study_id, report_id=report_id)
            .values_list("reference_scores", flat=True)
            .first()
        ) or {}
    domains = [
        _blinded_domain(domain, own_score, language, references.get(domain.key))
        for domain, own_score in _domains_with_scores(
            study_id=study_id, assignment_id=assignment_id
        )
    ]
    # The house style of the report's own language (not the reviewer's interface language),
    # with the study's conventions (jsonb arrives as text through a raw cursor).
    if not isinstance(house_style, str):
        house_style = json.dumps(house_style, sort_keys=True)
    blocks, plain = _presented(text, report_language, house_style)
    return BlindedAssignment(
        code=assignment_code,
        report_code=report_code,
        study_code=study_code,
        study_name=study_name,
        study_open=study_status == Study.Status.OPEN,
        status=status,
        position=position,
        queue_length=queue_length,
        submitted_count=submitted_count,
        blocks=list(blocks),
        text=plain,
        domains=domains,
        scale=list(range(scale_min, scale_max + 1)),
        comment=comment,
        previous_code=previous_code,
        next_code=next_code,
        next_unrated_code=next_unrated_code,
        scale_min=scale_min,
        scale_max=scale_max,
        kind=kind,
    )


def reviewer_domain(
    *, reviewer: User, code: str, domain_key: str, language: str | None = None
) -> BlindedDomain:
    """One domain row of the rating page (for the htmx swap after a save), in one query."""
    try:
        domain = (
            Domain.objects.filter(
                _seated(reviewer),
                key=domain_key,
                study__assignments__code=code,
                study__assignments__reviewer=reviewer,
            )
            .annotate(
                own_score=Subquery(
                    Rating.objects.filter(assignment__code=code, domain=OuterRef("pk")).values(
                        "score"
                    )[:1]
                )
            )
            .get()
        )
    except Domain.DoesNotExist:
        raise Http404 from None
    return _blinded_domain(domain, domain.own_score, language)


def reviewer_domain_saved_row(
    *, domain: Domain, score: int, language: str | None = None
) -> BlindedDomain:
    """The domain row after `services.score_save_in_one_statement`: no query."""
    return _blinded_domain(domain, score, language)


def reviewer_domain_saved(*, rating: Rating, language: str | None = None) -> BlindedDomain:
    """The domain row right after `rating_save` returned `rating`: no query needed, the
    saved score is the one to show."""
    return _blinded_domain(rating.domain, rating.score, language)


# ---------------------------------------------------------------------------------------
# Coordinator side (sees sources and provenance)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewerProgress:
    reviewer_id: int
    pseudonym: str
    username: str
    active: bool
    total: int
    submitted: int
    in_progress: int
    # Active reading time over all their assignments of the study, in milliseconds.
    active_ms: int
    # The reviewer's latest opening, score or submission in this study (None: never).
    last_activity: datetime | None = None

    @property
    def percent(self) -> int:
        return round(100 * self.submitted / self.total) if self.total else 0


def study_list(*, status: str | None = None):
    studies = Study.objects.annotate(
        report_count=Count("memberships", distinct=True),
        reviewer_count=Count("panel", filter=Q(panel__active=True), distinct=True),
    ).order_by("-created_at")
    if status:
        studies = studies.filter(status=status)
    return studies


def study_progress(*, study: Study) -> list[ReviewerProgress]:
    """Per-reviewer progress of a study, in one query."""
    rows = (
        StudyReviewer.objects.filter(study=study)
        .select_related("reviewer")
        .annotate(
            total=Count("reviewer__assignments", filter=Q(reviewer__assignments__study=study)),
            submitted=Count(
                "reviewer__assignments",
                filter=Q(
                    reviewer__assignments__study=study,
                    reviewer__assignments__status=Assignment.Status.SUBMITTED,
                ),
            ),
            in_progress=Count(
                "reviewer__assignments",
                filter=Q(
                    reviewer__assignments__study=study,
                    reviewer__assignments__status=Assignment.Status.IN_PROGRESS,
                ),
            ),
            reading_ms=Sum(
                "reviewer__assignments__active_ms",
                filter=Q(reviewer__assignments__study=study),
            ),
            last_opened=Max(
                "reviewer__assignments__first_opened_at",
                filter=Q(reviewer__assignments__study=study),
            ),
            last_submitted=Max(
                "reviewer__assignments__submitted_at",
                filter=Q(reviewer__assignments__study=study),
            ),
            # A subquery, not a join: joining ratings would multiply the counts above.
            last_scored=Subquery(
                Rating.objects.filter(
                    assignment__study=study, assignment__reviewer=OuterRef("reviewer")
                )
                .order_by("-updated_at")
                .values("updated_at")[:1]
            ),
        )
        .order_by("pseudonym")
    )
    return [
        ReviewerProgress(
            reviewer_id=row.reviewer_id,
            pseudonym=row.pseudonym,
            username=row.reviewer.get_username(),
            active=row.active,
            total=row.total,
            submitted=row.submitted,
            in_progress=row.in_progress,
            active_ms=row.reading_ms or 0,
            last_activity=max(
                (t for t in (row.last_opened, row.last_submitted, row.last_scored) if t),
                default=None,
            ),
        )
        for row in rows
    ]


def study_source_counts(*, study: Study) -> dict[str, int]:
    counts = dict(
        study.reports.values_list("source").annotate(n=Count("id")).values_list("source", "n")
    )
    return {source: counts.get(source, 0) for source in Report.Source.values}


def _fulltext_match(search: str) -> Q:
    """Reports whose text matches `search` (web-search syntax: words, "phrases", -word) in
    its own language, stemmed, with or without its accents.

    The built-in configuration stems accented endings ("hospitalisation" finds
    "hospitalisée"); its unaccent copy makes accents optional on either side ("pemetrexed"
    finds "pémétrexed", "pémétrexed" finds "pemetrexed", "metastases" finds "Métastases").
    A report matching either is found. "métastases" does not find "métastatique": the
    French snowball stemmer keeps "métastat" apart from "métastas"."""
    match = Q()
    for language in SEARCH_CONFIGS:
        match |= Q(pk__in=fulltext_matching(language=language, search=search).values("pk"))
    return match


def fulltext_matching(*, language: str, search: str):
    """The reports in `language` whose text matches `search` by either configuration: those
    indexed through their stored vectors (GIN indexes), the few not indexed yet (an import
    of the last seconds, review.search_index) through vectors computed here."""
    config, folded = SEARCH_CONFIGS[language]
    stemmed_query = SearchQuery(search, config=config, search_type="websearch")
    unaccented_query = SearchQuery(search, config=folded, search_type="websearch")
    indexed = ReportSearch.objects.filter(
        Q(stemmed=stemmed_query) | Q(unaccented=unaccented_query)
    ).values("report_id")
    not_indexed = (
        Report.objects.filter(language=language, search__isnull=True)
        .annotate(
            stemmed=SearchVector("text", config=config),
            unaccented=SearchVector("text", config=folded),
        )
        .filter(Q(stemmed=stemmed_query) | Q(unaccented=unaccented_query))
        .values("pk")
    )
    return Report.objects.filter(language=language).filter(
        Q(pk__in=indexed) | Q(pk__in=not_indexed)
    )


def report_list(*, source: str | None = None, search: str = ""):
    """Coordinators' report list, newest first. `search` matches a code or an external id
    (part of it) or, on PostgreSQL, the text by full-text search in the report's language;
    the embedded SQLite of the demo falls back to a substring that ignores case and
    accents (review_fold, review.text_folding), without stemming."""
    reports = Report.objects.select_related("report_import").order_by("-created_at", "-id")
    if source:
        reports = reports.filter(source=source)
    if search:
        match = Q(code__icontains=search) | Q(external_id__icontains=search)
        if connection.vendor == "postgresql":
            match |= _fulltext_match(search)
        else:
            folded = Func(F("text"), function="review_fold", output_field=TextField())
            match |= Q(
                pk__in=Report.objects.annotate(folded=folded)
                .filter(folded__contains=fold(search))
                .values("pk")
            )
        reports = reports.filter(match)
    return reports


def report_for_coordinator(
    *,
    code: str,
    actor: AbstractBaseUser | AnonymousUser | None,
    details: dict[str, Any] | None = None,
) -> Report:
    """A report with its source and provenance, for a coordinator's page or API response.

    Reading it unblinds the report, so every such read goes through here and leaves a
    "report.unblinded_view" audit entry: the audit trail must show who saw which report's
    source, whichever route they took (page, API, generation item). 404, and nothing
    logged, when no report has this code.
    """
    try:
        report = Report.objects.select_related("report_import").get(code=code)
    except Report.DoesNotExist:
        raise Http404 from None
    audit_log(actor=actor, action="report.unblinded_view", target=report.code, details=details)
    return report


def report_list_unblinded(
    *, actor: AbstractBaseUser | AnonymousUser | None, codes: list[str], where: str
) -> None:
    """Record that a list showing these reports' sources was read (the API's list, the
    reports page, the admin): one "report.unblinded_view" entry per page read, naming every
    report on it, as `report_for_coordinator` does for one report."""
    audit_log(
        actor=actor,
        action="report.unblinded_view",
        target=f"{where}:list",
        details={"reports": codes},
    )


@dataclass(frozen=True)
class StudySurface:
    """Surface cues of a study's reports per source, for the coordinator's study page."""

    cues: list[SurfaceCue]

    @property
    def warn(self) -> bool:
        return any(cue.warn for cue in self.cues)


# Cues read and parse every report's text (about 5 s for 10,000 reports): computed once per
# set of member reports, not on every view of the study page. Reports are never edited, so
# the membership (count and latest row) identifies what the cues were computed from.
SURFACE_CACHE_SECONDS = 24 * 3600
# Bumped whenever the cached objects' class moves or changes shape: an entry pickled
# under the old one would fail to load after a deploy.
_SURFACE_CACHE_VERSION = 2


def study_surface_cues(*, study: Study) -> StudySurface:
    """The study's surface cues (`review.blinding.surface`), cached per set of member
    reports: one query when the cache holds them, two when they are computed."""
    members = study.memberships.aggregate(n=Count("id"), last=Max("id"))
    key = f"blinding-surface:v{_SURFACE_CACHE_VERSION}:{study.pk}:{members['n']}:{members['last']}"
    cues = cache.get(key)
    if cues is None:
        cues = surface_cues(study=study)
        cache.set(key, cues, timeout=SURFACE_CACHE_SECONDS)
    return StudySurface(cues=cues)


@dataclass(frozen=True)
class StoredSurface:
    """The surface cues as last computed in the background: None while the first
    computation runs; `stale` while a newer one is under way; `computed_at` for the age."""

    surface: StudySurface | None
    computed_at: datetime | None = None
    stale: bool = False

    @property
    def cues(self) -> list[SurfaceCue]:
        return self.surface.cues if self.surface else []

    @property
    def warn(self) -> bool:
        return bool(self.surface and self.surface.warn)

    @property
    def computing(self) -> bool:
        return self.surface is None


def study_surface_stored(*, study: Study) -> StoredSurface:
    """The study's surface cues from their stored computation (two queries); schedules a
    refresh when they are missing or stale."""
    from review.computations import computation_read

    stored = computation_read(study=study, kind="surface")
    if stored is None:
        return StoredSurface(surface=None)
    return StoredSurface(
        surface=StudySurface(cues=stored.value), computed_at=stored.computed_at, stale=stored.stale
    )


@dataclass(frozen=True)
class AuditFilter:
    study_code: str = ""
    username: str = ""
    action: str = ""  # a prefix: "study." gives every study action
    date_from: date | None = None
    date_to: date | None = None  # inclusive


def audit_events(*, where: AuditFilter | None = None):
    """Audit events newest first, filtered by the study's code (as shown on every page),
    the actor's login, an action prefix and a date range (local dates, inclusive)."""
    where = where or AuditFilter()
    events = AuditEvent.objects.select_related("actor", "study").order_by("-created_at", "-id")
    if where.study_code:
        events = events.filter(study__code__iexact=where.study_code.strip())
    if where.username:
        events = events.filter(actor__username__iexact=where.username.strip())
    if where.action:
        events = events.filter(action__startswith=where.action.strip())
    if where.date_from:
        events = events.filter(created_at__date__gte=where.date_from)
    if where.date_to:
        events = events.filter(created_at__date__lte=where.date_to)
    return events
