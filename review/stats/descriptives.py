"""Per domain and scope (all | real | synthetic): counts, location, spread, histogram."""

import numpy as np
import pandas as pd

from review.stats.frame import SCOPES, Scale
from review.stats.notes import note_codes


def descriptives(frame: pd.DataFrame, *, domains: list[str], scale: Scale) -> pd.DataFrame:
    rows = []
    domain_values = frame["domain"].to_numpy()
    source_values = frame["source"].to_numpy()
    scores = frame["score"].to_numpy()
    reports = frame["report"].to_numpy()
    for domain in domains:
        in_domain = domain_values == domain
        for scope in SCOPES:
            mask = in_domain if scope == "all" else in_domain & (source_values == scope)
            rows.append(_describe(domain, scope, scores[mask], reports[mask], scale))
    return pd.DataFrame(rows)


def _describe(
    domain: str, scope: str, scores: np.ndarray, reports: np.ndarray, scale: Scale
) -> dict:
    n = len(scores)
    whole = scores[scores == np.round(scores)].astype(int)
    in_scale = whole[(whole >= scale.low) & (whole <= scale.high)]
    histogram = np.bincount(in_scale - scale.low, minlength=len(scale.values)).tolist()
    row = {
        "domain": domain,
        "scope": scope,
        "n_ratings": n,
        "n_reports": len(np.unique(reports)),
        "mean": np.nan,
        "sd": np.nan,
        "median": np.nan,
        "q1": np.nan,
        "q3": np.nan,
        "iqr": np.nan,
        "histogram": histogram,
        "note": "",
    }
    if n == 0:
        row["note"] = note_codes("no_ratings")
        return row
    q1, median, q3 = np.percentile(scores, [25, 50, 75])
    row.update(mean=float(scores.mean()), median=float(median), q1=float(q1), q3=float(q3))
    row["iqr"] = float(q3 - q1)
    if n >= 2:
        row["sd"] = float(scores.std(ddof=1))
    else:
        row["note"] = note_codes("one_rating")
    return row
