import subprocess
import sys

from generation import queue
from generation.models import BatchItem
from synthreports.celery import app as celery_app


def test_items_enqueue_sends_the_task_by_name_and_marks_items(launch, monkeypatch):
    batch = launch(count=2)
    sent = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, kwargs: sent.append((name, kwargs)))
    ids = list(batch.items.order_by("index").values_list("pk", flat=True))
    assert queue.items_enqueue(item_ids=ids) == 2
    assert sent == [("generation.item_generate", {"item_id": pk}) for pk in ids]
    assert BatchItem.objects.filter(batch=batch, enqueued_at__isnull=True).count() == 0


def test_items_enqueue_eager_runs_the_registered_task(launch):
    # send_task ignores task_always_eager; the registered task is run in process instead.
    batch = launch(count=1)
    original = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        queue.items_enqueue(item_ids=[batch.items.get().pk])
    finally:
        celery_app.conf.task_always_eager = original
    assert batch.items.get().status == "done"


def test_services_do_not_import_tasks_and_tasks_do_not_import_services():
    code = (
        "import os, sys, django\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'synthreports.settings')\n"
        "django.setup()\n"
        "import generation.services\n"
        "print('generation.tasks' in sys.modules)\n"
        "for name in [m for m in sys.modules if m.startswith('generation.')]:\n"
        "    del sys.modules[name]\n"
        "import generation.tasks\n"
        "print('generation.services' in sys.modules, 'generation.pipeline' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "DEBUG": "true"},
    ).stdout.split("\n")
    assert out[:2] == ["False", "False False"]
