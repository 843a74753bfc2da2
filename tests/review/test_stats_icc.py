"""Agreement on every rating: the ICC from variance components of incomplete tables, design
detection, row-order invariance, Gwet's AC2 and the guards, each against an independent
computation (statsmodels' ANOVA and mixed model, a published worked example) or a
simulation with known truth."""

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm

from review.stats import Scale, analyse
from review.stats.agreement import icc_rows as agreement_icc_rows
from review.stats.agreement import koo_li_band
from review.stats.agreement_bootstrap import (
    ac2_from_terms,
    ac2_unit_terms,
    quadratic_weights,
    value_counts,
)
from tests.review.test_stats_engine import KRIPPENDORFF_2011, agreement_values, long_table

COLUMNS = ["report", "source", "reviewer", "domain", "score"]


def panel_study(seed: int, *, n_reports=300, n_reviewers=5, per_report=3, missing=0.05):
    """Each report rated by `per_report` of `n_reviewers` drawn at random, some ratings lost.
    Truth: report variance 1, reviewer variance 0.3, residual 1.14 → ICC 1/2.44 = 0.41."""
    rng = np.random.default_rng(seed)
    quality = rng.normal(0, 1, n_reports)
    leniency = rng.normal(0, math.sqrt(0.3), n_reviewers)
    rows = []
    for i in range(n_reports):
        for j in rng.choice(n_reviewers, per_report, replace=False):
            if rng.random() < missing:
                continue
            score = 6 + quality[i] + leniency[j] + rng.normal(0, math.sqrt(1.14))
            rows.append((f"P{i:03d}", "real", f"R{j}", "completeness", score))
    return pd.DataFrame(rows, columns=COLUMNS)


