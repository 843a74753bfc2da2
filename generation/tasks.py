"""Celery tasks of the generation pipeline: thin wrappers over `generation.services`.

Keyword-only primitive ids; the service returns quietly when the row is gone or taken.
Only transient errors (429 with Retry-After, 5xx, timeouts, connection errors, unusable
answers within the attempt bound) are retried, with exponential backoff and jitter. The
task id is the claim token: a message redelivered after a worker died carries the same id
and may take its own item back.
"""

from __future__ import annotations

import random

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

import generation.backends.mistral  # noqa: F401 (load the SDK when the worker starts)
from generation import services
from generation.backends import TransientBackendError

# Soft limit: the LLM timeout plus the longest wait for the rate limiter, plus margin.
SOFT_TIME_LIMIT = int(
    settings.MISTRAL_TIMEOUT_SECONDS + settings.GENERATION_RATE_LIMIT_MAX_WAIT_SECONDS + 60
)


def retry_countdown(retries: int, retry_after: float | None) -> float:
    """Seconds before the next attempt: Retry-After if given, else capped exponential
    backoff; both with jitter so that workers do not come back in lockstep."""
    if retry_after is not None:
        return retry_after + random.uniform(0, 1)
    base = settings.GENERATION_RETRY_BACKOFF_SECONDS * (2**retries)
    capped = min(base, settings.GENERATION_RETRY_BACKOFF_MAX_SECONDS)
    return capped * random.uniform(0.5, 1.5)


@shared_task(
    name="generation.item_generate",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=SOFT_TIME_LIMIT + 30,
    # The real bound is the item's attempt count in the database (GENERATION_MAX_ATTEMPTS);
    # this one only stops a message looping if that logic were bypassed.
    max_retries=settings.GENERATION_MAX_ATTEMPTS * 4,
)
def item_generate(self, *, item_id: int) -> str:
    token = self.request.id or f"local-{item_id}"
    try:
        return services.batch_item_process(item_id=item_id, claim_token=token)
    except TransientBackendError as exc:
        raise self.retry(
            exc=exc, countdown=retry_countdown(self.request.retries, exc.retry_after)
        ) from None
    except SoftTimeLimitExceeded:
        if services.batch_item_release(
            item_id=item_id, claim_token=token, error="task time limit exceeded"
        ):
            raise self.retry(countdown=retry_countdown(self.request.retries, None)) from None
        return "failed"


@shared_task(name="generation.items_requeue_stuck", acks_late=True)
def items_requeue_stuck() -> dict[str, int]:
    return services.items_requeue_stuck()
