"""Bootstrap intervals of Krippendorff's alpha and quadratic kappa, computed from counts.

Checked against the `krippendorff` package and scikit-learn: the count formulas give their
point estimates, and a resample described by pattern counts gives the same statistic as the
resampled reports themselves, rebuilt and passed to those packages.
"""

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from review.stats import analyse
from review.stats.agreement_bootstrap import (
    alpha_from_coincidences,
    kappa_from_confusion,
    unit_coincidences,
    value_counts,
)
from tests.review.test_stats_engine import KRIPPENDORFF_2011, agreement_values, long_table

VALUES = np.arange(1, 11, dtype=float)


def krippendorff_units() -> np.ndarray:
    """The 2011 worked example as (units × raters), the single-valued unit dropped."""
    data = np.array(KRIPPENDORFF_2011, dtype=float).T
    return data[(~np.isnan(data)).sum(axis=1) >= 2]


def random_units(seed: int, n: int = 60, raters: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    quality = rng.integers(3, 9, size=n)
    scores = np.clip(quality[:, None] + rng.integers(-2, 3, size=(n, raters)), 1, 10)
    units = scores.astype(float)
    units[rng.random((n, raters)) < 0.2] = np.nan  # some reports lack a rating
    return units[(~np.isnan(units)).sum(axis=1) >= 2]


@pytest.mark.parametrize("level", ["interval", "ordinal"])
@pytest.mark.parametrize("units", [krippendorff_units(), random_units(3)], ids=["2011", "random"])
def test_alpha_from_coincidences_equals_the_krippendorff_package(units, level):
    ours = alpha_from_coincidences(
        unit_coincidences(value_counts(units, VALUES)).sum(axis=0), VALUES, level
    )
    theirs = krippendorff.alpha(
        reliability_data=units.T, level_of_measurement=level, value_domain=VALUES
    )
    assert float(ours) == pytest.approx(theirs, abs=1e-12)


@pytest.mark.parametrize("level", ["interval", "ordinal"])
def test_a_resample_by_pattern_counts_equals_the_resampled_reports(level):
    units = random_units(5)
    counts = value_counts(units, VALUES)
    patterns, inverse = np.unique(counts, axis=0, return_inverse=True)
    representative = [units[np.flatnonzero(inverse == k)[0]] for k in range(len(patterns))]
    per_pattern = unit_coincidences(patterns)
    rng = np.random.default_rng(11)
    frequencies = np.bincount(inverse) / len(units)
    for weights in rng.multinomial(len(units), frequencies, size=20):
        ours = alpha_from_coincidences(
            np.tensordot(weights.astype(float), per_pattern, axes=1), VALUES, level
        )
        resampled = np.array(
            [representative[k] for k, times in enumerate(weights) for _ in range(times)]
        )
        theirs = krippendorff.alpha(
            reliability_data=resampled.T, level_of_measurement=level, value_domain=VALUES
        )
        assert float(ours) == pytest.approx(theirs, abs=1e-12)


def test_kappa_from_confusion_equals_scikit_learn():
    rng = np.random.default_rng(2)
    first = rng.integers(1, 11, size=80)
    second = np.clip(first + rng.integers(-2, 3, size=80), 1, 10)
    confusion = np.zeros((10, 10))
    np.add.at(confusion, (first - 1, second - 1), 1)
    expected = cohen_kappa_score(first, second, weights="quadratic", labels=np.arange(1, 11))
    assert float(kappa_from_confusion(confusion)) == pytest.approx(expected, abs=1e-12)


def test_engine_reports_alpha_and_kappa_with_an_interval_around_them():
    rng = np.random.default_rng(4)
    quality = rng.integers(3, 9, size=120)
    scores = np.clip(quality[:, None] + rng.integers(-1, 2, size=(120, 2)), 1, 10)
    rows = agreement_values(analyse(long_table(scores.astype(object)), n_boot=500, seed=3))
    for statistic in ("alpha_interval", "alpha_ordinal", "kappa_quadratic"):
        row = rows[statistic]
        assert row["ci_low"] < row["value"] < row["ci_high"], statistic
        assert 0 < row["ci_high"] - row["ci_low"] < 0.5, statistic
    # Same data and seed, same interval.
    again = agreement_values(analyse(long_table(scores.astype(object)), n_boot=500, seed=3))
    assert again["alpha_ordinal"]["ci_low"] == rows["alpha_ordinal"]["ci_low"]


def test_the_interval_narrows_as_reports_accumulate():
    def width(n: int) -> float:
        rng = np.random.default_rng(8)
        quality = rng.integers(2, 10, size=n)
        scores = np.clip(quality[:, None] + rng.integers(-2, 3, size=(n, 3)), 1, 10)
        row = agreement_values(analyse(long_table(scores.astype(object)), n_boot=400))
        return row["alpha_interval"]["ci_high"] - row["alpha_interval"]["ci_low"]

    assert width(400) < width(40) / 2
