"""Reads for the reviewer's "My reports" queue, the study instructions, and the
coordinator's view of calibration, attention checks and "cannot assess" flags.

The reviewer-side functions follow review.selectors' blinding rule: plain dataclasses with
codes, statuses and times — never a Report, its source or provenance.
"""

from dataclasses import dataclass
from datetime import datetime
from statistics import mean

from django.contrib.auth.models import User
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Greatest
from django.http import Http404

from review.models import (
    Assignment,
    CannotAssess,
    Domain,
    Rating,
    Study,
    StudyReport,
    StudyReviewer,
)


@dataclass(frozen=True)
class QueueRow:
    code: str
    report_code: str
    position: int
    status: str
    status_label: str
    is_calibration: bool
    last_change: datetime


@dataclass(frozen=True)
class ReviewerQueue:
    study_code: str
    study_name: str
    study_open: bool
    rows: list[QueueRow]
    counts: dict[str, int]


def reviewer_queue_page(*, reviewer: User, study_code: str, status: str = "") -> ReviewerQueue:
    """The reviewer's queue in one study with each report's rank (1, 2, 3… whatever gaps a
    handed-back report left in the stored positions), status and last change (the later of
    the assignment's own change and its latest score), in two queries. 404 if the
    reviewer has nothing in that study (or it is a draft)."""
    study = (
        Study.objects.filter(
            code=study_code,
            assignments__reviewer=reviewer,
            status__in=[Study.Status.OPEN, Study.Status.CLOSED],
        )
        .values("pk", "name", "status")
        .first()
    )
    if study is None:
        raise Http404
    rows = [
        QueueRow(
            code=row["code"],
            report_code=row["display_code"] or row["report__code"],
            position=rank,
            status=row["status"],
            status_label=str(Assignment.Status(row["status"]).label),
            is_calibration=row["kind"] == Assignment.Kind.CALIBRATION,
            last_change=row["last_change"],
        )
        for rank, row in enumerate(
            Assignment.objects.filter(reviewer=reviewer, study_id=study["pk"])
            .annotate(
                last_change=Greatest(
                    F("updated_at"),
                    Max("ratings__updated_at", default=F("updated_at")),
                )
            )
            .order_by("position")
            .values("code", "display_code", "report__code", "status", "kind", "last_change"),
            start=1,
        )
    ]
    counts = {value: 0 for value in Assignment.Status.values}
    for row in rows:
        counts[row.status] += 1
    if status in Assignment.Status.values:
        rows = [row for row in rows if row.status == status]
    return ReviewerQueue(
        study_code=study_code,
        study_name=study["name"],
        study_open=study["status"] == Study.Status.OPEN,
        rows=rows,
        counts=counts,
    )


@dataclass(frozen=True)
class DomainGuidance:
    label: str
    help_text: str
    anchor_low: str
    anchor_high: str
    examples: list[tuple[int, str]]


@dataclass(frozen=True)
class StudyInstructions:
    study_code: str
    study_name: str
    instructions: str
    domains: list[DomainGuidance]
    next_code: str | None
    started: bool


def study_instructions_for_reviewer(
    *, reviewer: User, study_code: str, language: str | None
) -> StudyInstructions:
    """What a reviewer reads before their first report: the study's instructions in their
    language (English when there is no French text), and each domain's anchors and examples."""
    study = Study.objects.filter(
        code=study_code,
        assignments__reviewer=reviewer,
        status__in=[Study.Status.OPEN, Study.Status.CLOSED],
    ).first()
    if study is None:
        raise Http404
    text = study.instructions_fr if (language or "")[:2] == "fr" and study.instructions_fr else ""
    middle = (study.scale_min + study.scale_max) // 2
    domains = []
    for domain in Domain.objects.filter(study=study).order_by("order", "id"):
        examples = [
            (score, domain.localized(field, language))
            for score, field in (
                (study.scale_min, "example_low"),
                (middle, "example_mid"),
                (study.scale_max, "example_high"),
            )
            if domain.localized(field, language)
        ]
        domains.append(
            DomainGuidance(
                label=domain.localized("label", language),
                help_text=domain.localized("help_text", language),
                anchor_low=domain.localized("anchor_low", language),
                anchor_high=domain.localized("anchor_high", language),
                examples=examples,
            )
        )
    own = Assignment.objects.filter(study=study, reviewer=reviewer)
    next_code = (
        own.exclude(status=Assignment.Status.SUBMITTED)
        .order_by("position")
        .values_list("code", flat=True)
        .first()
    )
    return StudyInstructions(
        study_code=study.code,
        study_name=study.name,
        instructions=text or study.instructions,
        domains=domains,
        next_code=next_code,
        started=own.filter(first_opened_at__isnull=False).exists(),
    )


