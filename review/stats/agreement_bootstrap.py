"""Bootstrap confidence intervals for Krippendorff's alpha and quadratic-weighted kappa.

Reports are resampled with replacement (the unit of the study design), and the 2.5th and
97.5th percentiles of the resampled statistic give the 95% interval.

Computed without re-running the statistic on every resample: both statistics depend on
the data only through counts. Alpha is a function of the coincidence matrix (Krippendorff
2011, "Computing Krippendorff's alpha-reliability", section C), to which each report adds
its own small matrix; kappa is a function of the two reviewers' confusion matrix. Reports
with the same counts add the same matrix, so a resample is fully described by how many
reports it draws of each distinct count pattern — a multinomial draw over a few hundred
patterns, whatever the number of reports. 2,000 resamples of 100,000 reports take
milliseconds.
"""

from typing import Literal

import numpy as np

from review.stats.bootstrap import percentile_interval


def _interval(samples: np.ndarray) -> tuple[float, float]:
    """The 95% percentile interval of one statistic's resamples (undefined ones ignored)."""
    low, high = percentile_interval(samples[:, None])
    return float(low[0]), float(high[0])


def _patterns(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows (of small non-negative integers) and how many times each occurs."""
    rows = rows.astype(np.int64)
    base = int(rows.max(initial=0)) + 1
    if base ** rows.shape[1] < 2**62:
        # One integer per row: sorting 100,000 numbers, not 100,000 rows, per domain.
        keys = rows @ (base ** np.arange(rows.shape[1], dtype=np.int64))
        _, first, counts = np.unique(keys, return_index=True, return_counts=True)
        return rows[first], counts
    distinct, counts = np.unique(rows, axis=0, return_counts=True)
    return distinct, counts


def _resample_weights(counts: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot × patterns) numbers of reports drawn of each pattern: drawing reports
    uniformly with replacement is a multinomial draw over the patterns' frequencies."""
    total = int(counts.sum())
    if total * n_boot <= _DIRECT_DRAWS:
        # Small tables: drawing the reports themselves and counting them by pattern is
        # several times faster than numpy's multinomial (one binomial per pattern).
        pattern_of = np.repeat(np.arange(len(counts)), counts)
        draws = pattern_of[rng.integers(0, total, size=(n_boot, total))]
        draws += (np.arange(n_boot) * len(counts))[:, None]
        cells = np.bincount(draws.ravel(), minlength=n_boot * len(counts))
        return cells.reshape(n_boot, len(counts)).astype(float)
    return rng.multinomial(total, counts / total, size=n_boot).astype(float)


# Reports drawn one by one below this many draws in all (memory: 8 bytes each).
_DIRECT_DRAWS = 2_000_000


# --- Krippendorff's alpha ------------------------------------------------------------------


def value_counts(units: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(units × values) how many times each value was given to each unit (NaN = not rated)."""
    return (units[:, :, None] == values[None, None, :]).sum(axis=1).astype(float)


def unit_coincidences(counts: np.ndarray) -> np.ndarray:
    """Each unit's contribution to the coincidence matrix: its ordered pairs of values,
    weighted 1/(m_u − 1) where m_u is the number of values it received."""
    pairable = counts.sum(axis=1)
    pairs = counts[:, :, None] * counts[:, None, :]
    pairs -= counts[:, :, None] * np.eye(counts.shape[1])[None, :, :]
    return pairs / (pairable - 1)[:, None, None]


def alpha_from_coincidences(
    coincidences: np.ndarray, values: np.ndarray, level: Literal["interval", "ordinal"]
) -> np.ndarray:
    """Alpha for each (… × values × values) coincidence matrix: 1 − D_o / D_e."""
    marginals = coincidences.sum(axis=-1)
    n = marginals.sum(axis=-1)
    if level == "interval":
        delta = (values[:, None] - values[None, :]) ** 2
        delta = np.broadcast_to(delta, coincidences.shape)
    else:
        # Ordinal: (sum of the marginals from c to k − (n_c + n_k) / 2)², which depends on
        # each resample's own marginals.
        cumulative = np.cumsum(marginals, axis=-1)
        upper = np.maximum.outer(np.arange(len(values)), np.arange(len(values)))
        lower = np.minimum.outer(np.arange(len(values)), np.arange(len(values)))
        between = cumulative[..., upper] - cumulative[..., lower] + marginals[..., lower]
        delta = (between - (marginals[..., :, None] + marginals[..., None, :]) / 2) ** 2
    observed = (coincidences * delta).sum(axis=(-2, -1))
    expected = (marginals[..., :, None] * marginals[..., None, :] * delta).sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expected > 0, 1 - (n - 1) * observed / expected, np.nan)


def alpha_intervals(
    units: np.ndarray,
    values: np.ndarray,
    levels: tuple[Literal["interval", "ordinal"], ...],
    *,
    n_boot: int,
    rng: np.random.Generator,
) -> dict[str, tuple[float, float]]:
    """95% bootstrap intervals of alpha at each level, for (units × reviewers) scores of
    pairable units; the levels share the same resamples."""
    patterns, counts = _patterns(value_counts(units, values))
    weights = _resample_weights(counts, n_boot, rng)
    per_pattern = unit_coincidences(patterns.astype(float)).reshape(len(patterns), -1)
    resampled = (weights @ per_pattern).reshape(n_boot, len(values), len(values))
    return {level: _interval(alpha_from_coincidences(resampled, values, level)) for level in levels}


# --- quadratic-weighted kappa --------------------------------------------------------------


def kappa_from_confusion(confusion: np.ndarray) -> np.ndarray:
    """Cohen's weighted kappa, quadratic weights on the category positions (as sklearn's
    cohen_kappa_score), for each (… × categories × categories) confusion matrix."""
    size = confusion.shape[-1]
    weights = (np.arange(size)[:, None] - np.arange(size)[None, :]) ** 2
    total = confusion.sum(axis=(-2, -1))
    expected = confusion.sum(axis=-1)[..., :, None] * confusion.sum(axis=-2)[..., None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = expected / total[..., None, None]
        disagreement = (weights * expected).sum(axis=(-2, -1))
        return np.where(
            disagreement > 0, 1 - (weights * confusion).sum(axis=(-2, -1)) / disagreement, np.nan
        )


def kappa_interval(
    pairs: np.ndarray, labels: np.ndarray, *, n_boot: int, rng: np.random.Generator
) -> tuple[float, float]:
    """95% bootstrap interval of the quadratic kappa of (reports × 2) scores."""
    positions = np.searchsorted(labels, pairs)
    patterns, counts = _patterns(positions)
    weights = _resample_weights(counts, n_boot, rng)
    size = len(labels)
    cells = np.zeros((len(patterns), size * size))
    cells[np.arange(len(patterns)), patterns[:, 0] * size + patterns[:, 1]] = 1
    resampled = (weights @ cells).reshape(n_boot, size, size)
    return _interval(kappa_from_confusion(resampled))


# --- Gwet's AC2 ----------------------------------------------------------------------------


def quadratic_weights(values: np.ndarray) -> np.ndarray:
    """Gwet's quadratic agreement weights: 1 − (x_k − x_l)² / (x_max − x_min)²."""
    spread = float(values.max() - values.min()) or 1.0
    return 1 - (values[:, None] - values[None, :]) ** 2 / spread**2


def ac2_unit_terms(counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per unit (rows of units × categories rating counts, ≥ 1 rating each), the additive
    terms of Gwet's AC2: [1, rated twice or more, weighted pair agreement, r_ik / r_i …].

    Gwet (2014), *Handbook of Inter-Rater Reliability*, 4th ed., multiple raters with
    missing ratings: p_a averages, over units with r_i ≥ 2, Σ_k r_ik (r*_ik − 1) /
    (r_i (r_i − 1)) where r*_ik = Σ_l w_kl r_il; π_k averages r_ik / r_i over all units."""
    raters = counts.sum(axis=1)
    multi = raters >= 2
    weighted = counts @ weights.T
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = (counts * (weighted - 1)).sum(axis=1) / (raters * (raters - 1))
    agreement = np.where(multi, agreement, 0.0)
    return np.column_stack([np.ones(len(counts)), multi, agreement, counts / raters[:, None]])


def ac2_from_terms(totals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """AC2 = (p_a − p_e) / (1 − p_e), p_e = T_w / (q (q − 1)) · Σ_k π_k (1 − π_k), for each
    row of summed unit terms."""
    q = weights.shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        pa = totals[..., 2] / totals[..., 1]
        pi = totals[..., 3:] / totals[..., :1]
        pe = weights.sum() / (q * (q - 1)) * (pi * (1 - pi)).sum(axis=-1)
        return np.where(pe < 1, (pa - pe) / (1 - pe), np.nan)


def ac2_interval(
    counts: np.ndarray, weights: np.ndarray, *, n_boot: int, rng: np.random.Generator
) -> tuple[float, float]:
    """95% bootstrap interval of AC2, resampling units (by their count patterns)."""
    patterns, frequency = _patterns(counts)
    terms = ac2_unit_terms(patterns.astype(float), weights)
    resampled = _resample_weights(frequency, n_boot, rng) @ terms
    return _interval(ac2_from_terms(resampled, weights))
