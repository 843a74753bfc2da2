"""Celery tasks of the review app: thin wrappers over `review.computations`.

Sent by name (`review.computations.computations_schedule`), so nothing in the review app
imports this module; the worker finds it by autodiscovery.
"""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError


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
