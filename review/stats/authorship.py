"""Can reviewers tell AI-written reports apart? The `ai_authorship` score as a classifier.

AUC 0.5 means they could not. Beside the bootstrap interval, the clustered DeLong interval
(Obuchowski 1997) of each scope. The AUC's bootstrap interval comes from a report-level bootstrap:
with discrete scores the AUC only needs, per resample, how many real and synthetic
ratings fell on each score level, which is one matrix product per chunk of resamples.
"""

import numpy as np
import pandas as pd
from scipy.special import ndtri
from sklearn.metrics import roc_auc_score, roc_curve

from review.stats.bootstrap import percentile_interval, resampled_totals
from review.stats.frame import AUTHORSHIP_DOMAIN, SYNTHETIC, Scale
from review.stats.notes import note_codes

POOLED = "pooled"
# Fewer reports than this in either class: the AUC is shown without an interval.
MIN_REPORTS_PER_CLASS = 5
REVIEWER = "reviewer"


def authorship(
    frame: pd.DataFrame, *, scale: Scale, n_boot: int, seed: int
) -> tuple[pd.DataFrame, list[dict]]:
    """Rows per scope (pooled, then each reviewer) and the ROC curve points."""
    part = frame[frame["domain"] == AUTHORSHIP_DOMAIN]
    reviewers = sorted(part["reviewer"].unique())
    groups: list[tuple[str, str, pd.DataFrame]] = [(POOLED, "", part)]
    groups += [(REVIEWER, r, part[part["reviewer"] == r]) for r in reviewers]
    intervals = _auc_intervals(part, reviewers, n_boot=n_boot, seed=seed)
    rows, curves = [], []
    for index, (scope, reviewer, group) in enumerate(groups):
        row, curve = _classify(scope, reviewer, group, scale)
        per_class = group.groupby("source", observed=True)["report"].nunique()
        if np.isfinite(row["auc"]) and per_class.min() < MIN_REPORTS_PER_CLASS:
            # An AUC of 1.0 [1.0, 1.0] from one report per source says nothing.
            row["note"] = note_codes("few_reports_for_auc")
        elif np.isfinite(row["auc"]):
            row["ci_low"], row["ci_high"] = intervals[index]
            row["delong_ci_low"], row["delong_ci_high"] = clustered_auc_interval(
                group["score"].to_numpy(),
                (group["source"] == SYNTHETIC).to_numpy(),
                group["report"].to_numpy(dtype=object),
            )
        rows.append(row)
        if curve:
            curves.append(curve)
    if part.empty:
        rows[0]["note"] = note_codes("no_authorship_ratings")
    return pd.DataFrame(rows), curves


def _classify(scope: str, reviewer: str, group: pd.DataFrame, scale: Scale):
    truth = (group["source"] == SYNTHETIC).to_numpy()
    scores = group["score"].to_numpy()
    n_synthetic = int(truth.sum())
    n_real = len(truth) - n_synthetic
    # Above the midpoint reads as "written by an AI"; the midpoint itself as "by a physician".
    said_ai = scores > scale.midpoint
    row = {
        "scope": scope,
        "reviewer": reviewer,
        "auc": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "delong_ci_low": np.nan,
        "delong_ci_high": np.nan,
        "n_real": n_real,
        "n_synthetic": n_synthetic,
        "accuracy": float((said_ai == truth).mean()) if len(truth) else np.nan,
        "sensitivity": float(said_ai[truth].mean()) if n_synthetic else np.nan,
        "specificity": float((~said_ai[~truth]).mean()) if n_real else np.nan,
        "threshold": scale.midpoint,
        "note": "",
    }
    if n_real == 0 or n_synthetic == 0:
        row["note"] = note_codes("needs_both_sources")
        return row, None
    row["auc"] = float(roc_auc_score(truth, scores))
    fpr, tpr, thresholds = roc_curve(truth, scores)
    curve = {
        "scope": scope,
        "reviewer": reviewer,
        "fpr": fpr.tolist(),
        "tpr": tpr.tolist(),
        "thresholds": [float(t) if np.isfinite(t) else None for t in thresholds],
    }
    return row, curve


