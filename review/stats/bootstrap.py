"""Cluster bootstrap over reports, vectorised.

Each resample draws reports with replacement; instead of looping over resamples, a chunk
of resamples is a weight matrix W (resamples × reports, how often each report was drawn)
and every resampled total is W @ per-report totals: one matrix product per chunk.
"""

from collections.abc import Iterator

import numpy as np
from scipy.special import ndtr, ndtri

# Cells of the weight matrix held at once (8 bytes each): bounds memory for big studies.
_CHUNK_CELLS = 4_000_000


def resample_weights(n_units: int, n_boot: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Yield (chunk × n_units) float matrices of draw counts, n_boot rows in total."""
    if n_units == 0 or n_boot <= 0:
        return
    chunk = max(1, min(n_boot, _CHUNK_CELLS // n_units))
    done = 0
    while done < n_boot:
        rows = min(chunk, n_boot - done)
        # int32 draws and float32 weights: the chunk stays under 2**31 cells, and float32
        # holds every whole total below 2**24 exactly while halving the memory traffic.
        draws = rng.integers(0, n_units, size=(rows, n_units), dtype=np.int32)
        draws += (np.arange(rows, dtype=np.int32) * n_units)[:, None]
        counts = np.bincount(draws.ravel(), minlength=rows * n_units)
        yield counts.reshape(rows, n_units).astype(np.float32)
        done += rows


def resampled_totals(unit_values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot × columns) totals of `unit_values` (units × columns) over resampled units."""
    unit_values = np.asarray(unit_values, dtype=float)
    if unit_values.ndim == 1:
        unit_values = unit_values[:, None]
    exact = bool(np.all(unit_values == np.round(unit_values)) and unit_values.sum() < 2**24)
    values = unit_values.astype(np.float32) if exact else unit_values
    parts = [
        (w @ values).astype(float) if exact else w.astype(float) @ values
        for w in resample_weights(len(unit_values), n_boot, rng)
    ]
    if not parts:
        return np.full((max(n_boot, 0), unit_values.shape[1]), np.nan)
    return np.vstack(parts)


def percentile_interval(samples: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile CI per column, ignoring resamples where the statistic was undefined."""
    tail = (1 - level) / 2 * 100
    samples = np.atleast_2d(samples)
    low = np.full(samples.shape[1], np.nan)
    high = np.full(samples.shape[1], np.nan)
    for j in range(samples.shape[1]):
        column = samples[:, j]
        column = column[np.isfinite(column)]
        if len(column):
            low[j], high[j] = np.percentile(column, [tail, 100 - tail])
    return low, high


def bca_interval(
    estimate: float,
    resamples: np.ndarray,
    jackknife: list[np.ndarray],
    level: float = 0.95,
) -> tuple[float, float]:
    """Bias-corrected and accelerated percentile interval (Efron 1987; Efron & Tibshirani
    1993, ch. 14), as scipy.stats.bootstrap(method="BCa") computes it for several samples:
    the bias from where the estimate falls among the resamples, the acceleration from the
    jackknife values of each sample (leave one report out), pooled.

    Written out because the resamples are shared with the percentile intervals and drawn
    by report clusters in one matrix product; tests compare it with scipy's."""
    resamples = resamples[np.isfinite(resamples)]
    if len(resamples) == 0 or not np.isfinite(estimate):
        return np.nan, np.nan
    below = ((resamples < estimate).sum() + (resamples <= estimate).sum()) / (2 * len(resamples))
    z0 = ndtri(below)
    numerator = denominator = 0.0
    for values in jackknife:
        n = len(values)
        if n < 2:
            return np.nan, np.nan
        u = (n - 1) * (values.mean() - values)
        numerator += (u**3).sum() / n**3
        denominator += (u**2).sum() / n**2
    acceleration = numerator / (6 * denominator**1.5) if denominator > 0 else 0.0
    tails = []
    for z in (ndtri((1 - level) / 2), ndtri((1 + level) / 2)):
        tails.append(ndtr(z0 + (z0 + z) / (1 - acceleration * (z0 + z))))
    if not all(np.isfinite(tails)):
        return np.nan, np.nan
    low, high = np.percentile(resamples, [100 * tails[0], 100 * tails[1]])
    return float(low), float(high)
