"""Intraclass correlations on every rating: variance components of an incomplete table.

A study rarely has a complete reports × reviewers table: panels give each report a few of
many reviewers, and a crossed design loses a cell when a reviewer skips a report. Both
models are estimated here from all ratings, without dropping reports:

- one-way random (panel designs, and ICC(1,·) everywhere): the unbalanced one-way ANOVA,
  with k0 = (N − Σ k_i² / N) / (n − 1) ratings per report (Searle 1971, *Linear Models*,
  ch. 9; Donner 1986, Int Stat Rev 54:67–82, for the approximate F interval used here);
- two-way random / mixed (crossed designs, ICC(2,·) and ICC(3,·)): variance components by
  fitting constants, Henderson's Method III (Searle, Casella & McCulloch 1992, *Variance
  Components*, ch. 5): each random factor's sum of squares after the other factor is
  fitted, with its expectation in closed form. On a complete table they are the ANOVA
  mean squares of Shrout & Fleiss (1979), so the forms equal theirs.

Every quantity is a sum over reports of a per-report vector (ratings count, sum, sum of
squares, which reviewers rated, their scores), so a bootstrap over reports is one matrix
product of resample weights with those vectors, then a batch of small reviewer × reviewer
solves: 1,000 resamples of a crossed design take milliseconds, and no iterative mixed
model is fitted on the page's path.
"""

from dataclasses import dataclass

import numpy as np
from scipy.stats import f as f_dist

from review.stats.bootstrap import percentile_interval, resample_weights

ONE_WAY_FORMS = ("ICC(1,1)", "ICC(1,k)")
TWO_WAY_FORMS = ("ICC(2,1)", "ICC(3,1)", "ICC(2,k)", "ICC(3,k)")
ICC_FORMS = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")


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


# Crossed when the reviewers who rated at least half the reports (≥ 2 of them) filled at
# least this share of their reports × reviewers cells, among reports rated twice or more,
# and gave at least this share of those reports' ratings. The empty cells are missing
# ratings of a crossed design (one skipped report does not make a panel); a panel (each
# report rated by a few of many reviewers) fills far less.
CROSSED_SHARE = 0.8


@dataclass(frozen=True)
class Design:
    crossed: bool
    # The reviewers who rated at least half the reports (bool per matrix column), and how
    # full their cells are.
    panel: np.ndarray
    share: float


def design_detect(rated: np.ndarray) -> Design:
    """The design from who rated what (reports × reviewers booleans), whatever the order."""
    multi = rated[rated.sum(axis=1) >= 2]
    if len(multi) == 0:
        return Design(False, np.zeros(rated.shape[1], dtype=bool), 0.0)
    panel = multi.sum(axis=0) >= len(multi) / 2
    if panel.sum() < 2:
        return Design(False, panel, 0.0)
    in_panel = multi[:, panel].sum()
    filled = float(in_panel / (len(multi) * panel.sum()))
    from_panel = float(in_panel / multi.sum())
    crossed = filled >= CROSSED_SHARE and from_panel >= CROSSED_SHARE
    return Design(crossed, panel, filled)


def report_features(matrix: np.ndarray) -> np.ndarray:
    """Per report (rows of a reports × reviewers matrix, NaN = not rated): the additive
    pieces every estimate below is built from.

    Columns: k_i, s_i, q_i, s_i²/k_i, then per reviewer j: d_ij, y_ij, s_i·d_ij/k_i, then
    the K×K block d_ij·d_il/k_i."""
    rated = ~np.isnan(matrix)
    d = rated.astype(float)
    y = np.where(rated, matrix, 0.0)
    k = d.sum(axis=1)
    s = y.sum(axis=1)
    q = (y**2).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        inv_k = np.where(k > 0, 1 / k, 0.0)
    outer = (d[:, :, None] * d[:, None, :]) * inv_k[:, None, None]
    return np.hstack(
        [
            np.column_stack([k, s, q, s**2 * inv_k]),
            d,
            y,
            d * (s * inv_k)[:, None],
            outer.reshape(len(matrix), -1),
        ]
    )


@dataclass(frozen=True)
class Components:
    """Sums of squares and variance components of one table (or a batch of resamples)."""

    n: np.ndarray  # reports
    total: np.ndarray  # ratings N
    k0: np.ndarray
    msb: np.ndarray
    msw: np.ndarray
    report: np.ndarray  # σ²_r (Henderson III)
    reviewer: np.ndarray  # σ²_c
    error: np.ndarray  # σ²_e


