"""The statistics engine against independent computations: published worked examples,
scipy / scikit-learn / pingouin / statsmodels, or brute force written out in the test."""

import math

import numpy as np
import pandas as pd
import pingouin
import pytest
from scipy.stats import bootstrap, mannwhitneyu
from sklearn.metrics import roc_auc_score, roc_curve
from statsmodels.stats.multitest import multipletests

from review.stats import Scale, analyse
from review.stats.agreement import icc_table
from review.stats.authorship import auc_from_counts
from review.stats.notes import NOTE_LABELS, note_codes, note_text

# Shrout & Fleiss (1979), "Intraclass correlations: uses in assessing rater reliability",
# Psychological Bulletin 86(2), Table 2: 6 targets rated by 4 judges.
SHROUT_FLEISS = np.array(
    [
        [9, 2, 5, 8],
        [6, 1, 3, 2],
        [8, 4, 6, 8],
        [7, 1, 2, 6],
        [10, 5, 6, 9],
        [6, 2, 4, 7],
    ]
)
# Their Table 4: the six forms for these data.
SHROUT_FLEISS_ICC = {
    "ICC(1,1)": 0.17,
    "ICC(2,1)": 0.29,
    "ICC(3,1)": 0.71,
    "ICC(1,k)": 0.44,
    "ICC(2,k)": 0.62,
    "ICC(3,k)": 0.91,
}

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example C: 4 observers,
# 12 units, values 1–5, missing values as None.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def long_table(matrix, *, domain="language_quality", source="real", prefix="U") -> pd.DataFrame:
    rows = []
    for reviewer, scores in enumerate(np.asarray(matrix, dtype=object).T):
        for unit, score in enumerate(scores):
            if score is not None:
                rows.append((f"{prefix}{unit}", source, f"R{reviewer + 1}", domain, score))
    return pd.DataFrame(rows, columns=["report", "source", "reviewer", "domain", "score"])


def agreement_values(results, statistic_scope="all") -> dict[str, dict]:
    return {
        row["statistic"]: row
        for row in results.agreement.to_dict("records")
        if row["scope"] == statistic_scope
    }


def test_icc_matches_shrout_fleiss_table_4():
    results = analyse(long_table(SHROUT_FLEISS), n_boot=100)
    rows = agreement_values(results)
    assert {form: round(rows[form]["value"], 2) for form in SHROUT_FLEISS_ICC} == SHROUT_FLEISS_ICC
    assert rows["ICC(2,1)"]["n_reports"] == 6
    assert rows["ICC(2,1)"]["n_reviewers"] == 4
    assert all(rows[form]["valid"] for form in SHROUT_FLEISS_ICC)


def test_icc_values_and_intervals_match_pingouin():
    rng = np.random.default_rng(3)
    matrix = np.clip(np.round(rng.normal(6, 2, (30, 1)) + rng.normal(0, 1.2, (30, 3))), 1, 10)
    ours = icc_table(matrix)
    data = pd.DataFrame(
        [(t, r, matrix[t, r]) for t in range(30) for r in range(3)],
        columns=["target", "rater", "score"],
    )
    theirs = pingouin.intraclass_corr(data=data, targets="target", raters="rater", ratings="score")
    names = dict(
        zip(
            ["ICC(1,1)", "ICC(A,1)", "ICC(C,1)", "ICC(1,k)", "ICC(A,k)", "ICC(C,k)"],
            ["ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)"],
            strict=True,
        )
    )
    for _, row in theirs.iterrows():
        value, low, high = ours[names[row["Type"]]]
        assert value == pytest.approx(row["ICC"], abs=1e-9)
        # pingouin rounds its interval to two decimals.
        assert round(low, 2) == pytest.approx(row["CI95"][0], abs=1e-9)
        assert round(high, 2) == pytest.approx(row["CI95"][1], abs=1e-9)


def test_krippendorff_alpha_matches_2011_worked_example():
    results = analyse(long_table(np.array(KRIPPENDORFF_2011, dtype=object).T), n_boot=100)
    rows = agreement_values(results)
    # Krippendorff (2011) p. 8: interval .849, ordinal .815.
    assert round(rows["alpha_interval"]["value"], 3) == 0.849
    assert round(rows["alpha_ordinal"]["value"], 3) == 0.815
    # Unit 12 has a single value: it cannot be paired and is not counted.
    assert rows["alpha_interval"]["n_reports"] == 11
    assert rows["alpha_interval"]["n_reviewers"] == 4


