"""All figures of a study from its long ratings table, as JSON-ready records.

`analyse` is the one entry point shared by the results page, the API, the exports and the
`analyse_ratings` command; it never touches the database.
"""

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from review.stats.agreement import agreement, reviewer_offsets
from review.stats.authorship import authorship, authorship_auc
from review.stats.comparison import compare_sources
from review.stats.descriptives import descriptives
from review.stats.frame import (
    BREAKDOWN_COLUMNS,
    SYNTHETIC,
    Scale,
    domains_in_order,
    ratings_normalise,
)

DEFAULT_BOOTSTRAP = 2000


@dataclass
class Results:
    scale: Scale
    margin: float
    n_boot: int
    seed: int
    domains: list[str]
    n_ratings: int
    n_reports: int
    n_reviewers: int
    descriptives: pd.DataFrame
    comparison: pd.DataFrame
    agreement: pd.DataFrame
    offsets: pd.DataFrame
    authorship: pd.DataFrame
    roc: list[dict] = field(default_factory=list)
    breakdown: pd.DataFrame = field(default_factory=pd.DataFrame)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scale": {"min": self.scale.low, "max": self.scale.high},
            "margin": self.margin,
            "bootstrap_resamples": self.n_boot,
            "seed": self.seed,
            "domains": self.domains,
            "n_ratings": self.n_ratings,
            "n_reports": self.n_reports,
            "n_reviewers": self.n_reviewers,
            "descriptives": records(self.descriptives),
            "comparison": records(self.comparison),
            "agreement": records(self.agreement),
            "reviewer_offsets": records(self.offsets),
            "authorship": records(self.authorship),
            "roc": self.roc,
            "breakdown": records(self.breakdown),
        }


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts with NaN as None (JSON has no NaN)."""
    return [{k: json_value(v) for k, v in row.items()} for row in table.to_dict("records")]


def json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def analyse(
    ratings: pd.DataFrame,
    *,
    scale: Scale | None = None,
    margin: float = 1.0,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = 0,
    domains: list[str] | None = None,
) -> Results:
    scale = scale or Scale()
    frame = ratings_normalise(ratings)
    ordered = domains_in_order(frame, domains)
    comparison, real_resamples = compare_sources(
        frame, domains=ordered, margin=margin, n_boot=n_boot, seed=seed
    )
    authorship_table, roc = authorship(frame, scale=scale, n_boot=n_boot, seed=seed)
    return Results(
        scale=scale,
        margin=margin,
        n_boot=n_boot,
        seed=seed,
        domains=ordered,
        n_ratings=len(frame),
        n_reports=int(frame["report"].nunique()),
        n_reviewers=int(frame["reviewer"].nunique()),
        descriptives=descriptives(frame, domains=ordered, scale=scale),
        comparison=comparison,
        agreement=agreement(frame, domains=ordered, scale=scale, n_boot=n_boot, seed=seed),
        offsets=reviewer_offsets(frame, domains=ordered),
        authorship=authorship_table,
        roc=roc,
        breakdown=breakdown(
            frame,
            domains=ordered,
            scale=scale,
            margin=margin,
            n_boot=n_boot,
            seed=seed,
            real_resamples=real_resamples,
            whole=comparison,
        ),
    )


BREAKDOWN_FIELDS = [
    "factor",
    "level",
    "domain",
    "n_reports",
    "mean",
    "sd",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "verdict",
    "auc",
    "note",
]


def breakdown(
    frame: pd.DataFrame,
    *,
    domains: list[str],
    scale: Scale,
    margin: float,
    n_boot: int,
    seed: int,
    real_resamples: np.ndarray,
    whole: pd.DataFrame,
) -> pd.DataFrame:
    """Synthetic figures per batch, model and prompt version, each against all real reports."""
    real = frame[frame["source"] != SYNTHETIC]
    synthetic = frame[frame["source"] == SYNTHETIC]
    rows = []
    for factor in BREAKDOWN_COLUMNS:
        levels = sorted(v for v in synthetic[factor].dropna().unique())
        for level in levels:
            in_level = synthetic[factor] == level
            subset = pd.concat([real, synthetic[in_level]])
            if in_level.all():
                # One model (say) for every synthetic report: the overall comparison already is
                # this level's comparison; skip drawing it again.
                table = whole
            else:
                table, _ = compare_sources(
                    subset,
                    domains=domains,
                    margin=margin,
                    n_boot=n_boot,
                    seed=seed,
                    real_resamples=real_resamples,
                )
            level_rows = subset[subset["source"] == SYNTHETIC]
            sd = level_rows.groupby("domain", observed=True)["score"].std()
            auc = authorship_auc(subset)
            for row in table.to_dict("records"):
                rows.append(
                    {
                        "factor": factor,
                        "level": level,
                        "domain": row["domain"],
                        "n_reports": row["n_reports_synthetic"],
                        "mean": row["mean_synthetic"],
                        "sd": float(sd.get(row["domain"], np.nan)),
                        "difference": row["difference"],
                        "ci_low": row["ci_low"],
                        "ci_high": row["ci_high"],
                        "p_value": row["p_value"],
                        "verdict": row["verdict"],
                        "auc": auc if row["domain"] == "ai_authorship" else np.nan,
                        "note": row["note"],
                    }
                )
    return pd.DataFrame(rows, columns=BREAKDOWN_FIELDS)
