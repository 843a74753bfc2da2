"""Benchmark 2, the results: every statistic of a study (descriptives, comparison with its
bootstrap, agreement, reviewer offsets, authorship AUC with its bootstrap, breakdown by
batch / model / prompt version) at STATS_BOOTSTRAP_RESAMPLES resamples (default 2000).

Two measurements:

- Engine: `review.stats.analyse` on a generated long table, one child process per size so
  that each size's peak memory is its own (peak RSS = the child's ru_maxrss, cross-checked
  by sampling its RSS from here). Sizes (reports x reviewers, 6 domains) default to
  1,000 x 3 (18k ratings, target <= 1 s), 10,000 x 3, 30,000 x 2 and 100,000 x 2
  (1.2 M ratings, target <= 30 s and <= 2 GB), to show how the time grows.
- Results page path: `review.results.study_results` (the ratings read from PostgreSQL by
  the selector, the engine, the plots) on a seeded study of 1,000 reports x 3 reviewers,
  cache cleared before each call.

    .venv/bin/python bench/bench_results.py
    BENCH_RESULTS_SIZES=1000x3,100000x2 .venv/bin/python bench/bench_results.py
    .venv/bin/python bench/bench_results.py --engine-only --reports 1000 --reviewers 3 --plots
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pandas as pd
import psutil

from bench import harness
from bench.recording import record

DOMAINS = (
    "language_quality",
    "medical_consistency",
    "completeness",
    "conciseness",
    "overall_impression",
    "ai_authorship",
)
SIZES = [
    tuple(int(n) for n in size.split("x"))
    for size in os.environ.get("BENCH_RESULTS_SIZES", "1000x3,10000x3,30000x2,100000x2").split(",")
]
# The first call after start-up is the one a coordinator waits for; later ones show the
# steady state. Big sizes run fewer times to keep the script within a few minutes.
REPEATS_SMALL = int(os.environ.get("BENCH_RESULTS_REPEATS", "3"))
LARGE_RATINGS = 500_000
TARGETS = {18_000: (1.0, None), 1_200_000: (30.0, 2048.0)}
# The page-path study; BENCH_RESULTS_PAGE_REPORTS=10000 shows the served page does not grow.
PAGE_REPORTS = int(os.environ.get("BENCH_RESULTS_PAGE_REPORTS", "1000"))
PAGE_RATERS = 3


def generated_ratings(n_reports: int, n_reviewers: int, seed: int = 1) -> pd.DataFrame:
    """A long table shaped like `review.results.study_ratings_frame`'s: one row per rating,
    half the reports synthetic (two batches, two prompt versions, one model)."""
    rng = np.random.default_rng(seed)
    n_domains = len(DOMAINS)
    report = np.repeat(np.arange(n_reports), n_reviewers * n_domains)
    reviewer = np.tile(np.repeat(np.arange(n_reviewers), n_domains), n_reports)
    domain = np.tile(np.arange(n_domains), n_reports * n_reviewers)
    synthetic = report % 2 == 1
    quality = rng.normal(8, 1, n_reports)[report] - 0.4 * synthetic
    score = np.clip(np.round(quality + rng.normal(0, 1, len(report))), 1, 10).astype(int)
    batch = np.where(synthetic, np.where(report % 4 == 1, "b1", "b2"), None)
    return pd.DataFrame(
        {
            "report": pd.Categorical(report).rename_categories(lambda r: f"R-{r:06d}"),
            "source": np.where(synthetic, "synthetic", "real"),
            "reviewer": pd.Categorical(reviewer).rename_categories(lambda r: f"R{r + 1}"),
            "domain": np.asarray(DOMAINS)[domain],
            "score": score,
            "batch": batch,
            "model": np.where(synthetic, "mistral-large-latest", None),
            "prompt_version": np.where(synthetic, np.where(report % 3 == 0, "v1", "v2"), None),
        }
    )


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def engine_run(*, reports: int, reviewers: int, n_boot: int, repeat: int, plots: bool) -> dict:
    """In this process: build the table, then time `analyse` `repeat` times."""
    from review.stats import analyse
    from review.stats.plots import study_plots

    # Import and first-call costs of scipy/sklearn/pingouin are paid by a tiny table, as a
    # gunicorn worker that has served any page would have.
    analyse(generated_ratings(20, 2), n_boot=100, domains=list(DOMAINS))
    rss_before_table = _rss_mb()
    table = generated_ratings(reports, reviewers)
    rss_with_table = _rss_mb()
    timings = []
    results = None
    for _ in range(repeat):
        started = time.perf_counter()
        results = analyse(table, n_boot=n_boot, domains=list(DOMAINS))
        timings.append(time.perf_counter() - started)
    plot_seconds = None
    if plots and results is not None:
        started = time.perf_counter()
        study_plots(results, labels={d: d for d in DOMAINS})
        plot_seconds = time.perf_counter() - started
    return {
        "ratings": len(table),
        "timings": timings,
        "plot_seconds": plot_seconds,
        "rss_before_table_mb": rss_before_table,
        "rss_with_table_mb": rss_with_table,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def engine_in_child(reports: int, reviewers: int, n_boot: int) -> dict:
    ratings = reports * reviewers * len(DOMAINS)
    repeat = 1 if ratings >= LARGE_RATINGS else REPEATS_SMALL
    command = [
        harness.PYTHON,
        str(Path(__file__).resolve()),
        "--engine-only",
        "--json",
        f"--reports={reports}",
        f"--reviewers={reviewers}",
        f"--bootstrap={n_boot}",
        f"--repeat={repeat}",
    ]
    started = time.monotonic()
    child = subprocess.Popen(command, cwd=harness.REPO_ROOT, stdout=subprocess.PIPE, text=True)
    with harness.RssSampler(lambda: psutil.Process(child.pid).memory_info().rss) as memory:
        output, _ = child.communicate(timeout=900)
    if child.returncode != 0:
        raise RuntimeError(f"engine child for {reports}x{reviewers} failed ({child.returncode})")
    outcome = json.loads(output.strip().splitlines()[-1])
    outcome["sampled_peak_mb"] = memory.peak_bytes / 2**20
    outcome["child_seconds"] = time.monotonic() - started
    return outcome


def _verdict(ratings: int, seconds: float, peak_mb: float) -> tuple[str, str]:
    if ratings not in TARGETS:
        return "", ""
    max_seconds, max_mb = TARGETS[ratings]
    target = f"≤ {max_seconds:g} s" + (f", ≤ {max_mb / 1024:g} GB" if max_mb else "")
    met = seconds <= max_seconds and (max_mb is None or peak_mb <= max_mb)
    return target, "met" if met else "MISSED"


def engine_rows(n_boot: int) -> list[dict]:
    rows = []
    for reports, reviewers in SIZES:
        print(f"engine: {reports} reports x {reviewers} reviewers …", flush=True)
        outcome = engine_in_child(reports, reviewers, n_boot)
        timings = outcome["timings"]
        peak = max(outcome["peak_rss_mb"], outcome["sampled_peak_mb"])
        target, met = _verdict(outcome["ratings"], timings[0], peak)
        rows.append(
            {
                "reports": reports,
                "reviewers": reviewers,
                "ratings": outcome["ratings"],
                "first_s": timings[0],
                "best_s": min(timings),
                "runs": len(timings),
                "us_per_rating": timings[0] / outcome["ratings"] * 1e6,
                "table_mb": outcome["rss_with_table_mb"] - outcome["rss_before_table_mb"],
                "peak_rss_mb": peak,
                "target": target,
                "met": met,
            }
        )
        print(rows[-1], flush=True)
    return rows


def page_path_rows(n_boot: int) -> tuple[list[dict], str]:
    """`study_results` (selector + engine + plots) on a seeded study, cache cleared."""
    from django.core.cache import cache

    from bench.seeding import rated_study_seed
    from review.models import Study
    from review.results import study_ratings_frame, study_results

    seeded = rated_study_seed(reports=PAGE_REPORTS, raters=PAGE_RATERS)
    study = Study.objects.get(pk=seeded.study_id)
    study_results(study=study)  # warm: imports, first plots
    frame_s, full_s, figures_s = [], [], []
    for _ in range(REPEATS_SMALL):
        started = time.perf_counter()
        frame = study_ratings_frame(study=study)
        frame_s.append(time.perf_counter() - started)
        cache.clear()
        started = time.perf_counter()
        study_results(study=study, with_plots=False)
        figures_s.append(time.perf_counter() - started)
        cache.clear()
        started = time.perf_counter()
        study_results(study=study)
        full_s.append(time.perf_counter() - started)
    started = time.perf_counter()
    study_results(study=study)
    cached_s = time.perf_counter() - started
    assert len(frame) == seeded.n_ratings, (len(frame), seeded.n_ratings)
    refresh_s, served_s = served_page_seconds(study=study)
    median = statistics.median
    rows = [
        {"step": "selector: ratings from PostgreSQL → DataFrame", "median_s": median(frame_s)},
        {"step": "study_results without plots (selector + engine)", "median_s": median(figures_s)},
        {"step": "study_results with plots (results page, cache miss)", "median_s": median(full_s)},
        {"step": "study_results, cache hit", "median_s": cached_s},
        {"step": "task: computations_refresh (results, every language)", "median_s": refresh_s},
        {"step": "GET results page, served stored (issue 21)", "median_s": median(served_s)},
    ]
    for row in rows:
        row.update({"ratings": seeded.n_ratings, "runs": REPEATS_SMALL})
    rows[3]["runs"] = rows[4]["runs"] = 1
    rows[5]["runs"] = len(served_s)
    met = median(figures_s) <= 1.0
    served_met = max(served_s) <= 0.3
    verdict = (
        f"- Results page path, {seeded.n_ratings} ratings from PostgreSQL: selector + engine "
        f"median {median(figures_s):.2f} s (target ≤ 1 s): {'met' if met else 'MISSED'}; with "
        f"the four SVG plots {median(full_s):.2f} s.\n"
        f"- Results page served from the stored computation (the coordinator's wait, issue 21): "
        f"median {median(served_s) * 1000:.0f} ms, slowest of {len(served_s)} "
        f"{max(served_s) * 1000:.0f} ms (target ≤ 300 ms): {'met' if served_met else 'MISSED'}; "
        f"the Celery task that stores it took {refresh_s:.2f} s.\n"
    )
    return rows, verdict


def served_page_seconds(*, study) -> tuple[float, list[float]]:
    """What a coordinator waits for (issue 21): the results page answered from the stored
    computation, over Django's full request path (middleware, session, template), after the
    debounced task (`review.study_computations_refresh`) stored it."""
    from django.test import Client
    from django.urls import reverse

    from bench.seeding import session_create
    from review.computations import computations_refresh

    # A session made now: the cache (where sessions live) was cleared above.
    session_key = session_create(study.created_by)
    started = time.perf_counter()
    computations_refresh(study=study, kinds=["results"])
    refresh_s = time.perf_counter() - started
    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = session_key
    url = reverse("review:study_results", args=[study.pk])
    first = client.get(url)
    assert first.status_code == 200, first.status_code
    assert b"computation-pending" not in first.content  # served stored, not waiting for the task
    served = []
    for _ in range(10):
        started = time.perf_counter()
        response = client.get(url)
        served.append(time.perf_counter() - started)
        assert response.status_code == 200
    return refresh_s, served


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine-only", action="store_true", help="one size, no database")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--reviewers", type=int, default=3)
    parser.add_argument("--bootstrap", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--plots", action="store_true")
    args = parser.parse_args()
    if args.engine_only:
        outcome = engine_run(
            reports=args.reports,
            reviewers=args.reviewers,
            n_boot=args.bootstrap or 2000,
            repeat=args.repeat,
            plots=args.plots,
        )
        print(json.dumps(outcome) if args.json else outcome)
        return 0

    with harness.bench_database(f"{harness.BENCH_DATABASE}_results") as database_url:
        env = harness.server_environment(database_url)
        harness.migrate(env)
        harness.django_setup(env)
        from django.conf import settings

        n_boot = args.bootstrap or settings.STATS_BOOTSTRAP_RESAMPLES
        settings.STATS_BOOTSTRAP_RESAMPLES = n_boot
        page_rows, page_verdict = page_path_rows(n_boot)
        rows = engine_rows(n_boot)
        verdicts = "".join(
            f"- {row['ratings']:,} ratings: first run {row['first_s']:.2f} s, peak RSS "
            f"{row['peak_rss_mb']:.0f} MB (target {row['target']}): {row['met']}\n"
            for row in rows
            if row["target"]
        )
        growth = ""
        if len(rows) >= 2:
            slope = np.polyfit(
                np.log([r["ratings"] for r in rows]), np.log([r["first_s"] for r in rows]), 1
            )[0]
            growth = (
                f"Time grows as ratings^{slope:.2f} over these sizes (log-log fit; 1.0 = linear). "
            )
        record(
            title="Results: statistics engine (bench_results)",
            rows=rows,
            command=".venv/bin/python bench/bench_results.py",
            notes=(
                f"`review.stats.analyse` with {n_boot} bootstrap resamples (STATS_BOOTSTRAP_"
                "RESAMPLES), 6 domains, on a generated long table (half synthetic, 2 batches, "
                "2 prompt versions), one child process per size, modules imported and warmed "
                "on a tiny table first. first_s = first analysis of that size (the one judged "
                f"against the target), best_s = best of `runs`; sizes of ≥ {LARGE_RATINGS:,} "
                "ratings run once. table_mb = RSS taken by the ratings table itself; peak_rss_mb "
                "= whole child process peak (ru_maxrss, and sampled every 0.1 s). "
                f"{growth}Plots are not part of the engine figures (see the page-path table).\n"
                + verdicts
            ),
            database_url=database_url,
        )
        record(
            title="Results: results page path from PostgreSQL (bench_results)",
            rows=page_rows,
            command=".venv/bin/python bench/bench_results.py",
            notes=(
                f"`review.results.study_results` in-process on a seeded study of {PAGE_REPORTS:,} "
                f"reports × {PAGE_RATERS} reviewers × 6 domains, all submitted, {n_boot} "
                "resamples; Django cache cleared before each call (a cache miss is what the "
                "first coordinator after a new rating waits for).\n" + page_verdict
            ),
            database_url=database_url,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