def test_quadratic_kappa_matches_formula_written_out():
    first = np.array([1, 2, 3, 4, 5, 5, 3, 2, 4, 1])
    second = np.array([1, 3, 3, 5, 5, 4, 2, 2, 4, 2])
    results = analyse(long_table(np.column_stack([first, second])), n_boot=100)
    kappa = agreement_values(results)["kappa_quadratic"]
    # Cohen (1968) weighted kappa over the 1–10 categories, quadratic disagreement weights.
    categories = np.arange(1, 11)
    observed = np.zeros((10, 10))
    for a, b in zip(first, second, strict=True):
        observed[a - 1, b - 1] += 1
    observed /= observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    weights = (categories[:, None] - categories[None, :]) ** 2
    expected_kappa = 1 - (weights * observed).sum() / (weights * expected).sum()
    assert kappa["value"] == pytest.approx(expected_kappa, abs=1e-12)
    assert kappa["n_reports"] == 10


def _two_sources(seed=1, n_real=40, n_synthetic=35, reviewers=2):
    rng = np.random.default_rng(seed)
    rows = []
    for source, n, shift in (("real", n_real, 0.0), ("synthetic", n_synthetic, -0.6)):
        for i in range(n):
            quality = rng.normal(7.5 + shift, 1)
            for r in range(reviewers):
                for domain in ("medical_consistency", "ai_authorship"):
                    centre = quality if domain != "ai_authorship" else 4 + (source == "synthetic")
                    score = int(np.clip(round(centre + rng.normal(0, 1.5)), 1, 10))
                    rows.append((f"{source[0]}{i}", source, f"R{r + 1}", domain, score))
    return pd.DataFrame(rows, columns=["report", "source", "reviewer", "domain", "score"])


def test_difference_and_rank_test_match_scipy_on_report_means():
    table = _two_sources()
    results = analyse(table, n_boot=500, seed=4)
    row = results.comparison.set_index("domain").loc["medical_consistency"]
    part = table[table["domain"] == "medical_consistency"]
    means = part.groupby("source")["score"].mean()
    assert row["difference"] == pytest.approx(means["synthetic"] - means["real"], abs=1e-12)
    per_report = part.groupby(["source", "report"])["score"].mean()
    synthetic, real = per_report["synthetic"].to_numpy(), per_report["real"].to_numpy()
    expected = mannwhitneyu(synthetic, real, alternative="two-sided")
    assert row["p_value"] == pytest.approx(expected.pvalue, rel=1e-12)
    assert row["mann_whitney_u"] == expected.statistic
    # Cliff's delta by brute force over all pairs.
    pairs = np.sign(synthetic[:, None] - real[None, :])
    assert row["cliffs_delta"] == pytest.approx(pairs.mean(), abs=1e-12)


def test_holm_adjustment_matches_statsmodels():
    table = _two_sources()
    table = pd.concat(
        [
            table,
            table[table["domain"] == "medical_consistency"].assign(
                domain="completeness", score=lambda t: (t["score"] % 10) + 1
            ),
        ]
    )
    comparison = analyse(table, n_boot=200).comparison.set_index("domain")
    # The family is the quality domains; ai_authorship is not a quality verdict.
    family = ["medical_consistency", "completeness"]
    p = comparison.loc[family, "p_value"].to_numpy()
    assert comparison.loc[family, "p_holm"].to_numpy() == pytest.approx(
        multipletests(p, method="holm")[1], rel=1e-12
    )
    assert math.isnan(comparison.loc["ai_authorship", "p_holm"])
    assert math.isfinite(comparison.loc["ai_authorship", "p_value"])


def test_bootstrap_resamples_reports_not_ratings():
    single = _two_sources(reviewers=1)
    single = single[single["domain"] == "medical_consistency"]
    # The same reports with each rating written three times (three identical reviewers):
    # resampling reports gives exactly the same interval; resampling ratings would narrow it.
    tripled = pd.concat([single.assign(reviewer=f"R{i}") for i in range(3)])
    one = analyse(single, n_boot=400, seed=9).comparison.iloc[0]
    three = analyse(tripled, n_boot=400, seed=9).comparison.iloc[0]
    assert (three["ci_low"], three["ci_high"]) == pytest.approx((one["ci_low"], one["ci_high"]))


