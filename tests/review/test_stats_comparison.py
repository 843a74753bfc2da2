"""Synthetic versus real: report-weighted means, the BCa interval of the difference against
scipy's, the Bonferroni family of non-inferiority verdicts, and the clustered DeLong
(Obuchowski) interval of the AUC against the formulas written out with loops."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtri
from scipy.stats import bootstrap

from review.stats import analyse
from review.stats.authorship import clustered_auc_interval
from review.stats.bootstrap import bca_interval

COLUMNS = ["report", "source", "reviewer", "domain", "score"]
QUALITY = ("language_quality", "medical_consistency", "completeness", "conciseness")


def study(seed: int, *, n=40, domains=QUALITY, reviewers=2, shift=-0.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for source, offset in (("real", 0.0), ("synthetic", shift)):
        for i in range(n):
            quality = rng.normal(7.5 + offset, 1)
            for r in range(reviewers):
                for domain in domains:
                    score = int(np.clip(round(quality + rng.normal(0, 1)), 1, 10))
                    rows.append((f"{source[0]}{i:03d}", source, f"R{r}", domain, score))
    return pd.DataFrame(rows, columns=COLUMNS)


def test_means_are_report_weighted_with_the_rating_weighted_ones_as_a_column():
    # Report r0 rated three times 9, r1 once 5: each report counts once → 7; ratings → 8.
    rows = [("r0", "real", f"R{i}", "completeness", 9) for i in range(3)]
    rows += [("r1", "real", "R0", "completeness", 5)]
    rows += [("s0", "synthetic", "R0", "completeness", 6)]
    row = analyse(pd.DataFrame(rows, columns=COLUMNS), n_boot=100).comparison.iloc[0]
    assert row["mean_real"] == 7.0
    assert row["mean_real_ratings"] == 8.0
    assert row["difference"] == -1.0


def test_bca_interval_equals_scipy_on_scipys_own_resamples():
    rng = np.random.default_rng(1)
    real, synthetic = rng.normal(8, 1, 30), rng.gamma(4, 0.5, 25) + 5
    result = bootstrap(
        (synthetic, real),
        lambda s, r, axis: s.mean(axis=axis) - r.mean(axis=axis),
        n_resamples=3000,
        method="BCa",
        random_state=np.random.default_rng(5),
    )
    estimate = synthetic.mean() - real.mean()
    # Jackknife: leave one value of each sample out in turn, scipy's sample by sample.
    jackknife = [
        np.array([np.delete(synthetic, i).mean() - real.mean() for i in range(25)]),
        np.array([synthetic.mean() - np.delete(real, i).mean() for i in range(30)]),
    ]
    low, high = bca_interval(estimate, result.bootstrap_distribution, jackknife, 0.95)
    assert low == pytest.approx(result.confidence_interval.low, abs=1e-12)
    assert high == pytest.approx(result.confidence_interval.high, abs=1e-12)


def test_engine_difference_interval_agrees_with_scipy_bca_on_report_means():
    table = study(3, n=60, domains=("completeness",))
    row = analyse(table, n_boot=4000, seed=2).comparison.iloc[0]
    means = table.groupby(["source", "report"])["score"].mean()
    theirs = bootstrap(
        (means["synthetic"].to_numpy(), means["real"].to_numpy()),
        lambda s, r, axis: s.mean(axis=axis) - r.mean(axis=axis),
        n_resamples=4000,
        method="BCa",
        random_state=np.random.default_rng(2),
    ).confidence_interval
    # One domain: a family of one, so the verdict's interval is the 95% one.
    assert row["ci_level"] == 0.95
    assert (row["ci_low"], row["ci_high"]) == (row["ci95_low"], row["ci95_high"])
    # Different random streams: equal to Monte Carlo error.
    assert abs(row["ci95_low"] - theirs.low) < 0.05
    assert abs(row["ci95_high"] - theirs.high) < 0.05


def test_verdicts_read_a_bonferroni_interval_over_the_quality_domains():
    table = study(4, domains=(*QUALITY, "ai_authorship"))
    comparison = analyse(table, n_boot=2000, seed=1).comparison.set_index("domain")
    quality = comparison.loc[list(QUALITY)]
    # Four quality domains: each verdict reads a 1 − 0.05/4 = 98.75% interval.
    assert (quality["ci_level"] == 1 - 0.05 / 4).all()
    assert (quality["adjustment"] == "bonferroni/4").all()
    assert (quality["ci_low"] < quality["ci95_low"]).all()
    assert (quality["ci_high"] > quality["ci95_high"]).all()
    for domain, row in quality.iterrows():
        expected = "non-inferior" if row["ci_low"] > -1.0 else "inconclusive"
        if row["ci_high"] < -1.0:
            expected = "inferior"
        assert row["verdict"] == expected, domain
    authorship = comparison.loc["ai_authorship"]
    assert authorship["ci_level"] == 0.95
    assert authorship["adjustment"] == ""
    assert authorship["verdict"] == "not applicable"


# --- clustered DeLong ---------------------------------------------------------------------


def obuchowski_by_loops(scores, synthetic, clusters, level=0.95):
    """Obuchowski (1997) written out: psi over every pair, components summed per cluster."""
    positives = [(c, x) for x, s, c in zip(scores, synthetic, clusters, strict=True) if s]
    negatives = [(c, y) for y, s, c in zip(scores, synthetic, clusters, strict=True) if not s]
    m, n = len(positives), len(negatives)

    def psi(x, y):
        return 1.0 if x > y else 0.5 if x == y else 0.0

    auc = sum(psi(x, y) for _, x in positives for _, y in negatives) / (m * n)
    names = sorted(set(clusters))
    big_i = len(names)
    v10 = {c: 0.0 for c in names}
    v01 = {c: 0.0 for c in names}
    m_i = {c: 0 for c in names}
    n_i = {c: 0 for c in names}
    for c, x in positives:
        v10[c] += sum(psi(x, y) for _, y in negatives) / n
        m_i[c] += 1
    for c, y in negatives:
        v01[c] += sum(psi(x, y) for _, x in positives) / m
        n_i[c] += 1
    s10 = big_i / ((big_i - 1) * m) * sum((v10[c] - m_i[c] * auc) ** 2 for c in names)
    s01 = big_i / ((big_i - 1) * n) * sum((v01[c] - n_i[c] * auc) ** 2 for c in names)
    s11 = (
        big_i / (big_i - 1) * sum((v10[c] - m_i[c] * auc) * (v01[c] - n_i[c] * auc) for c in names)
    )
    variance = s10 / m + s01 / n + 2 * s11 / (m * n)
    half = ndtri((1 + level) / 2) * math.sqrt(variance)
    return max(auc - half, 0.0), min(auc + half, 1.0)


def test_clustered_delong_matches_obuchowski_written_out():
    rng = np.random.default_rng(9)
    n_reports = 30
    synthetic_report = rng.random(n_reports) < 0.5
    clusters, scores, truth = [], [], []
    for report in range(n_reports):
        level = 6 if synthetic_report[report] else 4
        for _ in range(int(rng.integers(1, 4))):  # 1 to 3 reviewers per report
            clusters.append(f"C{report:02d}")
            scores.append(int(np.clip(level + rng.integers(-3, 4), 1, 10)))
            truth.append(bool(synthetic_report[report]))
    scores_a, truth_a, clusters_a = np.array(scores), np.array(truth), np.array(clusters)
    ours = clustered_auc_interval(scores_a, truth_a, clusters_a.astype(object))
    assert ours == pytest.approx(obuchowski_by_loops(scores, truth, clusters), abs=1e-12)
    # Every rating its own cluster: DeLong, DeLong & Clarke-Pearson's unclustered interval.
    alone = clustered_auc_interval(scores_a, truth_a, np.arange(len(scores)).astype(object))
    assert alone == pytest.approx(
        obuchowski_by_loops(scores, truth, list(range(len(scores)))), abs=1e-12
    )


def test_authorship_rows_carry_both_intervals():
    table = study(6, n=30, domains=("ai_authorship",), shift=1.0)
    pooled = analyse(table, n_boot=1000, seed=3).authorship.iloc[0]
    part = table.assign(synthetic=table["source"] == "synthetic")
    expected = obuchowski_by_loops(
        part["score"].tolist(), part["synthetic"].tolist(), part["report"].tolist()
    )
    assert (pooled["delong_ci_low"], pooled["delong_ci_high"]) == pytest.approx(expected)
    assert pooled["ci_low"] < pooled["auc"] < pooled["ci_high"]
