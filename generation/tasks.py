"""Celery tasks of the generation pipeline: thin wrappers over `generation.pipeline` and
`generation.services`.

Keyword-only primitive ids; the service returns quietly when the row is gone or taken.
Services enqueue these by name (`generation.queue`) and never import this module; the
services are imported inside each task body, so importing the tasks loads no services.
Only transient errors (429 with Retry-After, 5xx, timeouts, connection errors, unusable
answers within the attempt bound, database OperationalError/InterfaceError) are retried,
with exponential backoff and jitter. The task id is the claim token: a message
redelivered after a worker died carries the same id and may take its own item back.
"""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection

import generation.backends.mistral  # noqa: F401 (load the SDK when the worker starts)
from generation.backends import TransientBackendError

# Soft limit: the LLM timeout plus the longest wait for the rate limiter, plus margin.
SOFT_TIME_LIMIT = int(
    settings.MISTRAL_TIMEOUT_SECONDS + settings.GENERATION_RATE_LIMIT_MAX_WAIT_SECONDS + 60
)


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
    from generation.pipeline import batch_item_process, batch_item_release, retry_countdown

    token = self.request.id or f"local-{item_id}"
    try:
        return batch_item_process(item_id=item_id, claim_token=token)
    except TransientBackendError as exc:
        raise self.retry(
            exc=exc, countdown=retry_countdown(self.request.retries, exc.retry_after)
        ) from None
    except (OperationalError, InterfaceError) as exc:
        # The database went away (restart, failover, a killed connection): as transient as
        # an LLM 503. The item is still RUNNING under this task's id, which the retry (same
        # id) may claim back; without the retry it waited for the stuck-item sweep.
        # A broken connection is dropped here so that the retry opens a new one.
        if not connection.in_atomic_block:
            connection.close()
        close_old_connections()
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries, None)) from None
    except SoftTimeLimitExceeded:
        if batch_item_release(item_id=item_id, claim_token=token, error="task time limit exceeded"):
            raise self.retry(countdown=retry_countdown(self.request.retries, None)) from None
        return "failed"


@shared_task(name="generation.items_requeue_stuck", acks_late=True)
def items_requeue_stuck() -> dict[str, int]:
    from generation.services import items_requeue_stuck as requeue

    return requeue()


@shared_task(name="generation.provider_jobs_poll", acks_late=True)
def provider_jobs_poll() -> dict[str, int]:
    from generation.provider_jobs import provider_jobs_poll as poll

    return poll()


@shared_task(
    name="generation.study_report_judge",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=SOFT_TIME_LIMIT + 30,
    max_retries=settings.GENERATION_MAX_ATTEMPTS,
)
def study_report_judge(self, *, study_id: int, report_id: int, backend: str, model: str) -> str:
    """The judge rates one report of a study; its scores are stored apart (review.judge)."""
    from generation.judge_rater import study_report_judge as judge
    from generation.output import OutputInvalid
    from generation.pipeline import retry_countdown

    try:
        return judge(study_id=study_id, report_id=report_id, backend=backend, model=model)
    except TransientBackendError as exc:
        raise self.retry(
            exc=exc, countdown=retry_countdown(self.request.retries, exc.retry_after)
        ) from None
    except OutputInvalid as exc:
        # An unusable answer: another call may do, within max_retries; never a score.
        raise self.retry(exc=exc, countdown=retry_countdown(self.request.retries, None)) from None
