"""Launch a generation batch from the command line, optionally waiting for it.

    python manage.py generate_reports --count 20 [--backend offline|mistral] [--frame NAME]
        [--language fr|en] [--seed S] [--site lung] [--model M] [--wait] [--in-process]

Without --wait: creates the batch, enqueues its tasks for the Celery workers, prints the
batch id. With --wait: shows a progress bar until every item is settled, then a summary
(done, failed with reasons, tokens, cost, wall time). With --in-process (the default for
--wait when the broker is the embedded file-system or memory one), no worker is needed:
the items are run one by one in this process through the same service the Celery task
calls, with the same attempt bound and backoff.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from generation import pipeline, selectors, services
from generation.backends import BACKEND_NAMES, BACKENDS, TransientBackendError
from generation.models import Batch, BatchItem
from review.exceptions import ServiceError

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Launch a batch of synthetic reports (see --help); --wait follows it to the end."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--backend", choices=BACKEND_NAMES, default=None)
        parser.add_argument("--frame", default="", help="frame name or name@version")
        parser.add_argument("--prompt", default="", help="prompt label name-vN")
        parser.add_argument("--language", choices=["fr", "en"], default="fr")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--site", default="", help="only this cancer site (e.g. lung)")
        parser.add_argument("--model", default=None)
        parser.add_argument("--temperature", type=float, default=0.7)
        parser.add_argument("--wait", action="store_true", help="follow the batch to the end")
        parser.add_argument("--mode", choices=["direct", "batch_api"], default="direct")
        parser.add_argument(
            "--judge-backend",
            choices=[name for name, spec in BACKENDS.items() if spec.network],
            default="",
            help="critique backend (default: the writer's)",
        )
        parser.add_argument(
            "--judge-model",
            default="",
            help="critique model (default: the writer's, or the judge backend's first)",
        )
        parser.add_argument("--max-revisions", type=int, default=None)
        parser.add_argument(
            "--no-critique", action="store_true", help="two-pass prompts: skip judge and revisions"
        )
        parser.add_argument(
            "--in-process",
            action="store_true",
            default=None,
            help="run the items in this process (default with --wait on the embedded broker)",
        )

    def handle(self, *args, **options):
        # On the embedded brokers there is usually no worker running: waiting would hang.
        embedded = settings.CELERY_BROKER_URL.split(":", 1)[0] in {"filesystem", "memory"}
        in_process = options["wait"] and (
            options["in_process"] if options["in_process"] is not None else embedded
        )
        started = time.monotonic()
        try:
            batch = services.batch_launch(
                count=options["count"],
                frame=options["frame"] or None,
                prompt=options["prompt"] or None,
                backend=options["backend"],
                model=options["model"],
                temperature=options["temperature"],
                seed=options["seed"],
                language=options["language"],
                site_filter=options["site"],
                enqueue=not in_process,
                mode=options["mode"],
                judge_backend=options["judge_backend"],
                judge_model=options["judge_model"],
                max_revisions=options["max_revisions"],
                critique=not options["no_critique"],
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Batch #{batch.pk} '{batch.name}': {batch.count} items, backend {batch.backend}"
            f" ({batch.model}), frame {batch.frame.label}, prompt {batch.prompt.label}, "
            f"seed {batch.seed}."
        )
        if not options["wait"]:
            self.stdout.write("Queued for the Celery workers; follow it in the web app.")
            return
        if in_process:
            self._run_in_process(batch)
        else:
            self._poll(batch)
        self._summary(batch, time.monotonic() - started)

    def _bar(self, batch: Batch) -> bool:
        batch.refresh_from_db()
        progress = selectors.batch_progress(batch=batch)
        settled = progress.done + progress.failed + progress.skipped
        filled = int(BAR_WIDTH * settled / max(progress.total, 1))
        line = (
            f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {settled}/{progress.total} "
            f"done {progress.done} failed {progress.failed} running {progress.running}"
        )
        self.stdout.write(line, ending="")
        self.stdout.flush()
        return progress.finished

    def _run_in_process(self, batch: Batch) -> None:
        token = f"cli-{os.getpid()}"
        ids = list(batch.items.order_by("index").values_list("pk", flat=True))
        for item_id in ids:
            retries = 0
            while True:
                try:
                    pipeline.batch_item_process(item_id=item_id, claim_token=f"{token}-{item_id}")
                    break
                except TransientBackendError as exc:
                    # Same backoff as the Celery task; the attempt bound is in the item row.
                    time.sleep(pipeline.retry_countdown(retries, exc.retry_after))
                    retries += 1
            self._bar(batch)
        self.stdout.write("")

    def _poll(self, batch: Batch) -> None:
        while not self._bar(batch):
            time.sleep(1)
        self.stdout.write("")

    def _summary(self, batch: Batch, seconds: float) -> None:
        progress = selectors.batch_progress(batch=batch)
        reasons = Counter(
            (error.split(";")[-1].strip() or "unknown")[:120]
            for error in BatchItem.objects.filter(
                batch=batch, status=BatchItem.Status.FAILED
            ).values_list("error", flat=True)
        )
        out = self.stdout
        out.write(f"Done: {progress.done} (flagged: {progress.flagged})")
        out.write(f"Failed: {progress.failed}")
        for reason, n in reasons.most_common():
            out.write(f"  {n} x {reason}")
        if progress.skipped:
            out.write(f"Skipped: {progress.skipped}")
        out.write(f"Tokens: {progress.tokens_in} in, {progress.tokens_out} out")
        out.write(f"Cost: EUR {progress.cost_eur:.4f}")
        out.write(f"Wall time: {seconds:.1f} s")
        if progress.failed:
            sys.exit(1)