def components(
    totals: np.ndarray, n: np.ndarray | float, n_reviewers: int, sum_k2: np.ndarray | float
) -> Components:
    """Components from feature totals (… × features); `n` reports and Σk_i² per row."""
    width = n_reviewers
    k_total, s_total, q_total, between = (totals[..., i] for i in range(4))
    d_total = totals[..., 4 : 4 + width]
    y_total = totals[..., 4 + width : 4 + 2 * width]
    centred = totals[..., 4 + 2 * width : 4 + 3 * width]
    outer = totals[..., 4 + 3 * width :].reshape(*totals.shape[:-1], width, width)
    with np.errstate(invalid="ignore", divide="ignore"):
        ss_within = q_total - between
        ss_between = between - s_total**2 / k_total
        msb = ss_between / (n - 1)
        msw = ss_within / (k_total - n)
        k0 = (k_total - sum_k2 / k_total) / (n - 1)
        # Reviewer dummies centred within reports: A = D_c'D_c, b = D_c'y_c.
        a = np.einsum("...j,jl->...jl", d_total, np.eye(width)) - outer
        b = y_total - centred
        a_plus = np.linalg.pinv(a, hermitian=True)
        explained = np.einsum("...j,...jl,...l->...", b, a_plus, b)
        rank = np.linalg.matrix_rank(a, hermitian=True)
        ss_error = ss_within - explained  # after reports and reviewers
        ss_reviewers_only = q_total - np.where(d_total > 0, y_total**2 / d_total, 0).sum(axis=-1)
        df_error = k_total - n - rank
        error = ss_error / df_error
        # E[R(reviewer | report)] = rank·σ²_e + (N − n)·σ²_c ;
        # E[R(report | reviewer)] = (n − 1)·σ²_e + (N − K)·σ²_r.
        reviewer = (explained - rank * error) / (k_total - n)
        report = (ss_reviewers_only - ss_error - (n - 1) * error) / (k_total - rank - 1)
    return Components(np.asarray(n), k_total, k0, msb, msw, report, reviewer, error)


def one_way_forms(c: Components) -> dict[str, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "ICC(1,1)": (c.msb - c.msw) / (c.msb + (c.k0 - 1) * c.msw),
            "ICC(1,k)": (c.msb - c.msw) / c.msb,
        }


def two_way_forms(c: Components, k: int) -> dict[str, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "ICC(2,1)": c.report / (c.report + c.reviewer + c.error),
            "ICC(3,1)": c.report / (c.report + c.error),
            "ICC(2,k)": c.report / (c.report + (c.reviewer + c.error) / k),
            "ICC(3,k)": c.report / (c.report + c.error / k),
        }


def one_way_interval(c: Components, alpha: float = 0.05) -> dict[str, tuple[float, float]]:
    """Approximate F intervals with k0 (exact for a balanced table, McGraw & Wong 1996)."""
    n, total, k0 = float(c.n), float(c.total), float(c.k0)
    df1, df2 = n - 1, total - n
    with np.errstate(invalid="ignore", divide="ignore"):
        f = float(c.msb / c.msw)
        low = f / f_dist.ppf(1 - alpha / 2, df1, df2)
        high = f * f_dist.ppf(1 - alpha / 2, df2, df1)
        return {
            "ICC(1,1)": ((low - 1) / (low + k0 - 1), (high - 1) / (high + k0 - 1)),
            "ICC(1,k)": (1 - 1 / low, 1 - 1 / high),
        }


@dataclass(frozen=True)
class IccEstimate:
    values: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    # How each form's interval was obtained: "f_distribution" or "bootstrap_reports".
    methods: dict[str, str]
    k: float  # ratings per report behind the average-of-k forms
    n_reports: int
    n_ratings: int


def icc_estimate(
    matrix: np.ndarray, *, design: Design, n_boot: int, rng: np.random.Generator
) -> IccEstimate:
    """Both models on every rating of a reports × reviewers matrix.

    Two-way forms only in a crossed design. Their interval is McGraw & Wong's on a complete
    table, a percentile bootstrap over reports otherwise."""
    rated = ~np.isnan(matrix)
    matrix = matrix[rated.any(axis=1)]
    rated = rated[rated.any(axis=1)]
    features = report_features(matrix)
    n = len(matrix)
    sum_k2 = float((features[:, 0] ** 2).sum())
    whole = components(features.sum(axis=0), np.float64(n), matrix.shape[1], np.float64(sum_k2))
    values = {form: float(v) for form, v in one_way_forms(whole).items()}
    intervals = one_way_interval(whole)
    methods = dict.fromkeys(ONE_WAY_FORMS, "f_distribution")
    k = float(whole.k0)
    if design.crossed:
        k = float(design.panel.sum())
        values.update({form: float(v) for form, v in two_way_forms(whole, int(k)).items()})
        complete = bool(rated.all()) and rated.shape[1] == k
        if complete:
            table = icc_table(matrix)
            intervals.update({form: table[form][1:] for form in TWO_WAY_FORMS})
            methods.update(dict.fromkeys(TWO_WAY_FORMS, "f_distribution"))
        elif n_boot:
            intervals.update(_two_way_bootstrap(features, matrix.shape[1], int(k), n_boot, rng))
            methods.update(dict.fromkeys(TWO_WAY_FORMS, "bootstrap_reports"))
    return IccEstimate(values, intervals, methods, k, n, int(rated.sum()))


def _two_way_bootstrap(
    features: np.ndarray, n_reviewers: int, k: int, n_boot: int, rng: np.random.Generator
) -> dict[str, tuple[float, float]]:
    n = len(features)
    k2 = features[:, 0] ** 2
    resampled = []
    for weights in resample_weights(n, n_boot, rng):
        weights = weights.astype(float)
        totals = weights @ features
        sum_k2 = weights @ k2
        forms = two_way_forms(components(totals, np.float64(n), n_reviewers, sum_k2), k)
        resampled.append(np.column_stack([forms[form] for form in TWO_WAY_FORMS]))
    low, high = percentile_interval(np.vstack(resampled))
    return {form: (float(low[i]), float(high[i])) for i, form in enumerate(TWO_WAY_FORMS)}
