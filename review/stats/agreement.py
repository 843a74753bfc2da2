"""Inter-rater agreement per domain and scope: ICC forms (Shrout & Fleiss 1979) from the
variance components of every rating (review.stats.icc), Krippendorff's alpha, Gwet's AC2
and quadratic-weighted kappa; and each reviewer's offset from the panel.

One form is recommended per domain and scope, from the design actually observed: ICC(1,1)
when reports had different reviewers (panel, one-way), ICC(2,1) when the reviewers are
crossed with the reports and taken as a sample of possible reviewers (McGraw & Wong 1996;
Koo & Li 2016). Its 95% CI is read against Koo & Li's bands. The ICC of the largest
complete reports × reviewers sub-table is kept only as a labelled sensitivity figure.

Guards (what a reader must never see as a number): no interval below MIN_REPORTS reports
rated twice or more; an estimate outside its parameter space, or an interval that does not
contain its estimate, is dropped with a note saying why.
"""

import itertools
import warnings
from typing import Literal

import krippendorff
import numpy as np
import pandas as pd
from sklearn.metrics import cohen_kappa_score

from review.stats.agreement_bootstrap import (
    ac2_from_terms,
    ac2_interval,
    ac2_unit_terms,
    alpha_intervals,
    kappa_interval,
    quadratic_weights,
    value_counts,
)
from review.stats.frame import REAL, SYNTHETIC, Scale
from review.stats.icc import (
    CROSSED_SHARE,
    ICC_FORMS,
    design_detect,
    icc_estimate,
    icc_table,
)
from review.stats.notes import note_codes

__all__ = ["CROSSED_SHARE", "ICC_FORMS", "agreement", "icc_table", "reviewer_offsets"]

CROSSED = "crossed"
ONE_WAY = "one-way"
# Per-source scopes first: the pooled one mixes the real/synthetic difference into the
# between-report variance and reads higher than either source alone.
AGREEMENT_SCOPES = (REAL, SYNTHETIC, "all")
SENSITIVITY_SUFFIX = " complete sub-table"
OTHER_STATISTICS = ("alpha_interval", "alpha_ordinal", "ac2_quadratic", "kappa_quadratic")
STATISTICS = (*ICC_FORMS, *OTHER_STATISTICS)
# Below this many reports rated by two reviewers or more, no interval is printed: the
# F and bootstrap intervals are unreliable there (pingouin refuses fewer than 5 as well).
MIN_REPORTS = 5
# Resamples behind the bootstrap intervals (fewer if the study's setting asks fewer).
# Hayes & Krippendorff (2007) bootstrap alpha with 1,000 or more; each domain and scope
# draws its own, 18 sets per analysis, within the results page's one-second budget.
AGREEMENT_RESAMPLES = 1000
# Above this many reviewer subsets to try, the complete sub-table uses the busiest reviewers.
_MAX_SUBSETS = 300
# Koo & Li (2016), J Chiropr Med 15:155–163: bands of the ICC, read on its 95% CI.
KOO_LI_BANDS = ((0.5, "poor"), (0.75, "moderate"), (0.9, "good"), (np.inf, "excellent"))


