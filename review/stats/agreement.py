"""Inter-rater agreement per domain and scope: ICC (Shrout & Fleiss 1979), Krippendorff's
alpha, quadratic-weighted kappa, and each reviewer's offset from the panel.

The six ICC forms follow pingouin's ANOVA formulas (McGraw & Wong 1996 intervals); they are
computed here in numpy on the complete reports × reviewers sub-table because this runs for
every domain and scope on each page load, and tests compare them with pingouin.
"""

import itertools
import warnings
from typing import Literal

import krippendorff
import numpy as np
import pandas as pd
from scipy.stats import f as f_dist
from sklearn.metrics import cohen_kappa_score

from review.stats.agreement_bootstrap import alpha_intervals, kappa_interval
from review.stats.frame import SCOPES, Scale
from review.stats.notes import note_codes

ICC_FORMS = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")
ONE_WAY_FORMS = ("ICC(1,1)", "ICC(1,k)")
CROSSED = "crossed"
ONE_WAY = "one-way"
# Resamples behind the alpha and kappa intervals (fewer if the study's setting asks fewer).
# Hayes & Krippendorff (2007) bootstrap alpha with 1,000 or more; each domain and scope
# draws its own, 18 sets per analysis, and 2,000 took a third of a second of the results
# page's one-second budget at 18,000 ratings.
AGREEMENT_RESAMPLES = 1000
# Above this many reviewer subsets to try, the complete sub-table uses the busiest reviewers.
_MAX_SUBSETS = 300