def crossed_study(seed: int, *, n_reports=60, n_reviewers=2, drop=()):
    """Every reviewer rates every report (report var 1, reviewer var 0.5, residual 0.5)."""
    rng = np.random.default_rng(seed)
    quality = rng.normal(0, 1, n_reports)
    leniency = rng.normal(0, math.sqrt(0.5), n_reviewers)
    rows = [
        (f"C{i:03d}", "real", f"R{j}", "completeness", 6 + quality[i] + leniency[j] + e)
        for i in range(n_reports)
        for j in range(n_reviewers)
        for e in [rng.normal(0, math.sqrt(0.5))]
        if (i, j) not in drop
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def icc_rows(table: pd.DataFrame, *, n_boot=0, seed=0) -> dict[str, dict]:
    """The ICC rows of a (continuous) table, by statistic."""
    rows = agreement_icc_rows(table, domain="completeness", scope="real", n_boot=n_boot, seed=seed)
    return {row["statistic"]: row for row in rows}


def on_scale(table: pd.DataFrame) -> pd.DataFrame:
    """Scores rounded onto the 1–10 scale, as a study stores them."""
    return table.assign(score=table["score"].round().clip(1, 10).astype(int))


# --- one-way, unbalanced ------------------------------------------------------------------


def test_unbalanced_one_way_icc_equals_the_anova_of_statsmodels():
    # Reports with 1 to 4 ratings each. The mean squares come from statsmodels' ANOVA of
    # score ~ C(report); ICC(1,1) = (MSB − MSW) / (MSB + (k0 − 1) MSW) with
    # k0 = (N − Σ k_i² / N) / (n − 1) (Searle 1971, Linear Models, section 9.9; Donner 1986).
    rng = np.random.default_rng(12)
    rows = []
    for i in range(40):
        quality = rng.normal(6, 1.2)
        for j in range(int(rng.integers(1, 5))):
            # A different reviewer for every rating: a one-way design.
            reviewer = f"R{i}-{j}"
            rows.append((f"U{i:02d}", "real", reviewer, "completeness", quality + rng.normal()))
    table = pd.DataFrame(rows, columns=COLUMNS)
    anova = anova_lm(smf.ols("score ~ C(report)", data=table).fit())
    msb, msw = anova.loc["C(report)", "mean_sq"], anova.loc["Residual", "mean_sq"]
    k_i = table.groupby("report").size().to_numpy()
    n_total, n = k_i.sum(), len(k_i)
    k0 = (n_total - (k_i**2).sum() / n_total) / (n - 1)
    expected = (msb - msw) / (msb + (k0 - 1) * msw)
    rows = icc_rows(table)
    assert rows["ICC(1,1)"]["value"] == pytest.approx(expected, abs=1e-12)
    assert rows["ICC(1,k)"]["value"] == pytest.approx((msb - msw) / msb, abs=1e-12)
    assert rows["ICC(1,k)"]["k"] == pytest.approx(k0, abs=1e-12)
    assert rows["ICC(1,1)"]["n_reports"] == 40
    assert rows["ICC(1,1)"]["design"] == "one-way"
    assert rows["ICC(1,1)"]["recommended"] is True


def test_panel_design_icc_is_unbiased_over_seeds_and_far_steadier_than_the_subtable():
    # The panel: 300 reports, 5 reviewers, 3 per report, 5% of ratings missing;
    # model truth 0.41. Over 100 studies (measured: mean 0.389, SD 0.055; sub-table SD
    # 0.136) the mean stays within 0.03 of the truth — each report's three reviewers come
    # from the same five, which pulls the one-way estimate about 0.02 below the model's
    # value — and the spread is under half the complete sub-table's.
    truth = 1 / 2.44
    estimates, subtable = [], []
    for seed in range(100):
        rows = icc_rows(panel_study(seed))
        assert rows["ICC(1,1)"]["design"] == "one-way"
        estimates.append(rows["ICC(1,1)"]["value"])
        subtable.append(rows["ICC(1,1) complete sub-table"]["value"])
    assert abs(np.mean(estimates) - truth) < 0.03
    assert np.std(estimates) < 0.07
    assert np.std(estimates) < np.std(subtable) / 2


# --- two-way, crossed with missing cells --------------------------------------------------


def test_crossed_design_with_one_missing_cell_stays_crossed():
    rows = icc_rows(crossed_study(3, drop={(7, 1)}), n_boot=300)
    icc = rows["ICC(2,1)"]
    assert icc["design"] == "crossed"
    assert icc["valid"] is True
    assert icc["recommended"] is True
    assert icc["note"] == "design_crossed"
    assert (icc["n_reports"], icc["n_reviewers"]) == (60, 2)
    # A bootstrap interval around the estimate (no closed form with a missing cell).
    assert icc["ci_low"] < icc["value"] < icc["ci_high"]
    assert rows["ICC(1,1)"]["recommended"] is False


def test_two_way_components_with_missing_cells_match_statsmodels_reml():
    # Crossed random effects for report and reviewer in statsmodels' MixedLM (one group,
    # variance components), REML: the same three variances as Henderson's Method III here,
    # which are not iterative; on a nearly complete table the two agree closely.
    table = crossed_study(5, n_reports=80, n_reviewers=4, drop={(3, 0), (10, 2), (41, 3)})
    model = smf.mixedlm(
        "score ~ 1",
        table.assign(group=1),
        groups="group",
        re_formula="0",
        vc_formula={"report": "0 + C(report)", "reviewer": "0 + C(reviewer)"},
    ).fit(reml=True)
    report_var, reviewer_var = model.vcomp  # vc names in sorted order: report, reviewer
    error_var = model.scale
    rows = icc_rows(table)
    expected_2 = report_var / (report_var + reviewer_var + error_var)
    expected_3 = report_var / (report_var + error_var)
    assert rows["ICC(2,1)"]["value"] == pytest.approx(expected_2, abs=0.01)
    assert rows["ICC(3,1)"]["value"] == pytest.approx(expected_3, abs=0.01)
    assert rows["ICC(2,k)"]["k"] == 4


def test_crossed_icc_with_missing_cells_is_unbiased_over_seeds():
    # 10% of cells missing at random in a 6-reviewer crossed design; truth ICC(2,1) =
    # 1 / (1 + 0.5 + 0.5) = 0.5. Measured over 100 studies: mean 0.505 with missing cells,
    # 0.507 on the same studies complete; the missing cells add no bias.
    rng = np.random.default_rng(0)
    with_missing, complete = [], []
    for seed in range(100):
        drop = {(i, j) for i in range(100) for j in range(6) if rng.random() < 0.1}
        rows = icc_rows(crossed_study(seed, n_reports=100, n_reviewers=6, drop=drop))
        assert rows["ICC(2,1)"]["design"] == "crossed"
        with_missing.append(rows["ICC(2,1)"]["value"])
        complete.append(
            icc_rows(crossed_study(seed, n_reports=100, n_reviewers=6))["ICC(2,1)"]["value"]
        )
    assert abs(np.mean(with_missing) - 0.5) < 0.02
    assert abs(np.mean(with_missing) - np.mean(complete)) < 0.01


def test_agreement_does_not_depend_on_the_order_of_rows():
    table = pd.concat(
        [
            panel_study(1, n_reports=60).assign(source="real"),
            crossed_study(2, drop={(4, 0)}).assign(source="synthetic"),
        ]
    ).pipe(on_scale)
    shuffled = table.sample(frac=1, random_state=7).reset_index(drop=True)
    first = analyse(table, n_boot=200, seed=3)
    second = analyse(shuffled, n_boot=200, seed=3)
    pd.testing.assert_frame_equal(first.agreement, second.agreement)
    pd.testing.assert_frame_equal(first.comparison, second.comparison)


# --- Gwet's AC2 ---------------------------------------------------------------------------


def test_gwet_ac1_and_quadratic_ac2_match_the_published_example():
    # irrCAC's `cac.raw4raters` (Gwet 2014, Handbook, 4th ed.; the data of Krippendorff's
    # example): AC1 0.77544 (pa 0.81818, pe 0.19032) and, with quadratic weights, AC2 0.914,
    # as documented in the irrCAC reference manual and its "weighting" vignette.
    units = np.array(KRIPPENDORFF_2011, dtype=float).T
    categories = np.arange(1.0, 6.0)
    counts = value_counts(units, categories)
    identity = np.eye(5)
    ac1 = ac2_from_terms(ac2_unit_terms(counts, identity).sum(axis=0), identity)
    assert round(float(ac1), 5) == 0.77544
    weights = quadratic_weights(categories)
    ac2 = ac2_from_terms(ac2_unit_terms(counts, weights).sum(axis=0), weights)
    assert round(float(ac2), 3) == 0.914
    # Through the engine on the 1–5 scale: the same figure, over all 12 units.
    table = long_table(np.array(KRIPPENDORFF_2011, dtype=object).T)
    row = agreement_values(analyse(table, n_boot=0, scale=Scale(1, 5)))["ac2_quadratic"]
    assert round(row["value"], 3) == 0.914
    assert row["n_reports"] == 11


def test_ac2_stays_high_where_kappa_collapses_on_skewed_scores():
    # Two reviewers agreeing on 8-10 scores, nearly always 9: the high-agreement paradox.
    first = [9] * 18 + [8, 10]
    second = [9] * 18 + [9, 10]
    rows = agreement_values(analyse(long_table(np.column_stack([first, second])), n_boot=0))
    assert rows["ac2_quadratic"]["value"] > 0.95
    assert rows["kappa_quadratic"]["value"] < rows["ac2_quadratic"]["value"]


# --- recommended statistic and Koo & Li bands ---------------------------------------------


def test_koo_li_band_reads_the_interval():
    assert koo_li_band(0.76, 0.89) == "good"
    assert koo_li_band(0.45, 0.8) == "poor-good"
    assert koo_li_band(0.91, 0.97) == "excellent"
    assert koo_li_band(float("nan"), 0.5) == ""


def test_per_source_scopes_come_before_the_pooled_one_which_is_labelled():
    table = pd.concat(
        [
            crossed_study(1).assign(source="real"),
            crossed_study(2).assign(source="synthetic", report=lambda t: "S" + t["report"]),
        ]
    ).pipe(on_scale)
    frame = analyse(table, n_boot=0).agreement
    assert list(dict.fromkeys(frame["scope"])) == ["real", "synthetic", "all"]
    pooled = frame[(frame["scope"] == "all") & (frame["statistic"] == "ICC(2,1)")].iloc[0]
    assert pooled["note"] == "design_crossed;pooled_mixes_sources"
    recommended = frame[frame["recommended"]]
    assert recommended["statistic"].tolist() == ["ICC(2,1)"] * 3


# --- guards -------------------------------------------------------------------------------


def test_few_reports_give_the_estimate_without_an_interval():
    rows = icc_rows(crossed_study(4, n_reports=4), n_boot=200)
    icc = rows["ICC(2,1)"]
    assert math.isfinite(icc["value"])
    assert math.isnan(icc["ci_low"]) and math.isnan(icc["ci_high"])
    assert icc["note"] == "design_crossed;too_few_reports"
    assert icc["band"] == ""


def test_a_negative_variance_estimate_is_not_shown():
    # Reviewers disagree systematically: the between-report variance estimate is negative.
    scores = np.array([[1, 10], [10, 1], [2, 9], [9, 2], [5, 6], [6, 5]])
    rows = agreement_values(analyse(long_table(scores), n_boot=200))
    for form in ("ICC(1,1)", "ICC(2,1)", "ICC(3,k)"):
        assert math.isnan(rows[form]["value"]), form
        assert math.isnan(rows[form]["ci_low"]), form
        assert rows[form]["note"].endswith("out_of_range"), form


def test_constant_scores_give_no_variance_and_no_verdict():
    rows = [(f"r{i}", "real", "R1", "completeness", 8) for i in range(10)]
    rows += [(f"s{i}", "synthetic", "R1", "completeness", 8) for i in range(10)]
    comparison = analyse(pd.DataFrame(rows, columns=COLUMNS), n_boot=200).comparison.iloc[0]
    assert comparison["difference"] == 0.0
    assert math.isnan(comparison["ci_low"]) and math.isnan(comparison["ci_high"])
    assert comparison["verdict"] == "not computable"
    assert comparison["note"] == "no_variance"


def test_auc_with_fewer_than_five_reports_per_class_has_no_interval():
    rows = [("r0", "real", "R1", "ai_authorship", 2), ("s0", "synthetic", "R1", "ai_authorship", 9)]
    pooled = analyse(pd.DataFrame(rows, columns=COLUMNS), n_boot=200).authorship.iloc[0]
    assert pooled["auc"] == 1.0
    assert math.isnan(pooled["ci_low"]) and math.isnan(pooled["ci_high"])
    assert pooled["note"] == "few_reports_for_auc"


def test_fewer_than_five_reports_per_source_give_no_interval_and_no_verdict():
    rows = [(f"r{i}", "real", "R1", "completeness", s) for i, s in enumerate([7, 8, 9])]
    rows += [(f"s{i}", "synthetic", "R1", "completeness", s) for i, s in enumerate([6, 8, 7])]
    row = analyse(pd.DataFrame(rows, columns=COLUMNS), n_boot=200).comparison.iloc[0]
    assert row["difference"] == -1.0
    assert math.isnan(row["ci_low"])
    assert row["verdict"] == "not computable"
    assert row["note"] == "few_reports_per_source"


def test_an_undefined_interval_is_explained():
    # The second reviewer always gives one point more: no residual variance, so McGraw &
    # Wong's F interval of ICC(2,1) is undefined; the estimate stands with a note.
    rows = [
        (f"U{i}", "real", reviewer, "completeness", score + bump)
        for i, score in enumerate([3, 5, 6, 8, 4, 7])
        for reviewer, bump in (("R1", 0), ("R2", 1))
    ]
    icc = icc_rows(pd.DataFrame(rows, columns=COLUMNS), n_boot=100)["ICC(2,1)"]
    # By hand: MSB = 2·17.5/5 = 7, MSJ = 6·0.5/1 = 3, MSE = 0;
    # ICC(2,1) = MSB / (MSB + k·MSJ/n) = 7 / (7 + 2·3/6) = 0.875.
    assert icc["value"] == pytest.approx(0.875, abs=1e-12)
    assert math.isnan(icc["ci_low"])
    assert icc["note"] == "design_crossed;ci_undefined"
