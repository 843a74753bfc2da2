"""Generation through the Mistral Batch API against the fake server's batch endpoints:
our side's throughput (launch → job submitted → results processed into reports) and the
cost per 1,000 reports at the Batch API's price (half the direct price, BACKENDS).

The fake server completes a job at its second poll, so the figures are our own work per
report (building the JSONL upload, parsing and validating each answer line, writing the
reports), not Mistral's queueing time, which its documentation bounds by the job's timeout
(GENERATION_BATCH_API_TIMEOUT_HOURS). One-pass prompt (batch mode refuses two-pass ones:
each pass needs the previous pass's answer).

    .venv/bin/python bench/bench_generation_batch_api.py     # BENCH_BATCH_API_ITEMS=1000
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.recording import record

ITEMS = int(os.environ.get("BENCH_BATCH_API_ITEMS", "1000"))
PROMPT = "compte-rendu-fr-v1"


def main() -> int:
    from generation.testing.fake_mistral import FakeMistral

    with (
        harness.bench_database(f"{harness.BENCH_DATABASE}_batch_api") as database_url,
        FakeMistral() as fake,
    ):
        env = harness.server_environment(
            database_url,
            MISTRAL_API_KEY="bench-key",
            MISTRAL_SERVER_URL=fake.url,
            GENERATION_RATE_LIMIT_PER_SECOND="0",
            GENERATION_TOKENS_PER_MINUTE="0",
        )
        harness.migrate(env)
        harness.django_setup(env)
        from django.db.models import Sum

        from generation import provider_jobs, services
        from generation.backends import BACKENDS
        from generation.models import BatchItem
        from generation.pricing import cost_eur

        started = time.perf_counter()
        cpu_started = time.process_time()
        batch = services.batch_launch(
            count=ITEMS, backend="mistral", seed=17, prompt=PROMPT, mode="batch_api"
        )
        launched = time.perf_counter()
        provider_jobs.provider_jobs_poll(enqueue=False)  # builds and uploads the JSONL, one job
        submitted = time.perf_counter()
        polls = 0
        while polls < 10:
            polls += 1
            provider_jobs.provider_jobs_poll(enqueue=False)
            batch.refresh_from_db()
            if batch.provider_status == "PROCESSED":
                break
        finished = time.perf_counter()
        cpu = time.process_time() - cpu_started
        done = BatchItem.objects.filter(batch=batch, status=BatchItem.Status.DONE).count()
        tokens = BatchItem.objects.filter(batch=batch).aggregate(
            tokens_in=Sum("tokens_in"), tokens_out=Sum("tokens_out")
        )
        factor = BACKENDS["mistral"].batch_api_price_factor or 1.0
        direct_eur = cost_eur(
            model=batch.model,
            tokens_in=tokens["tokens_in"] or 0,
            tokens_out=tokens["tokens_out"] or 0,
        )
        per_1000 = 1000 / max(done, 1)
        rows = [
            {
                "items": ITEMS,
                "done": done,
                "launch_s": launched - started,
                "submit_s": submitted - launched,
                "process_s": finished - submitted,
                "total_s": finished - started,
                "reports_per_s": done / (finished - started),
                "cpu_ms_per_report": cpu / max(done, 1) * 1000,
                "tokens_in_per_report": (tokens["tokens_in"] or 0) / max(done, 1),
                "tokens_out_per_report": (tokens["tokens_out"] or 0) / max(done, 1),
                "eur_per_1000_batch_api": direct_eur * factor * per_1000,
                "eur_per_1000_direct": direct_eur * per_1000,
            }
        ]
        record(
            title="Generation: Batch API path (bench_generation_batch_api)",
            rows=rows,
            command=".venv/bin/python bench/bench_generation_batch_api.py",
            notes=(
                f"{ITEMS} items, model {batch.model}, prompt {PROMPT} (one pass), against the "
                "fake Mistral server's files and batch-jobs endpoints (job done at its second "
                f"poll; {polls} polls). launch = batch and items created; submit = JSONL built "
                "and uploaded, job created (first poll); process = results read, every line "
                "parsed, validated and written as a report. Throughput and CPU are this "
                "process's (the benchmark runs the poller in-process, as the Celery beat task "
                "would). Cost from the fake server's token counts at the model's price "
                f"(generation/backends), Batch API factor {factor:g}."
            ),
            database_url=database_url,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