# ---------------------------------------------------------------------------------------
# Coordinator side
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CannotAssessRow:
    report_code: str
    reviewer: str
    reason: str
    note: str
    reassigned_to: str
    created_at: datetime


def study_cannot_assess(*, study: Study) -> list[CannotAssessRow]:
    """Every report handed back in the study, reviewers by pseudonym, in one query."""
    seat = StudyReviewer.objects.filter(study=study)
    rows = (
        CannotAssess.objects.filter(study=study)
        .annotate(
            reviewer_pseudonym=Subquery(
                seat.filter(reviewer_id=OuterRef("reviewer_id")).values("pseudonym")[:1]
            ),
            reassigned_pseudonym=Subquery(
                seat.filter(reviewer_id=OuterRef("reassigned_to_id")).values("pseudonym")[:1]
            ),
        )
        .values_list(
            "report__code",
            "reviewer_pseudonym",
            "reason",
            "note",
            "reassigned_pseudonym",
            "created_at",
        )
    )
    return [
        CannotAssessRow(
            report_code=code,
            reviewer=reviewer or "?",
            reason=str(CannotAssess.Reason(reason).label),
            note=note,
            reassigned_to=reassigned or "",
            created_at=created_at,
        )
        for code, reviewer, reason, note, reassigned, created_at in rows
    ]


@dataclass(frozen=True)
class ReviewerAgreement:
    """A reviewer's agreement with a reference: the panel's scores for calibration items,
    their own first scores for attention checks (test–retest)."""

    pseudonym: str
    pairs: int
    mean_abs_difference: float | None
    within_one: float | None


def _agreement(pseudonym: str, pairs: list[tuple[int, int]]) -> ReviewerAgreement:
    if not pairs:
        return ReviewerAgreement(pseudonym, 0, None, None)
    differences = [abs(a - b) for a, b in pairs]
    return ReviewerAgreement(
        pseudonym=pseudonym,
        pairs=len(pairs),
        mean_abs_difference=round(mean(differences), 2),
        within_one=round(sum(d <= 1 for d in differences) / len(differences), 3),
    )


def study_calibration_agreement(*, study: Study) -> list[ReviewerAgreement]:
    """Per reviewer: submitted calibration scores against the reference scores."""
    references = {
        report_id: scores
        for report_id, scores in StudyReport.objects.filter(
            study=study, role=StudyReport.Role.CALIBRATION
        ).values_list("report_id", "reference_scores")
    }
    if not references:
        return []
    pairs: dict[str, list[tuple[int, int]]] = {
        seat.pseudonym: [] for seat in study.panel.all().order_by("pseudonym")
    }
    seats = dict(study.panel.values_list("reviewer_id", "pseudonym"))
    for reviewer_id, report_id, key, score in Rating.objects.filter(
        assignment__study=study,
        assignment__kind=Assignment.Kind.CALIBRATION,
        assignment__status=Assignment.Status.SUBMITTED,
    ).values_list("assignment__reviewer_id", "assignment__report_id", "domain__key", "score"):
        reference = references.get(report_id, {}).get(key)
        if reference is not None and reviewer_id in seats:
            pairs[seats[reviewer_id]].append((score, int(reference)))
    return [_agreement(pseudonym, values) for pseudonym, values in pairs.items()]


def study_test_retest(*, study: Study) -> list[ReviewerAgreement]:
    """Per reviewer: the scores of each attention check against the same reviewer's scores
    of the same report and domain the first time, both submitted."""
    if not study.attention_checks:
        return []
    seats = dict(study.panel.values_list("reviewer_id", "pseudonym"))
    scores: dict[tuple[int, int, str, str], int] = {}
    for reviewer_id, report_id, kind, key, score in Rating.objects.filter(
        Q(assignment__kind=Assignment.Kind.REGULAR) | Q(assignment__kind=Assignment.Kind.ATTENTION),
        assignment__study=study,
        assignment__status=Assignment.Status.SUBMITTED,
    ).values_list(
        "assignment__reviewer_id",
        "assignment__report_id",
        "assignment__kind",
        "domain__key",
        "score",
    ):
        scores[(reviewer_id, report_id, key, kind)] = score
    pairs: dict[str, list[tuple[int, int]]] = {
        pseudonym: [] for pseudonym in sorted(seats.values())
    }
    for (reviewer_id, report_id, key, kind), score in scores.items():
        if kind != Assignment.Kind.ATTENTION or reviewer_id not in seats:
            continue
        first = scores.get((reviewer_id, report_id, key, Assignment.Kind.REGULAR))
        if first is not None:
            pairs[seats[reviewer_id]].append((first, score))
    return [_agreement(pseudonym, values) for pseudonym, values in pairs.items()]
