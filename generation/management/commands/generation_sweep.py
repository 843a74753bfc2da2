"""Requeue generation items stuck in RUNNING (their worker died) or whose message was lost.

The same sweep runs every minute under Celery beat (`generation.items_requeue_stuck`);
this command runs it once, e.g. from cron or after restarting crashed workers.
"""

from django.core.management.base import BaseCommand

from generation import services


class Command(BaseCommand):
    help = "Requeue stuck generation items (RUNNING past GENERATION_STUCK_AFTER_SECONDS)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=float,
            default=None,
            help="seconds since claim/enqueue (default GENERATION_STUCK_AFTER_SECONDS)",
        )

    def handle(self, *args, **options):
        result = services.items_requeue_stuck(older_than_seconds=options["older_than"])
        self.stdout.write(
            f"Requeued {result['requeued_running']} running and re-sent "
            f"{result['reenqueued_pending']} pending items."
        )
