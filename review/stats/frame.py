"""The long-format ratings table every statistic reads: one row per rating.

Required columns: report, source (real | synthetic), reviewer, domain, score. Optional
columns batch, model and prompt_version describe synthetic reports and feed the breakdown.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ("report", "source", "reviewer", "domain", "score")
BREAKDOWN_COLUMNS = ("batch", "model", "prompt_version")
REAL = "real"
SYNTHETIC = "synthetic"
SOURCES = (REAL, SYNTHETIC)
SCOPES = ("all", REAL, SYNTHETIC)
AUTHORSHIP_DOMAIN = "ai_authorship"


@dataclass(frozen=True)
class Scale:
    low: int = 1
    high: int = 10

    @property
    def values(self) -> np.ndarray:
        return np.arange(self.low, self.high + 1)

    @property
    def midpoint(self) -> float:
        return (self.low + self.high) / 2


def ratings_normalise(ratings: pd.DataFrame) -> pd.DataFrame:
    """A copy with string keys, float scores and every optional column present.

    A missing required column is a programming error (callers validate user files first),
    so it raises; rows without a score are dropped as "not rated".
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in ratings.columns]
    if missing:
        raise ValueError(f"ratings table lacks column(s): {', '.join(missing)}")
    # Categoricals: a million-row table is compared and grouped on integer codes.
    frame = pd.DataFrame(
        {
            "report": _categorical(ratings["report"]),
            "source": _categorical(ratings["source"]),
            "reviewer": _categorical(ratings["reviewer"]),
            "domain": _categorical(ratings["domain"]),
            "score": pd.to_numeric(ratings["score"], errors="coerce").astype(float).to_numpy(),
        }
    )
    for column in BREAKDOWN_COLUMNS:
        if column in ratings.columns:
            frame[column] = _categorical(ratings[column], blank_is_missing=True)
        else:
            frame[column] = pd.Categorical([None] * len(frame), categories=[])
    keep = frame["score"].notna() & frame["source"].isin(SOURCES)
    if not keep.all():
        frame = frame[keep]
    return frame.reset_index(drop=True)


def _categorical(values: pd.Series, *, blank_is_missing: bool = False) -> pd.Categorical:
    """Categories as strings (the same label whether read as 7 or "7"); blanks missing."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object), use_na_sentinel=True)
    labels = [str(u) for u in uniques]
    if blank_is_missing:
        blank = {i for i, label in enumerate(labels) if label.strip() == ""}
        if blank:
            codes = np.where(np.isin(codes, list(blank)), -1, codes)
    # Two uniques can share a label (7 and "7"); merge them.
    position: dict[str, int] = {}
    for label in labels:
        position.setdefault(label, len(position))
    remap = np.array([position[label] for label in labels] + [-1], dtype=np.int64)
    categories = list(position)
    return pd.Categorical.from_codes(remap[codes], categories=categories)


def domains_in_order(frame: pd.DataFrame, domains: list[str] | None) -> list[str]:
    """The study's domain order, then any domain found only in the data."""
    seen = list(dict.fromkeys(frame["domain"].tolist()))
    ordered = list(domains or [])
    return ordered + [d for d in seen if d not in ordered]
