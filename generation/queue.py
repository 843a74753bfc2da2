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
from synthreports.celery import task_send

ITEM_GENERATE_TASK = "generation.item_generate"


def send_task(*, task: str, kwargs: dict[str, Any]) -> None:
    """Send any generation task by name (eager configurations run it in place)."""
    _send(task=task, kwargs=kwargs)


def _send(*, task: str, kwargs: dict[str, Any]) -> None:
    task_send(task, kwargs=kwargs)


def items_enqueue(*, item_ids: Iterable[int]) -> int:
    """Send one task per item (call it after commit). Returns the number sent."""
    ids = list(item_ids)
    # Marked before sending: the stuck-item sweep re-sends PENDING items whose message is
    # older than its cutoff, so a crash between the two lines costs one duplicate at most.
    BatchItem.objects.filter(pk__in=ids).update(enqueued_at=timezone.now())
    for item_id in ids:
        _send(task=ITEM_GENERATE_TASK, kwargs={"item_id": item_id})
    return len(ids)