def test_bootstrap_interval_agrees_with_scipy_bootstrap():
    table = _two_sources(reviewers=1, n_real=200, n_synthetic=200)
    table = table[table["domain"] == "medical_consistency"]
    ours = analyse(table, n_boot=4000, seed=2).comparison.iloc[0]
    real = table.loc[table["source"] == "real", "score"].to_numpy()
    synthetic = table.loc[table["source"] == "synthetic", "score"].to_numpy()
    theirs = bootstrap(
        (synthetic, real),
        lambda s, r, axis: s.mean(axis=axis) - r.mean(axis=axis),
        n_resamples=4000,
        method="percentile",
        random_state=np.random.default_rng(2),
    ).confidence_interval
    # Different random streams: the two percentile intervals agree to Monte Carlo error.
    assert abs(ours["ci_low"] - theirs.low) < 0.05
    assert abs(ours["ci_high"] - theirs.high) < 0.05


def test_bootstrap_is_seeded():
    table = _two_sources()
    first = analyse(table, n_boot=300, seed=7).comparison
    again = analyse(table, n_boot=300, seed=7).comparison
    other = analyse(table, n_boot=300, seed=8).comparison
    assert first["ci_low"].tolist() == again["ci_low"].tolist()
    assert first["ci_low"].tolist() != other["ci_low"].tolist()


def _shifted(real_scores, synthetic_scores):
    rows = [(f"r{i}", "real", "R1", "overall_impression", s) for i, s in enumerate(real_scores)]
    rows += [
        (f"s{i}", "synthetic", "R1", "overall_impression", s)
        for i, s in enumerate(synthetic_scores)
    ]
    return pd.DataFrame(rows, columns=["report", "source", "reviewer", "domain", "score"])


def test_noninferiority_verdicts_follow_the_margin():
    same = _shifted([8, 9] * 20, [8, 9] * 20)
    worse = _shifted([9, 10] * 20, [5, 6] * 20)
    slightly = _shifted([8, 9] * 20, [7, 9] * 20)
    verdict = lambda t, m: analyse(t, n_boot=500, margin=m).comparison.iloc[0]["verdict"]  # noqa: E731
    assert verdict(same, 1.0) == "non-inferior"
    assert verdict(worse, 1.0) == "inferior"
    # Difference -0.5, 95% CI [-0.85, -0.125] with this seed: non-inferior at a 1-point
    # margin, undecided at 0.5 (the CI straddles -0.5), inferior at 0.1.
    assert verdict(slightly, 1.0) == "non-inferior"
    assert verdict(slightly, 0.5) == "inconclusive"
    assert verdict(slightly, 0.1) == "inferior"


def test_authorship_auc_matches_sklearn_with_interval():
    table = _two_sources(seed=5)
    results = analyse(table, n_boot=500, seed=1)
    part = table[table["domain"] == "ai_authorship"]
    truth = part["source"] == "synthetic"
    pooled = results.authorship.iloc[0]
    assert pooled["scope"] == "pooled"
    assert pooled["auc"] == pytest.approx(roc_auc_score(truth, part["score"]), abs=1e-12)
    assert pooled["ci_low"] < pooled["auc"] < pooled["ci_high"]
    assert (pooled["n_real"], pooled["n_synthetic"]) == (80, 70)
    for row in results.authorship.iloc[1:].to_dict("records"):
        mine = part[part["reviewer"] == row["reviewer"]]
        assert row["auc"] == pytest.approx(
            roc_auc_score(mine["source"] == "synthetic", mine["score"]), abs=1e-12
        )
    fpr, tpr, _ = roc_curve(truth, part["score"])
    assert results.roc[0]["fpr"] == fpr.tolist()
    assert results.roc[0]["tpr"] == tpr.tolist()