def icc_table(matrix: np.ndarray, alpha: float = 0.05) -> dict[str, tuple[float, float, float]]:
    """The six ICC forms with 95% CIs for a complete (targets × raters) matrix."""
    n, k = matrix.shape
    grand = matrix.mean()
    ss_total = ((matrix - grand) ** 2).sum()
    ss_rows = k * ((matrix.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((matrix.mean(axis=0) - grand) ** 2).sum()
    ss_error = ss_total - ss_rows - ss_cols
    msb = ss_rows / (n - 1)
    msj = ss_cols / (k - 1)
    mse = ss_error / ((n - 1) * (k - 1))
    msw = (ss_cols + ss_error) / (n * (k - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        icc1 = (msb - msw) / (msb + (k - 1) * msw)
        icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
        icc3 = (msb - mse) / (msb + (k - 1) * mse)
        icc1k = (msb - msw) / msb
        icc2k = (msb - mse) / (msb + (msj - mse) / n)
        icc3k = (msb - mse) / msb
        f1 = msb / msw
        f3 = msb / mse
        df1, df1w, df3 = n - 1, n * (k - 1), (n - 1) * (k - 1)
        f1l = f1 / f_dist.ppf(1 - alpha / 2, df1, df1w)
        f1u = f1 * f_dist.ppf(1 - alpha / 2, df1w, df1)
        f3l = f3 / f_dist.ppf(1 - alpha / 2, df1, df3)
        f3u = f3 * f_dist.ppf(1 - alpha / 2, df3, df1)
        fj = msj / mse
        vn = df3 * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        vd = df1 * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
        v = vn / vd
        f2u = f_dist.ppf(1 - alpha / 2, n - 1, v)
        f2l = f_dist.ppf(1 - alpha / 2, v, n - 1)
        l2 = n * (msb - f2u * mse) / (f2u * (k * msj + (k * n - k - n) * mse) + n * msb)
        u2 = n * (f2l * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f2l * msb)
        return {
            "ICC(1,1)": (icc1, (f1l - 1) / (f1l + k - 1), (f1u - 1) / (f1u + k - 1)),
            "ICC(2,1)": (icc2, l2, u2),
            "ICC(3,1)": (icc3, (f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)),
            "ICC(1,k)": (icc1k, 1 - 1 / f1l, 1 - 1 / f1u),
            "ICC(2,k)": (icc2k, l2 * k / (1 + l2 * (k - 1)), u2 * k / (1 + u2 * (k - 1))),
            "ICC(3,k)": (icc3k, 1 - 1 / f3l, 1 - 1 / f3u),
        }


def complete_subtable(matrix: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Largest block of reports rated by the same reviewers (rows complete, ≥ 2 columns).

    The block's width is the usual number of ratings per report; among reviewer subsets
    of that size the one sharing the most reports wins (ties: earlier reviewers).
    """
    rated = ~np.isnan(matrix)
    per_report = rated.sum(axis=1)
    per_report = per_report[per_report >= 2]
    if len(per_report) == 0:
        return np.empty((0, 0)), []
    width = int(np.bincount(per_report).argmax())
    columns = range(matrix.shape[1])
    subsets: list[tuple[int, ...]]
    subsets = list(itertools.islice(itertools.combinations(columns, width), _MAX_SUBSETS + 1))
    if len(subsets) > _MAX_SUBSETS:
        busiest = np.argsort(-rated.sum(axis=0), kind="stable")[:width]
        subsets = [tuple(sorted(int(c) for c in busiest))]
    best = max(subsets, key=lambda s: int(rated[:, list(s)].all(axis=1).sum()))
    rows = rated[:, list(best)].all(axis=1)
    return matrix[np.ix_(rows, list(best))], list(best)


def _row(domain, scope, statistic, value, low, high, n_reports, n_reviewers, note="", valid=True):
    return {
        "domain": domain,
        "scope": scope,
        "statistic": statistic,
        "value": float(value),
        "ci_low": float(low),
        "ci_high": float(high),
        "n_reports": int(n_reports),
        "n_reviewers": int(n_reviewers),
        "valid": bool(valid),
        "note": note,
    }


def agreement(
    frame: pd.DataFrame, *, domains: list[str], scale: Scale, n_boot: int = 0, seed: int = 0
) -> pd.DataFrame:
    """ICCs (F-distribution intervals), alpha and kappa (bootstrap over reports; no
    interval when `n_boot` is 0) per domain and scope."""
    rows: list[dict] = []
    rng = np.random.default_rng(seed)
    n_boot = min(n_boot, AGREEMENT_RESAMPLES)
    for domain in domains:
        in_domain = frame[frame["domain"] == domain]
        for scope in SCOPES:
            part = in_domain if scope == "all" else in_domain[in_domain["source"] == scope]
            rows.extend(_agreement_rows(domain, scope, part, scale, n_boot=n_boot, rng=rng))
    return pd.DataFrame(rows)


def ratings_matrix(part: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """reports × reviewers scores (NaN where a reviewer did not rate), and reviewer labels."""
    report_codes, _ = pd.factorize(part["report"].to_numpy())
    reviewer_codes, reviewers = pd.factorize(part["reviewer"].to_numpy())
    matrix = np.full((int(report_codes.max(initial=-1)) + 1, len(reviewers)), np.nan)
    matrix[report_codes, reviewer_codes] = part["score"].to_numpy()
    return matrix, np.asarray(reviewers)


def _agreement_rows(
    domain: str,
    scope: str,
    part: pd.DataFrame,
    scale: Scale,
    *,
    n_boot: int,
    rng: np.random.Generator,
) -> list[dict]:
    nan = np.nan
    if part.empty:
        return [
            _row(domain, scope, s, nan, nan, nan, 0, 0, note_codes("no_ratings"))
            for s in (*ICC_FORMS, "alpha_interval", "alpha_ordinal", "kappa_quadratic")
        ]
    matrix, _ = ratings_matrix(part)
    rated = ~np.isnan(matrix)
    rows = []
    sub, _ = complete_subtable(matrix)
    patterns = rated[rated.sum(axis=1) >= 2]
    crossed = (
        len(patterns) > 0 and bool((patterns == patterns[0]).all()) and len(patterns) == len(rated)
    )
    design = CROSSED if crossed else ONE_WAY
    n_sub, k_sub = sub.shape
    if n_sub < 2 or k_sub < 2:
        reason = note_codes("no_pairs" if k_sub < 2 else "subtable_too_small")
        rows += [_row(domain, scope, s, nan, nan, nan, n_sub, k_sub, reason) for s in ICC_FORMS]
    elif np.ptp(sub) == 0:
        rows += [
            _row(domain, scope, s, nan, nan, nan, n_sub, k_sub, note_codes("constant"))
            for s in ICC_FORMS
        ]
    else:
        values = icc_table(sub)
        for form in ICC_FORMS:
            valid = design == CROSSED or form in ONE_WAY_FORMS
            note = note_codes(
                "design_crossed" if design == CROSSED else "design_one_way",
                "complete_subtable",
                "" if valid else "two_way_invalid",
            )
            icc, low, high = values[form]
            rows.append(_row(domain, scope, form, icc, low, high, n_sub, k_sub, note, valid))
    rows += _alpha_rows(domain, scope, matrix, scale, n_boot=n_boot, rng=rng)
    rows.append(_kappa_row(domain, scope, matrix, scale, n_boot=n_boot, rng=rng))
    return rows


def _alpha_rows(
    domain: str,
    scope: str,
    matrix: np.ndarray,
    scale: Scale,
    *,
    n_boot: int,
    rng: np.random.Generator,
) -> list[dict]:
    nan = np.nan
    pairable = matrix[(~np.isnan(matrix)).sum(axis=1) >= 2]
    n_units, n_raters = len(pairable), int((~np.isnan(pairable)).any(axis=0).sum())
    rows = []
    levels: tuple[tuple[str, Literal["interval", "ordinal"]], ...] = (
        ("alpha_interval", "interval"),
        ("alpha_ordinal", "ordinal"),
    )
    if n_units == 0:
        note = note_codes("no_pairs")
        return [
            _row(domain, scope, statistic, nan, nan, nan, 0, n_raters, note)
            for statistic, _ in levels
        ]
    values = pairable[~np.isnan(pairable)]
    if np.ptp(values) == 0:
        note = note_codes("constant")
        return [
            _row(domain, scope, statistic, nan, nan, nan, n_units, n_raters, note)
            for statistic, _ in levels
        ]
    domain_values = np.union1d(scale.values, np.unique(values))
    intervals: dict[str, tuple[float, float]] = {}
    if n_boot and n_units >= 2:
        intervals = alpha_intervals(
            pairable, domain_values, tuple(level for _, level in levels), n_boot=n_boot, rng=rng
        )
    for statistic, level in levels:
        value = krippendorff.alpha(
            reliability_data=pairable.T,
            level_of_measurement=level,
            value_domain=domain_values if level == "ordinal" else None,
        )
        low, high = intervals.get(level, (nan, nan))
        rows.append(_row(domain, scope, statistic, value, low, high, n_units, n_raters))
    return rows


def _kappa_row(
    domain: str,
    scope: str,
    matrix: np.ndarray,
    scale: Scale,
    *,
    n_boot: int,
    rng: np.random.Generator,
) -> dict:
    nan = np.nan
    active = (~np.isnan(matrix)).any(axis=0)
    if active.sum() != 2:
        note = note_codes("kappa_needs_two")
        return _row(domain, scope, "kappa_quadratic", nan, nan, nan, 0, int(active.sum()), note)
    pair = matrix[:, active]
    both = pair[~np.isnan(pair).any(axis=1)]
    if len(both) == 0:
        note = note_codes("kappa_no_common")
        return _row(domain, scope, "kappa_quadratic", nan, nan, nan, 0, 2, note)
    labels = np.union1d(scale.values, np.unique(both))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = cohen_kappa_score(both[:, 0], both[:, 1], weights="quadratic", labels=labels)
    note = "" if np.isfinite(value) else note_codes("constant")
    low, high = nan, nan
    if n_boot and len(both) >= 2 and np.isfinite(value):
        low, high = kappa_interval(both, labels, n_boot=n_boot, rng=rng)
    return _row(domain, scope, "kappa_quadratic", value, low, high, len(both), 2, note)


def reviewer_offsets(frame: pd.DataFrame, *, domains: list[str]) -> pd.DataFrame:
    """Mean of (reviewer's score − panel mean of that report) over reports rated by ≥ 2.

    Negative: the reviewer rates more harshly than colleagues on the same reports.
    """
    if frame.empty:
        return pd.DataFrame(columns=["reviewer", "domain", "offset", "n_ratings", "mean"])
    grouped = frame.groupby(["report", "domain"], sort=False, observed=True)["score"]
    panel_mean = grouped.transform("mean")
    panel_size = grouped.transform("size")
    work = frame.assign(offset=(frame["score"] - panel_mean).where(panel_size >= 2))
    rows = []
    reviewers = sorted(frame["reviewer"].unique())
    for domain in [*domains, "all"]:
        part = work if domain == "all" else work[work["domain"] == domain]
        by_reviewer = part.groupby("reviewer", observed=True)
        offset = by_reviewer["offset"].mean()
        counted = by_reviewer["offset"].count()
        means = by_reviewer["score"].mean()
        for reviewer in reviewers:
            rows.append(
                {
                    "reviewer": reviewer,
                    "domain": domain,
                    "offset": float(offset.get(reviewer, np.nan)),
                    "n_ratings": int(counted.get(reviewer, 0)),
                    "mean": float(means.get(reviewer, np.nan)),
                }
            )
    return pd.DataFrame(rows)
