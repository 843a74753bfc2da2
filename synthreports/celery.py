import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synthreports.settings")

app = Celery("synthreports")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def task_send(name: str, *, kwargs: dict | None = None, countdown: float | None = None) -> None:
    """Send a task by name, so that the sender never imports the task module (the task
    imports the service that sends). `send_task` ignores CELERY_TASK_ALWAYS_EAGER: an eager
    configuration (the demo without a broker) runs the registered task in place, loading the
    task modules by autodiscovery first, outside a worker they are not loaded yet."""
    if app.conf.task_always_eager:
        app.loader.import_default_modules()
        app.tasks[name].apply_async(kwargs=kwargs or {})
        return
    options = {} if countdown is None else {"countdown": countdown}
    app.send_task(name, kwargs=kwargs or {}, **options)