def test_auc_from_score_counts_matches_sklearn():
    rng = np.random.default_rng(11)
    real, synthetic = rng.integers(1, 11, 57), rng.integers(3, 11, 43)
    levels = np.arange(1, 11)
    counts = lambda x: np.array([(x == v).sum() for v in levels])  # noqa: E731
    expected = roc_auc_score(np.r_[np.zeros(57), np.ones(43)], np.r_[real, synthetic].astype(float))
    assert auc_from_counts(counts(real), counts(synthetic)) == pytest.approx(expected, abs=1e-12)


def test_authorship_accuracy_sensitivity_specificity_at_midpoint():
    rows = [(f"r{i}", "real", "R1", "ai_authorship", s) for i, s in enumerate([2, 3, 6, 5])]
    rows += [(f"s{i}", "synthetic", "R1", "ai_authorship", s) for i, s in enumerate([8, 6, 5])]
    table = pd.DataFrame(rows, columns=["report", "source", "reviewer", "domain", "score"])
    pooled = analyse(table, n_boot=100).authorship.iloc[0]
    # Midpoint 5.5: said AI = {6 (real), 8, 6}; real said physician = 3 of 4.
    assert pooled["sensitivity"] == pytest.approx(2 / 3)
    assert pooled["specificity"] == pytest.approx(3 / 4)
    assert pooled["accuracy"] == pytest.approx(5 / 7)


def test_descriptives_match_numpy():
    table = _two_sources()
    results = analyse(table, n_boot=100)
    row = results.descriptives.set_index(["domain", "scope"]).loc[("medical_consistency", "real")]
    scores = table[(table["domain"] == "medical_consistency") & (table["source"] == "real")][
        "score"
    ]
    assert row["n_ratings"] == 80
    assert row["n_reports"] == 40
    assert row["mean"] == pytest.approx(scores.mean())
    assert row["sd"] == pytest.approx(scores.std(ddof=1))
    assert row["median"] == scores.median()
    assert row["iqr"] == pytest.approx(scores.quantile(0.75) - scores.quantile(0.25))
    assert row["histogram"] == [int((scores == v).sum()) for v in range(1, 11)]


def test_one_way_design_uses_every_rating_and_keeps_the_subtable_as_sensitivity():
    # Three reviewers, each report rated by two: R1+R2 on six reports, R2+R3 on three,
    # R1+R3 on two. No set of reviewers covers 80% of the reports: one-way design, ICC(1,1)
    # on all eleven reports; the largest complete block (R1+R2, six reports) is only the
    # labelled sensitivity figure.
    rows = []
    plan = [("R1", "R2")] * 6 + [("R2", "R3")] * 3 + [("R1", "R3")] * 2
    for i, pair in enumerate(plan):
        for j, reviewer in enumerate(pair):
            rows.append((f"U{i}", "real", reviewer, "completeness", 3 + (i % 5) + j))
    table = pd.DataFrame(rows, columns=["report", "source", "reviewer", "domain", "score"])
    rows = agreement_values(analyse(table, n_boot=100))
    one_way = rows["ICC(1,1)"]
    assert (one_way["n_reports"], one_way["n_reviewers"], one_way["design"]) == (11, 3, "one-way")
    assert one_way["recommended"] is True
    assert one_way["note"] == "design_one_way"
    assert math.isnan(rows["ICC(2,1)"]["value"])
    assert rows["ICC(2,1)"]["valid"] is False
    assert rows["ICC(2,1)"]["note"] == "design_one_way;two_way_needs_crossed"
    sensitivity = rows["ICC(1,1) complete sub-table"]
    assert (sensitivity["n_reports"], sensitivity["n_reviewers"]) == (6, 2)
    assert note_text(sensitivity["note"], sensitivity) == (
        "sensitivity figure only: ratings outside the complete sub-table are left out; "
        "complete sub-table 6 reports × 2 reviewers"
    )
    assert rows["kappa_quadratic"]["note"] == "kappa_needs_two"


def test_reviewer_offsets_show_the_harsh_reviewer():
    matrix = np.array([[6, 8], [5, 7], [9, 10]])
    offsets = analyse(long_table(matrix), n_boot=100).offsets
    row = offsets[(offsets["domain"] == "language_quality")].set_index("reviewer")
    # R1 is (2 + 2 + 1) / 3 / 2 points below the pair mean on average.
    assert row.loc["R1", "offset"] == pytest.approx(-5 / 6)
    assert row.loc["R2", "offset"] == pytest.approx(5 / 6)


