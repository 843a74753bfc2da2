"""Time the statistics engine on generated studies (no database).

    python bench/stats_engine.py [--reports 1000 --reviewers 3 --bootstrap 2000 --plots]

Prints the wall time of `analyse` (cold: first call in the process, including lazy imports;
warm: best of the following calls) and of the plots, and the peak resident memory.
"""

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from review.stats import analyse
from review.stats.plots import study_plots

DOMAINS = (
    "language_quality",
    "medical_consistency",
    "completeness",
    "conciseness",
    "overall_impression",
    "ai_authorship",
)


def generated_ratings(n_reports: int, n_reviewers: int, seed: int = 1) -> pd.DataFrame:
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--reviewers", type=int, default=3)
    parser.add_argument("--bootstrap", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--plots", action="store_true")
    args = parser.parse_args()
    table = generated_ratings(args.reports, args.reviewers)
    timings = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        results = analyse(table, n_boot=args.bootstrap, domains=list(DOMAINS))
        timings.append(time.perf_counter() - start)
    line = (
        f"{len(table)} ratings ({args.reports} reports × {args.reviewers} reviewers × 6 "
        f"domains), {args.bootstrap} resamples: analyse cold {timings[0]:.2f} s"
    )
    if len(timings) > 1:
        line += f", warm best {min(timings[1:]):.2f} s"
    if args.plots:
        start = time.perf_counter()
        study_plots(results, labels={d: d for d in DOMAINS})
        line += f"; plots {time.perf_counter() - start:.2f} s"
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{line}; peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
