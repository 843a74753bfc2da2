"""Celery tasks of the review app: thin wrappers over its services. Run by Celery beat
(settings.CELERY_BEAT_SCHEDULE) or sent by name (`review.computations.computations_schedule`),
so nothing in the review app imports this module; the worker finds it by autodiscovery. The
service is imported inside each task body, so that importing this module loads no service."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError


@shared_task(name="review.reminders_send_due", acks_late=True, time_limit=600)
def reminders_send_due() -> dict[str, int]:
    from review.people import reminders_send_due as send_due

    # Idempotent within each study's interval (a redelivered message sends nothing twice).
    done = send_due()
    return {"studies": done.studies, "sent": done.sent}


@shared_task(
    name="review.study_computations_refresh",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # The leak audit of a large study and 1.2 M ratings' bootstrap take minutes, not hours.
    soft_time_limit=1800,
    time_limit=1900,
    max_retries=3,
)
def study_computations_refresh(self, *, study_id: int, kinds: list[str]) -> list[str]:
    from review.computations import computations_pending_clear, computations_refresh
    from review.models import Study

    computations_pending_clear(study_id=study_id, kinds=kinds)
    study = Study.objects.filter(pk=study_id).first()
    if study is None:
        return []
    try:
        return computations_refresh(study=study, kinds=kinds)
    except (OperationalError, InterfaceError) as exc:
        raise self.retry(exc=exc, countdown=30) from None


@shared_task(
    name="review.reports_search_index",
    acks_late=True,
    # ~1 s of PostgreSQL work per 1,000 reports: a 100,000-report backlog fits well inside.
    soft_time_limit=1800,
    time_limit=1900,
)
def reports_search_index() -> int:
    from review.search_index import reports_search_index_all, reports_search_index_pending_clear

    # Sent after an import commits and by beat; idempotent (only reports without vectors).
    reports_search_index_pending_clear()
    return reports_search_index_all()
