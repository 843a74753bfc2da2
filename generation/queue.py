"""Enqueue generation work by task name, after the surrounding transaction commits.

Services call `items_enqueue` (through `transaction.on_commit`) and never import
`generation.tasks`: the task module imports the services it runs, and sending by name
keeps that dependency one-way. A duplicate message is harmless: the item's claim decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from generation.models import BatchItem
from synthreports.celery import app as celery_app

ITEM_GENERATE_TASK = "generation.item_generate"


def send_task(*, task: str, kwargs: dict[str, Any]) -> None:
    """Send any generation task by name (eager configurations run it in place)."""
    _send(task=task, kwargs=kwargs)


def _send(*, task: str, kwargs: dict[str, Any]) -> None:
    if celery_app.conf.task_always_eager:
        # send_task ignores task_always_eager; the registered task honours it, as
        # `apply_async` did before tasks were sent by name. Outside a worker the task
        # modules are not loaded yet: the app's autodiscovery loads them by name.
        celery_app.loader.import_default_modules()
        celery_app.tasks[task].apply_async(kwargs=kwargs)
        return
    celery_app.send_task(task, kwargs=kwargs)


def items_enqueue(*, item_ids: Iterable[int]) -> int:
    """Send one task per item (call it after commit). Returns the number sent."""
    ids = list(item_ids)
    # Marked before sending: the stuck-item sweep re-sends PENDING items whose message is
    # older than its cutoff, so a crash between the two lines costs one duplicate at most.
    BatchItem.objects.filter(pk__in=ids).update(enqueued_at=timezone.now())
    for item_id in ids:
        _send(task=ITEM_GENERATE_TASK, kwargs={"item_id": item_id})
    return len(ids)
