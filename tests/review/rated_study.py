"""Build an open study whose assignments are all rated and submitted (bulk, for speed)."""

from django.utils import timezone

from review import services
from review.models import Assignment, Domain, Rating, Study
from tests.factories import ReportFactory, SyntheticReportFactory


def rated_study(*, coordinator, reviewers, n_real: int, n_synthetic: int, k: int = 2, score=None):
    """`score(report, reviewer_index, domain_key) -> int` decides every score (default 7)."""
    study = services.study_create(
        name="Rated study", created_by=coordinator, raters_per_report=k, seed=5
    )
    reports = ReportFactory.create_batch(n_real) + SyntheticReportFactory.create_batch(n_synthetic)
    services.study_reports_add(study=study, reports=reports)
    services.study_reviewers_set(study=study, reviewers=reviewers)
    services.study_open(study=study, actor=coordinator)
    submit_all(study, score=score)
    return study


def submit_all(study: Study, *, score=None) -> None:
    domains = list(Domain.objects.filter(study=study))
    order = {r.pk: i for i, r in enumerate(reviewers_of(study))}
    assignments = list(Assignment.objects.filter(study=study).select_related("report"))
    Rating.objects.bulk_create(
        Rating(
            assignment=a,
            domain=d,
            score=score(a.report, order[a.reviewer_id], d.key) if score else 7,
        )
        for a in assignments
        for d in domains
    )
    now = timezone.now()
    Assignment.objects.filter(study=study).update(
        status=Assignment.Status.SUBMITTED, submitted_at=now, updated_at=now, active_ms=90000
    )


def reviewers_of(study: Study):
    return [seat.reviewer for seat in study.panel.order_by("pseudonym").select_related("reviewer")]
