"""Annotation audit statistics: how often the generator's annotations are right, per field.

Pure functions over two long-format tables (no Django):

- verdicts: one row per reviewer and model annotation — `report, reviewer, annotation,
  field, verdict, span_overlaps` (verdict in correct | wrong_value | wrong_span |
  not_in_text; span_overlaps says whether a corrected span still overlaps the model's);
- added: one row per annotation a reviewer added (the model missed it) — `report,
  reviewer, field`.

What each verdict counts as:

| verdict      | value right | span exact | span overlaps | found (recall) |
|--------------|-------------|------------|---------------|----------------|
| correct      | yes         | yes        | yes           | yes            |
| wrong_value  | no          | yes        | yes           | yes            |
| wrong_span   | yes         | no         | if corrected span overlaps | yes |
| not_in_text  | no          | no         | no            | no             |

Recall = found / (found + added): a reviewer's added annotation is one the model missed.
Every proportion gets a 95% percentile interval from a bootstrap over reports (the
report is the unit the generator produced; verdicts within a report are not independent).
"""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

from review.stats.bootstrap import percentile_interval, resampled_totals

VERDICTS = ("correct", "wrong_value", "wrong_span", "not_in_text")
ALL_FIELDS = "(all)"
VERDICT_COLUMNS = ["report", "reviewer", "annotation", "field", "verdict", "span_overlaps"]
ADDED_COLUMNS = ["report", "reviewer", "field"]
METRICS = ("value_precision", "span_exact_precision", "span_overlap_precision", "recall")


def verdict_flags(verdicts: pd.DataFrame) -> pd.DataFrame:
    """The verdict table with one 0/1 column per counted property (the table above)."""
    frame = verdicts.copy()
    verdict = frame["verdict"]
    frame["value_ok"] = verdict.isin(["correct", "wrong_span"]).astype(int)
    frame["span_exact"] = verdict.isin(["correct", "wrong_value"]).astype(int)
    frame["span_overlap"] = (
        verdict.isin(["correct", "wrong_value"])
        | ((verdict == "wrong_span") & frame["span_overlaps"].astype(bool))
    ).astype(int)
    frame["found"] = (verdict != "not_in_text").astype(int)
    frame["judged"] = 1
    return frame


def _ratio_with_interval(
    per_report: pd.DataFrame, numerator: str, denominator: str, *, n_boot: int, seed: int
) -> tuple[float | None, float | None, float | None]:
    num = per_report[numerator].to_numpy(dtype=float)
    den = per_report[denominator].to_numpy(dtype=float)
    if den.sum() == 0:
        return None, None, None
    estimate = float(num.sum() / den.sum())
    if n_boot <= 0 or len(per_report) < 2:
        return estimate, None, None
    totals = resampled_totals(np.column_stack([num, den]), n_boot, np.random.default_rng(seed))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = totals[:, 0] / totals[:, 1]
    low, high = percentile_interval(ratios[:, None])
    return estimate, float(low[0]), float(high[0])


def _metrics_row(
    flags: pd.DataFrame, added: pd.DataFrame, *, n_boot: int, seed: int
) -> dict[str, float | int | None]:
    per_report = flags.groupby("report")[
        ["value_ok", "span_exact", "span_overlap", "found", "judged"]
    ].sum()
    missed = added.groupby("report").size().rename("missed")
    per_report = per_report.join(missed, how="outer").fillna(0)
    per_report["found_or_missed"] = per_report["found"] + per_report["missed"]
    row: dict[str, float | int | None] = {
        "n_reports": len(per_report),
        "n_verdicts": int(flags["judged"].sum()) if len(flags) else 0,
        "n_added": len(added),
    }
    for metric, numerator, denominator in (
        ("value_precision", "value_ok", "judged"),
        ("span_exact_precision", "span_exact", "judged"),
        ("span_overlap_precision", "span_overlap", "judged"),
        ("recall", "found", "found_or_missed"),
    ):
        estimate, low, high = _ratio_with_interval(
            per_report, numerator, denominator, n_boot=n_boot, seed=seed
        )
        row[metric], row[f"{metric}_ci_low"], row[f"{metric}_ci_high"] = estimate, low, high
    return row