def koo_li_band(low: float, high: float) -> str:
    """ "good" when the whole CI lies in one band, "moderate-good" when it spans two or more."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return ""

    def band(value: float) -> str:
        return next(name for bound, name in KOO_LI_BANDS if value < bound)

    first, last = band(low), band(high)
    return first if first == last else f"{first}-{last}"


def complete_subtable(matrix: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Largest block of reports rated by the same reviewers (rows complete, ≥ 2 columns).

    The block's width is the usual number of ratings per report; among reviewer subsets
    of that size the one sharing the most reports wins (ties: earlier reviewers in sorted
    order, so the choice does not depend on the order of the rows).
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


def _row(
    domain,
    scope,
    statistic,
    value,
    low,
    high,
    n_reports,
    n_reviewers,
    note="",
    valid=True,
    *,
    k=np.nan,
    design="",
):
    return {
        "domain": domain,
        "scope": scope,
        "statistic": statistic,
        "value": float(value),
        "ci_low": float(low),
        "ci_high": float(high),
        "n_reports": int(n_reports),
        "n_reviewers": int(n_reviewers),
        "k": float(k),
        "design": design,
        "valid": bool(valid),
        "recommended": False,
        "band": "",
        "ci_method": "",
        "note": note,
    }


def agreement(
    frame: pd.DataFrame, *, domains: list[str], scale: Scale, n_boot: int = 0, seed: int = 0
) -> pd.DataFrame:
    """Agreement rows per domain and scope (intervals: none when `n_boot` is 0, except the
    closed-form ICC ones)."""
    rows: list[dict] = []
    rng = np.random.default_rng(seed)
    n_boot = min(n_boot, AGREEMENT_RESAMPLES)
    for domain in domains:
        in_domain = frame[frame["domain"] == domain]
        for scope in AGREEMENT_SCOPES:
            part = in_domain if scope == "all" else in_domain[in_domain["source"] == scope]
            scope_rows = _agreement_rows(domain, scope, part, scale, n_boot=n_boot, rng=rng)
            if scope == "all" and part["source"].nunique() > 1:
                for row in scope_rows:
                    row["note"] = note_codes(row["note"], "pooled_mixes_sources")
            rows.extend(scope_rows)
    return pd.DataFrame(rows)


def ratings_matrix(part: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """reports × reviewers scores (NaN where a reviewer did not rate), and reviewer labels.

    Reports and reviewers in sorted order: every figure, and every bootstrap draw, is then
    the same whatever the order of the rows."""
    report_codes, _ = pd.factorize(part["report"].to_numpy(dtype=object), sort=True)
    reviewer_codes, reviewers = pd.factorize(part["reviewer"].to_numpy(dtype=object), sort=True)
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
            for s in STATISTICS
        ]
    matrix, _ = ratings_matrix(part)
    rows = _icc_rows(domain, scope, matrix, n_boot=n_boot, rng=rng)
    rows += _alpha_rows(domain, scope, matrix, scale, n_boot=n_boot, rng=rng)
    rows.append(_ac2_row(domain, scope, matrix, scale, n_boot=n_boot, rng=rng))
    rows.append(_kappa_row(domain, scope, matrix, scale, n_boot=n_boot, rng=rng))
    return [_guarded(row, intervals_asked=n_boot > 0) for row in rows]


def icc_rows(
    part: pd.DataFrame, *, domain: str, scope: str, n_boot: int = 0, seed: int = 0
) -> list[dict]:
    """The ICC rows alone (guarded) for one domain and scope: they need no discrete scale."""
    matrix, _ = ratings_matrix(part)
    rows = _icc_rows(domain, scope, matrix, n_boot=n_boot, rng=np.random.default_rng(seed))
    return [_guarded(row, intervals_asked=n_boot > 0) for row in rows]


def _icc_rows(
    domain: str, scope: str, matrix: np.ndarray, *, n_boot: int, rng: np.random.Generator
) -> list[dict]:
    nan = np.nan
    rated = ~np.isnan(matrix)
    pairable = rated.sum(axis=1) >= 2
    n_pairable = int(pairable.sum())
    n_reviewers = int(rated[pairable].any(axis=0).sum())
    design = design_detect(rated)
    design_name = CROSSED if design.crossed else ONE_WAY
    design_note = "design_crossed" if design.crossed else "design_one_way"
    recommended = "ICC(2,1)" if design.crossed else "ICC(1,1)"
    empty_note = ""
    if n_pairable < 2:
        empty_note = note_codes("no_pairs" if n_pairable == 0 else "subtable_too_small")
    elif np.ptp(matrix[rated]) == 0 or np.ptp(matrix[pairable][rated[pairable]]) == 0:
        empty_note = note_codes("constant")
    if empty_note:
        # No number, but the recommended row still stands on the page, saying why.
        rows = [
            _row(domain, scope, s, nan, nan, nan, n_pairable, n_reviewers, empty_note)
            for s in ICC_FORMS
        ]
        for row in rows:
            row["recommended"] = row["statistic"] == recommended
        return rows
    estimate = icc_estimate(matrix, design=design, n_boot=n_boot, rng=rng)
    rows = []
    for form in ICC_FORMS:
        if form not in estimate.values:
            note = note_codes(design_note, "two_way_needs_crossed")
            row = _row(
                domain,
                scope,
                form,
                nan,
                nan,
                nan,
                estimate.n_reports,
                n_reviewers,
                note,
                valid=False,
                design=design_name,
            )
        else:
            low, high = estimate.intervals.get(form, (nan, nan))
            k = 1.0 if form.endswith(",1)") else estimate.k
            row = _row(
                domain,
                scope,
                form,
                estimate.values[form],
                low,
                high,
                estimate.n_reports,
                n_reviewers,
                note_codes(design_note),
                k=k,
                design=design_name,
            )
            if np.isfinite(low):
                row["ci_method"] = estimate.methods.get(form, "")
        if n_pairable < MIN_REPORTS:
            row["note"] = note_codes(row["note"], "too_few_reports")
            row.update(ci_low=nan, ci_high=nan)
        row["recommended"] = form == recommended
        rows.append(row)
    if not (rated.all() and design.crossed):
        # Only when ratings were left out of the complete sub-table: otherwise it is the
        # figure above again.
        rows.append(_sensitivity_row(domain, scope, matrix, recommended, design_name))
    return rows


def _sensitivity_row(domain: str, scope: str, matrix: np.ndarray, form: str, design: str) -> dict:
    """The recommended form on the largest complete sub-table only (the figure this page
    showed before every rating was used): a sensitivity check, never the result."""
    nan = np.nan
    sub, _ = complete_subtable(matrix)
    n_sub, k_sub = sub.shape
    statistic = form + SENSITIVITY_SUFFIX
    if n_sub < 2 or k_sub < 2:
        return _row(
            domain,
            scope,
            statistic,
            nan,
            nan,
            nan,
            n_sub,
            k_sub,
            note_codes("subtable_too_small"),
            design=design,
        )
    if np.ptp(sub) == 0:
        return _row(
            domain,
            scope,
            statistic,
            nan,
            nan,
            nan,
            n_sub,
            k_sub,
            note_codes("constant"),
            design=design,
        )
    value, low, high = icc_table(sub)[form]
    note = note_codes("sensitivity_subtable", "complete_subtable")
    row = _row(domain, scope, statistic, value, low, high, n_sub, k_sub, note, k=1.0, design=design)
    if n_sub < MIN_REPORTS:
        row["note"] = note_codes(row["note"], "too_few_reports")
        row.update(ci_low=nan, ci_high=nan)
    return row


# Where each statistic's parameter lives: an ICC is a ratio of variances, the chance-
# corrected coefficients are at most 1 (−1 is the floor for systematic disagreement).
_PARAMETER_SPACE = {"icc": (0.0, 1.0), "other": (-1.0, 1.0)}


def _guarded(row: dict, *, intervals_asked: bool) -> dict:
    """Drop what is not a number a reader may see, and say why in the note."""
    is_icc = row["statistic"].startswith("ICC")
    low_bound, high_bound = _PARAMETER_SPACE["icc" if is_icc else "other"]
    value = row["value"]
    if not is_icc and row["n_reports"] < MIN_REPORTS and np.isfinite(row["ci_low"]):
        row["note"] = note_codes(row["note"], "too_few_reports")
        row.update(ci_low=np.nan, ci_high=np.nan)
    if not np.isnan(value) and not (low_bound - 1e-12 <= value <= high_bound + 1e-12):
        row["note"] = note_codes(row["note"], "out_of_range")
        row.update(value=np.nan, ci_low=np.nan, ci_high=np.nan)
        return row
    low, high = row["ci_low"], row["ci_high"]
    if np.isfinite(low) or np.isfinite(high):
        inside = (
            np.isfinite(value)
            and np.isfinite(low)
            and np.isfinite(high)
            and low - 1e-12 <= value <= high + 1e-12
            and low >= -1 - 1e-12
            and high <= 1 + 1e-12
        )
        if not inside:
            row["note"] = note_codes(row["note"], "ci_dropped")
            row.update(ci_low=np.nan, ci_high=np.nan)
    if np.isfinite(row["ci_low"]) and not row["ci_method"]:
        # Alpha, AC2, kappa and the sub-table ICC: report bootstrap, or McGraw & Wong's F.
        row["ci_method"] = "f_distribution" if is_icc else "bootstrap_reports"
    if not np.isfinite(row["ci_low"]):
        row["ci_method"] = ""
        explained = {"too_few_reports", "ci_dropped"} & set(row["note"].split(";"))
        if intervals_asked and np.isfinite(row["value"]) and not explained:
            # E.g. McGraw & Wong's F interval with no residual variance: say so, rather
            # than leave an estimate without its interval unexplained.
            row["note"] = note_codes(row["note"], "ci_undefined")
    if row["recommended"]:
        row["band"] = koo_li_band(row["ci_low"], row["ci_high"])
    return row


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


def _ac2_row(
    domain: str,
    scope: str,
    matrix: np.ndarray,
    scale: Scale,
    *,
    n_boot: int,
    rng: np.random.Generator,
) -> dict:
    """Gwet's AC2 with quadratic weights over the whole scale (Gwet 2014): chance agreement
    from how spread the ratings are over the scale, so it does not collapse when most
    scores sit at 8–10 (the high-agreement paradox of kappa and alpha)."""
    nan = np.nan
    rated = ~np.isnan(matrix)
    units = matrix[rated.any(axis=1)]
    n_pairs = int((rated.sum(axis=1) >= 2).sum())
    n_raters = int(rated[rated.sum(axis=1) >= 2].any(axis=0).sum())
    if n_pairs == 0:
        return _row(
            domain, scope, "ac2_quadratic", nan, nan, nan, 0, n_raters, note_codes("no_pairs")
        )
    values = np.union1d(scale.values, np.unique(units[~np.isnan(units)]))
    weights = quadratic_weights(values)
    counts = value_counts(units, values)
    value = float(ac2_from_terms(ac2_unit_terms(counts, weights).sum(axis=0), weights))
    low, high = nan, nan
    if n_boot and n_pairs >= 2 and np.isfinite(value):
        low, high = ac2_interval(counts, weights, n_boot=n_boot, rng=rng)
    note = "" if np.isfinite(value) else note_codes("constant")
    return _row(domain, scope, "ac2_quadratic", value, low, high, n_pairs, n_raters, note)


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
