"""Celery tasks of the review app: thin wrappers over its services, run by Celery beat
(settings.CELERY_BEAT_SCHEDULE). The service is imported inside the task body, so that
importing this module (the worker's autodiscovery) loads no service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="review.reminders_send_due", acks_late=True, time_limit=600)
def reminders_send_due() -> dict[str, int]:
    from review.people import reminders_send_due as send_due

    # Idempotent within each study's interval (a redelivered message sends nothing twice).
    done = send_due()
    return {"studies": done.studies, "sent": done.sent}