def clustered_auc_interval(
    scores: np.ndarray, synthetic: np.ndarray, clusters: np.ndarray, level: float = 0.95
) -> tuple[float, float]:
    """Normal interval of the AUC with the variance of Obuchowski (1997, Biometrics
    53:567–578): DeLong's structural components summed per cluster (a report, rated by
    several reviewers), so correlated ratings of one report are not counted as independent.
    With one rating per report it is DeLong, DeLong & Clarke-Pearson (1988)."""
    positives, negatives = scores[synthetic], scores[~synthetic]
    m, n = len(positives), len(negatives)
    if m == 0 or n == 0:
        return np.nan, np.nan
    sorted_neg, sorted_pos = np.sort(negatives), np.sort(positives)
    # Each positive rating against every negative: P(neg < x) + ½ P(neg = x); and back.
    below = np.searchsorted(sorted_neg, positives, side="left")
    ties = np.searchsorted(sorted_neg, positives, side="right") - below
    v10 = (below + 0.5 * ties) / n
    above = m - np.searchsorted(sorted_pos, negatives, side="right")
    ties = np.searchsorted(sorted_pos, negatives, side="right") - np.searchsorted(
        sorted_pos, negatives, side="left"
    )
    v01 = (above + 0.5 * ties) / m
    auc = float(v10.mean())
    codes, uniques = pd.factorize(clusters, sort=True)
    size = len(uniques)
    if size < 2:
        return np.nan, np.nan
    v10_sum = np.bincount(codes[synthetic], weights=v10, minlength=size)
    v01_sum = np.bincount(codes[~synthetic], weights=v01, minlength=size)
    m_i = np.bincount(codes[synthetic], minlength=size)
    n_i = np.bincount(codes[~synthetic], minlength=size)
    d10, d01 = v10_sum - m_i * auc, v01_sum - n_i * auc
    factor = size / (size - 1)
    variance = (
        factor * (d10**2).sum() / m**2
        + factor * (d01**2).sum() / n**2
        + 2 * factor * (d10 * d01).sum() / (m * n)
    )
    half = float(ndtri((1 + level) / 2) * np.sqrt(variance))
    # An AUC lives in [0, 1]: the normal interval is cut there.
    return max(auc - half, 0.0), min(auc + half, 1.0)


def auc_from_counts(real: np.ndarray, synthetic: np.ndarray) -> np.ndarray:
    """AUC from counts per ascending score level (last axis): P(syn > real) + ½ P(tie)."""
    below = np.cumsum(real, axis=-1) - real
    wins = (synthetic * (below + 0.5 * real)).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return wins / (real.sum(axis=-1) * synthetic.sum(axis=-1))


def authorship_auc(frame: pd.DataFrame) -> float:
    """Pooled AUC of the authorship score alone (no interval, no curve)."""
    part = frame[frame["domain"] == AUTHORSHIP_DOMAIN]
    levels, level_index = np.unique(part["score"].to_numpy(), return_inverse=True)
    synthetic = (part["source"] == SYNTHETIC).to_numpy()
    real_counts = np.bincount(level_index[~synthetic], minlength=len(levels))
    synthetic_counts = np.bincount(level_index[synthetic], minlength=len(levels))
    return float(auc_from_counts(real_counts, synthetic_counts))


def _auc_intervals(
    part: pd.DataFrame, reviewers: list[str], *, n_boot: int, seed: int
) -> list[tuple[float, float]]:
    n_groups = 1 + len(reviewers)
    if part.empty:
        return [(np.nan, np.nan)] * n_groups
    rng = np.random.default_rng(seed)
    levels, level_index = np.unique(part["score"].to_numpy(), return_inverse=True)
    n_levels = len(levels)
    reviewer_index = {r: i + 1 for i, r in enumerate(reviewers)}
    group_index = part["reviewer"].map(reviewer_index).to_numpy().astype(int)
    counts: dict[bool, np.ndarray | None] = {}
    for synthetic in (False, True):
        mask = (part["source"] == SYNTHETIC).to_numpy() == synthetic
        report_codes, _ = pd.factorize(part["report"].to_numpy()[mask], sort=True)
        n_reports = int(report_codes.max(initial=-1)) + 1
        width = n_groups * n_levels
        # Columns: pooled levels, then each reviewer's levels.
        pooled_cells = report_codes * width + level_index[mask]
        reviewer_cells = pooled_cells + group_index[mask] * n_levels
        histogram = np.bincount(
            np.concatenate([pooled_cells, reviewer_cells]), minlength=n_reports * width
        ).reshape(n_reports, width)
        totals = resampled_totals(histogram, n_boot, rng) if n_reports else None
        counts[synthetic] = totals
    real_counts, synthetic_counts = counts[False], counts[True]
    if real_counts is None or synthetic_counts is None:
        return [(np.nan, np.nan)] * n_groups
    shape = (-1, n_groups, n_levels)
    aucs = auc_from_counts(real_counts.reshape(shape), synthetic_counts.reshape(shape))
    low, high = percentile_interval(aucs)
    return list(zip(low.tolist(), high.tolist(), strict=True))
