"""Synthetic versus real, per domain: is the synthetic mean non-inferior?

Ratings of one report are not independent (same text), so the unit of every figure is the
report: means are report-weighted (each report's mean counts once; the rating-weighted
means are a column), the bootstrap draws reports (stratified by source) and the
Mann–Whitney test compares per-report mean scores. Inference is conditional on the panel
of reviewers: their leniency is fixed, not resampled.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu

from review.stats.bootstrap import bca_interval, percentile_interval, resampled_totals
from review.stats.frame import AUTHORSHIP_DOMAIN, REAL, SYNTHETIC
from review.stats.notes import note_codes

NON_INFERIOR = "non-inferior"
INFERIOR = "inferior"
INCONCLUSIVE = "inconclusive"
NOT_APPLICABLE = "not applicable"
NOT_COMPUTABLE = "not computable"
# Fewer reports than this in a source: no interval and no verdict (the rank test stays).
MIN_REPORTS = 5
# Two-sided error rate of the family of non-inferiority verdicts (0.025 one-sided).
FAMILY_ALPHA = 0.05


@dataclass
class ReportTotals:
    """Per report (rows) and domain (columns): sum and count of scores."""

    sums: np.ndarray
    counts: np.ndarray

    @property
    def n_reports(self) -> np.ndarray:
        return (self.counts > 0).sum(axis=0)

    def report_means(self) -> np.ndarray:
        """Each report's mean score (0 where the report has no rating in the domain)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.counts > 0, self.sums / self.counts, 0.0)

    def means(self) -> np.ndarray:
        """Report-weighted: the mean of the reports' means, each report counting once
        (the unit the study samples, and the one the tests compare)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.report_means().sum(axis=0) / self.n_reports

    def rating_means(self) -> np.ndarray:
        """Rating-weighted: a report with more ratings counts more."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.sums.sum(axis=0) / self.counts.sum(axis=0)

    def resampled_means(self, n_boot: int, rng: np.random.Generator) -> np.ndarray:
        width = self.sums.shape[1]
        rated = (self.counts > 0).astype(float)
        totals = resampled_totals(np.hstack([self.report_means(), rated]), n_boot, rng)
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
    """One row per domain; also returns the real resamples so a breakdown can reuse them.

    Multiplicity: the non-inferiority verdicts over the quality domains (every domain but
    ai_authorship) are one family; each reads a Bonferroni-adjusted two-sided BCa interval
    of level 1 − 0.05 / m, i.e. a one-sided test at 0.025 / m (ICH E9, 1998, section 5.6).
    The Mann–Whitney test is a secondary figure, Holm-adjusted over the same family."""
    rng = np.random.default_rng(seed)
    real = report_totals(frame[frame["source"] == REAL], domains)
    synthetic = report_totals(frame[frame["source"] == SYNTHETIC], domains)
    if real_resamples is None:
        real_resamples = real.resampled_means(n_boot, rng)
    synthetic_resamples = synthetic.resampled_means(n_boot, rng)
    real_low, real_high = percentile_interval(real_resamples)
    syn_low, syn_high = percentile_interval(synthetic_resamples)
    differences = synthetic_resamples - real_resamples
    real_means, syn_means = real.means(), synthetic.means()
    real_n, syn_n = real.n_reports, synthetic.n_reports
    family = [d for d in domains if d != AUTHORSHIP_DOMAIN]
    adjusted_level = 1 - FAMILY_ALPHA / max(len(family), 1)
    rows = []
    for j, domain in enumerate(domains):
        quality = domain != AUTHORSHIP_DOMAIN
        row: dict[str, Any] = {
            "domain": domain,
            "n_reports_real": int(real_n[j]),
            "n_reports_synthetic": int(syn_n[j]),
            "mean_real": float(real_means[j]),
            "mean_real_ci_low": float(real_low[j]),
            "mean_real_ci_high": float(real_high[j]),
            "mean_real_ratings": float(real.rating_means()[j]),
            "mean_synthetic": float(syn_means[j]),
            "mean_synthetic_ci_low": float(syn_low[j]),
            "mean_synthetic_ci_high": float(syn_high[j]),
            "mean_synthetic_ratings": float(synthetic.rating_means()[j]),
            "difference": float(syn_means[j] - real_means[j]),
            "ci_low": np.nan,
            "ci_high": np.nan,
            "ci_level": adjusted_level if quality else 1 - FAMILY_ALPHA,
            "ci95_low": np.nan,
            "ci95_high": np.nan,
            "adjustment": f"bonferroni/{len(family)}" if quality else "",
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
            rows.append(row)
            continue
        real_means_j, syn_means_j = _report_means(real, j), _report_means(synthetic, j)
        if real_n[j] < 2 or syn_n[j] < 2:
            row["note"] = note_codes("one_report_per_source")
        elif np.ptp(real_means_j) == 0 and np.ptp(syn_means_j) == 0:
            # Every report of each source has the same mean: a bootstrap interval would be
            # a point ([0, 0] when both are equal), which is no evidence of anything.
            row["note"] = note_codes("no_variance")
        else:
            _rank_test(row, real_means_j, syn_means_j)
            if real_n[j] < MIN_REPORTS or syn_n[j] < MIN_REPORTS:
                row["note"] = note_codes(row["note"], "few_reports_per_source")
            else:
                _intervals(row, differences[:, j], real_means_j, syn_means_j)
        row["verdict"] = _verdict(domain, row["ci_low"], row["ci_high"], margin)
        rows.append(row)
    table = pd.DataFrame(rows)
    if len(table):
        in_family = (table["domain"] != AUTHORSHIP_DOMAIN).to_numpy()
        p_holm = np.full(len(table), np.nan)
        p_holm[in_family] = holm(table["p_value"].to_numpy()[in_family])
        table["p_holm"] = p_holm
    else:
        table["p_holm"] = []
    return table, real_resamples


def _intervals(
    row: dict, resamples: np.ndarray, real_means: np.ndarray, synthetic_means: np.ndarray
) -> None:
    """BCa intervals of the difference of report-weighted means: at 95%, and at the
    family's adjusted level (the one the verdict reads)."""
    estimate = row["difference"]
    # Leave one report out of each source in turn (closed form for a mean).
    real_total, syn_total = real_means.sum(), synthetic_means.sum()
    jackknife = [
        synthetic_means.mean() - (real_total - real_means) / (len(real_means) - 1),
        (syn_total - synthetic_means) / (len(synthetic_means) - 1) - real_means.mean(),
    ]
    row["ci95_low"], row["ci95_high"] = bca_interval(
        estimate, resamples, jackknife, 1 - FAMILY_ALPHA
    )
    row["ci_low"], row["ci_high"] = bca_interval(estimate, resamples, jackknife, row["ci_level"])
    for low, high in (("ci_low", "ci_high"), ("ci95_low", "ci95_high")):
        if not (row[low] <= estimate <= row[high]):
            row[low], row[high] = np.nan, np.nan
            row["note"] = note_codes(row["note"], "ci_dropped")


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