def audit_metrics(
    verdicts: pd.DataFrame, added: pd.DataFrame, *, n_boot: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """One row per field (and `(all)` first): precision of values, of spans (exact and
    overlapping), recall, each with its report-bootstrap interval."""
    flags = verdict_flags(verdicts)
    rows = [{"field": ALL_FIELDS, **_metrics_row(flags, added, n_boot=n_boot, seed=seed)}]
    fields = sorted(set(flags["field"]) | set(added["field"]))
    for field in fields:
        rows.append(
            {
                "field": field,
                **_metrics_row(
                    flags[flags["field"] == field],
                    added[added["field"] == field],
                    n_boot=n_boot,
                    seed=seed,
                ),
            }
        )
    return pd.DataFrame(rows)


def verdict_agreement(verdicts: pd.DataFrame) -> dict[str, float | int | None]:
    """Agreement between reviewers on the verdicts (nominal, four categories).

    Fleiss' kappa (statsmodels) needs the same number of raters on every item: it is
    computed on the annotations judged by the most common number (≥ 2) of reviewers.
    Krippendorff's alpha (nominal, the krippendorff package) takes every annotation judged
    by two or more, missing verdicts allowed."""
    codes = {verdict: index for index, verdict in enumerate(VERDICTS)}
    frame = verdicts.assign(
        item=verdicts["report"].astype(str) + "#" + verdicts["annotation"].astype(str)
    )
    per_item = frame.groupby("item")["reviewer"].nunique()
    multi = per_item[per_item >= 2]
    result: dict[str, float | int | None] = {
        "n_items": len(multi),
        "n_reviewers": int(frame["reviewer"].nunique()),
        "fleiss_kappa": None,
        "fleiss_items": 0,
        "fleiss_raters": 0,
        "krippendorff_alpha": None,
        "percent_agreement": None,
    }
    if multi.empty:
        return result
    shared = frame[frame["item"].isin(multi.index)]
    matrix = shared.pivot_table(
        index="reviewer", columns="item", values="verdict", aggfunc="first"
    ).map(lambda verdict: codes.get(verdict, np.nan) if isinstance(verdict, str) else np.nan)
    data = matrix.to_numpy(dtype=float)
    if len(np.unique(data[np.isfinite(data)])) > 1:
        result["krippendorff_alpha"] = float(
            krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
        )
    else:
        result["krippendorff_alpha"] = 1.0  # one category used throughout: no disagreement
    raters = int(multi.mode().iloc[0])
    complete = [item for item, n in multi.items() if n == raters]
    table = (
        shared[shared["item"].isin(complete)]
        .sort_values("reviewer")
        .groupby("item")["verdict"]
        .apply(lambda values: [codes[v] for v in values])
    )
    counts, _ = aggregate_raters(np.array(table.tolist()), n_cat=len(VERDICTS))
    result["fleiss_items"], result["fleiss_raters"] = len(complete), raters
    agree = float(np.mean([(row.max() == raters) for row in counts]))
    result["percent_agreement"] = agree
    if agree < 1.0:
        result["fleiss_kappa"] = float(fleiss_kappa(counts, method="fleiss"))
    else:
        result["fleiss_kappa"] = 1.0
    return result


def audit_breakdown(
    verdicts: pd.DataFrame, added: pd.DataFrame, reports: pd.DataFrame, *, by: str
) -> pd.DataFrame:
    """The overall figures per value of a report attribute (`reports`: `report` plus the
    attribute, e.g. batch, model, prompt_version, guideline_version). Point estimates only:
    the groups are for comparison at a glance; the intervals live in `audit_metrics`."""
    attribute = reports.set_index("report")[by]
    rows = []
    for value in sorted(set(attribute.astype(str))):
        codes = set(attribute[attribute.astype(str) == value].index)
        part = verdict_flags(verdicts[verdicts["report"].isin(codes)])
        row = _metrics_row(part, added[added["report"].isin(codes)], n_boot=0, seed=0)
        rows.append({by: value, **{k: v for k, v in row.items() if "_ci_" not in k}})
    return pd.DataFrame(rows)


def most_wrong_fields(metrics: pd.DataFrame, *, limit: int = 5) -> list[str]:
    """The fields with the lowest value precision (ties: the lower span precision first),
    among those with at least one verdict."""
    fields = metrics[(metrics["field"] != ALL_FIELDS) & (metrics["n_verdicts"] > 0)]
    ordered = fields.sort_values(
        ["value_precision", "span_exact_precision", "field"], kind="stable"
    )
    wrong = ordered[ordered["value_precision"] < 1.0]
    return list(wrong["field"].head(limit))