def test_breakdown_by_prompt_version():
    table = _shifted([8, 9] * 5, [5, 6, 5, 6, 5, 8, 9, 8, 9, 8])  # v1 then v2
    table["prompt_version"] = [None] * 10 + ["v1"] * 5 + ["v2"] * 5
    breakdown = analyse(table, n_boot=200).breakdown
    rows = breakdown[breakdown["factor"] == "prompt_version"].set_index("level")
    assert rows.loc["v1", "mean"] == pytest.approx(5.4)
    assert rows.loc["v1", "difference"] == pytest.approx(-3.1)
    assert rows.loc["v1", "verdict"] == "inferior"
    assert rows.loc["v2", "difference"] == pytest.approx(-0.1)
    assert breakdown[breakdown["factor"] == "batch"].empty


# --- degenerate inputs: NaN with a reason, never an exception ------------------------


def test_one_reviewer_gives_no_agreement_with_reason():
    rows = agreement_values(analyse(long_table(np.array([[5], [6], [7]])), n_boot=100))
    assert math.isnan(rows["ICC(1,1)"]["value"])
    assert rows["ICC(1,1)"]["note"] == "no_pairs"
    assert math.isnan(rows["alpha_interval"]["value"])
    assert rows["alpha_interval"]["note"] == "no_pairs"


def test_constant_scores_give_no_agreement_with_reason():
    rows = agreement_values(analyse(long_table(np.full((5, 3), 7)), n_boot=100))
    assert math.isnan(rows["ICC(3,1)"]["value"])
    assert rows["ICC(3,1)"]["note"] == "constant"
    assert rows["alpha_ordinal"]["note"] == "constant"


def test_only_one_source_gives_no_comparison_with_reason():
    results = analyse(long_table(np.array([[5, 6], [7, 7], [8, 6]])), n_boot=100)
    row = results.comparison.iloc[0]
    assert row["verdict"] == "not computable"
    assert row["note"] == "no_synthetic_ratings"
    assert math.isnan(row["ci_low"])
    pooled = results.authorship.iloc[0]
    assert math.isnan(pooled["auc"])
    assert pooled["note"] == "no_authorship_ratings"


def test_domain_without_ratings_and_empty_table():
    table = long_table(np.array([[5, 6], [7, 7]]))
    results = analyse(table, n_boot=100, domains=["completeness", "language_quality"])
    described = results.descriptives.set_index(["domain", "scope"])
    assert described.loc[("completeness", "all"), "note"] == "no_ratings"
    assert described.loc[("completeness", "all"), "histogram"] == [0] * 10
    empty = analyse(table.iloc[0:0], n_boot=100, domains=["completeness"])
    assert empty.n_ratings == 0
    assert empty.comparison.iloc[0]["verdict"] == "not computable"
    assert empty.as_dict()["agreement"][0]["value"] is None


def test_two_sources_with_single_report_each():
    table = _shifted([7], [6])
    row = analyse(table, n_boot=100).comparison.iloc[0]
    assert row["difference"] == -1.0
    assert row["note"] == "one_report_per_source"
    assert row["verdict"] == "not computable"


def test_custom_scale_histogram():
    table = long_table(np.array([[0, 4], [2, 2]]))
    row = analyse(table, n_boot=100, scale=Scale(0, 4)).descriptives.iloc[0]
    assert row["histogram"] == [1, 0, 2, 0, 1]


def test_holm_with_missing_and_large_p_values_matches_statsmodels():
    from review.stats.comparison import holm

    p = np.array([0.01, np.nan, 0.04, 0.03, 0.9, 0.005])
    finite = ~np.isnan(p)
    adjusted = holm(p)
    assert math.isnan(adjusted[1])
    assert adjusted[finite] == pytest.approx(multipletests(p[finite], method="holm")[1])


def test_every_note_code_has_a_label_and_unknown_codes_are_refused():
    assert note_text("constant;no_pairs") == (
        "scores are constant; no report was rated by two reviewers"
    )
    assert all(label for label in NOTE_LABELS.values())
    with pytest.raises(KeyError):
        note_codes("made_up")
