"""Synthetic versus real, per domain: is the synthetic mean non-inferior?

Ratings of one report are not independent (same text), so the unit of resampling and of
the rank test is the report: the bootstrap draws reports (stratified by source) and the
Mann–Whitney test compares per-report mean scores.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu

from review.stats.bootstrap import percentile_interval, resampled_totals
from review.stats.frame import AUTHORSHIP_DOMAIN, REAL, SYNTHETIC
from review.stats.notes import note_codes

NON_INFERIOR = "non-inferior"
INFERIOR = "inferior"
INCONCLUSIVE = "inconclusive"
NOT_APPLICABLE = "not applicable"
NOT_COMPUTABLE = "not computable"
# Fewer reports than this in a source: no interval and no verdict (the rank test stays).
MIN_REPORTS = 5


@dataclass
class ReportTotals:
    """Per report (rows) and domain (columns): sum and count of scores."""

    sums: np.ndarray
    counts: np.ndarray

    @property
    def n_reports(self) -> np.ndarray:
        return (self.counts > 0).sum(axis=0)

    def means(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.sums.sum(axis=0) / self.counts.sum(axis=0)

    def resampled_means(self, n_boot: int, rng: np.random.Generator) -> np.ndarray:
        width = self.sums.shape[1]
        totals = resampled_totals(np.hstack([self.sums, self.counts]), n_boot, rng)
        with np.errstate(invalid="ignore", divide="ignore"):
            return totals[:, :width] / totals[:, width:]


def report_totals(frame: pd.DataFrame, domains: list[str]) -> ReportTotals:
    domain_index = {d: i for i, d in enumerate(domains)}
    d = frame["domain"].map(domain_index).to_numpy()
    keep = ~pd.isna(d)
    report_codes, _ = pd.factorize(frame["report"].to_numpy()[keep], sort=True)
    d = d[keep].astype(int)
    n_reports = int(report_codes.max()) + 1 if len(report_codes) else 0
    cells = report_codes * len(domains) + d
    size = n_reports * len(domains)
    sums = np.bincount(cells, weights=frame["score"].to_numpy()[keep], minlength=size)
    counts = np.bincount(cells, minlength=size).astype(float)
    shape = (n_reports, len(domains))
    return ReportTotals(sums.reshape(shape), counts.reshape(shape))


def compare_sources(
    frame: pd.DataFrame,
    *,
    domains: list[str],
    margin: float,
    n_boot: int,
    seed: int,
    real_resamples: np.ndarray | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per domain; also returns the real resamples so a breakdown can reuse them."""
    rng = np.random.default_rng(seed)
    real = report_totals(frame[frame["source"] == REAL], domains)
    synthetic = report_totals(frame[frame["source"] == SYNTHETIC], domains)
    if real_resamples is None:
        real_resamples = real.resampled_means(n_boot, rng)
    synthetic_resamples = synthetic.resampled_means(n_boot, rng)
    real_low, real_high = percentile_interval(real_resamples)
    syn_low, syn_high = percentile_interval(synthetic_resamples)
    diff_low, diff_high = percentile_interval(synthetic_resamples - real_resamples)
    real_means, syn_means = real.means(), synthetic.means()
    real_n, syn_n = real.n_reports, synthetic.n_reports
    rows = []
    for j, domain in enumerate(domains):
        row: dict[str, Any] = {
            "domain": domain,
            "n_reports_real": int(real_n[j]),
            "n_reports_synthetic": int(syn_n[j]),
            "mean_real": float(real_means[j]),
            "mean_real_ci_low": float(real_low[j]),
            "mean_real_ci_high": float(real_high[j]),
            "mean_synthetic": float(syn_means[j]),
            "mean_synthetic_ci_low": float(syn_low[j]),
            "mean_synthetic_ci_high": float(syn_high[j]),
            "difference": float(syn_means[j] - real_means[j]),
            "ci_low": float(diff_low[j]),
            "ci_high": float(diff_high[j]),
            "mann_whitney_u": np.nan,
            "p_value": np.nan,
            "cliffs_delta": np.nan,
            "margin": margin,
            "verdict": NOT_COMPUTABLE,
            "note": "",
        }
        if real_n[j] == 0 or syn_n[j] == 0:
            missing = "real" if real_n[j] == 0 else "synthetic"
            row["note"] = note_codes(f"no_{missing}_ratings")
            row.update(ci_low=np.nan, ci_high=np.nan)
            rows.append(row)
            continue
        real_means_j, syn_means_j = _report_means(real, j), _report_means(synthetic, j)
        if real_n[j] < 2 or syn_n[j] < 2:
            row["note"] = note_codes("one_report_per_source")
            row.update(ci_low=np.nan, ci_high=np.nan)
        elif np.ptp(real_means_j) == 0 and np.ptp(syn_means_j) == 0:
            # Every report of each source has the same mean: the bootstrap interval is a
            # point ([0, 0] when both are equal), which is no evidence of anything.
            row["note"] = note_codes("no_variance")
            row.update(ci_low=np.nan, ci_high=np.nan)
        else:
            _rank_test(row, real_means_j, syn_means_j)
            if real_n[j] < MIN_REPORTS or syn_n[j] < MIN_REPORTS:
                row["note"] = note_codes(row["note"], "few_reports_per_source")
                row.update(ci_low=np.nan, ci_high=np.nan)
        row["verdict"] = _verdict(domain, row["ci_low"], row["ci_high"], margin)
        rows.append(row)
    table = pd.DataFrame(rows)
    table["p_holm"] = holm(table["p_value"].to_numpy()) if len(table) else []
    return table, real_resamples


def _report_means(totals: ReportTotals, j: int) -> np.ndarray:
    rated = totals.counts[:, j] > 0
    return totals.sums[rated, j] / totals.counts[rated, j]


def _rank_test(row: dict, real: np.ndarray, synthetic: np.ndarray) -> None:
    if np.ptp(np.concatenate([real, synthetic])) == 0:
        row["note"] = note_codes("constant_no_rank_test")
        return
    test = mannwhitneyu(synthetic, real, alternative="two-sided")
    row["mann_whitney_u"] = float(test.statistic)
    row["p_value"] = float(test.pvalue)
    # Cliff's delta = P(syn > real) − P(syn < real) = 2U/(n1·n2) − 1 (U counts ties as ½).
    row["cliffs_delta"] = float(2 * test.statistic / (len(real) * len(synthetic)) - 1)


def _verdict(domain: str, ci_low: float, ci_high: float, margin: float) -> str:
    if domain == AUTHORSHIP_DOMAIN:
        return NOT_APPLICABLE
    if not np.isfinite(ci_low):
        return NOT_COMPUTABLE
    if ci_low > -margin:
        return NON_INFERIOR
    if ci_high < -margin:
        return INFERIOR
    return INCONCLUSIVE


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjustment over the finite p-values (the others stay NaN).

    Written out (tests compare it with statsmodels) because importing a library for it
    costs a second on the first results page, and statsmodels runs gc.collect() per call.
    """
    adjusted = np.full(len(p_values), np.nan)
    finite = np.flatnonzero(np.isfinite(p_values))
    if len(finite):
        order = finite[np.argsort(p_values[finite], kind="stable")]
        m = len(order)
        stepped = np.maximum.accumulate((m - np.arange(m)) * p_values[order])
        adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted
