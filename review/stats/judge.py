"""The LLM judge against the physicians: agreement per domain, bias, authorship AUC, plot.

Pure functions over long-format tables (report, source, reviewer, domain, score): the
physicians' ratings and the judge's, kept apart. Per domain, on the reports both rated:

* ICC(2,1) between the judge's score and the physicians' mean per report (two-way random,
  absolute agreement, single rater: Shrout & Fleiss 1979; McGraw & Wong 1996 interval),
  by the same ANOVA formulas as the panel's agreement;
* Cohen's quadratic-weighted kappa between the judge and the physicians' mean rounded to
  the scale (Cohen 1968), with a report-level percentile bootstrap interval;
* the mean bias (judge − physicians' mean) with its t interval.

The judge's authorship AUC (its `ai_authorship` score as a classifier of synthetic
reports) sits beside the physicians' pooled AUC.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from scipy import stats as scipy_stats
from sklearn.metrics import cohen_kappa_score, roc_auc_score

from review.stats.agreement import icc_table
from review.stats.agreement_bootstrap import kappa_interval
from review.stats.frame import AUTHORSHIP_DOMAIN, SYNTHETIC

matplotlib.use("Agg")

from matplotlib import rc_context
from matplotlib.figure import Figure

KAPPA_RESAMPLES = 1000


@dataclass
class JudgeDomainRow:
    domain: str
    n_reports: int
    icc21: float
    icc21_low: float
    icc21_high: float
    kappa_quadratic: float
    kappa_low: float
    kappa_high: float
    bias: float
    bias_low: float
    bias_high: float
    note: str = ""


@dataclass
class JudgeComparison:
    model: str
    domains: list[JudgeDomainRow] = field(default_factory=list)
    judge_auc: float = float("nan")
    physicians_auc: float = float("nan")
    plot_svg: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "judge_auc": self.judge_auc,
            "physicians_auc": self.physicians_auc,
            "domains": [row.__dict__ for row in self.domains],
        }


def paired_scores(physicians: pd.DataFrame, judge: pd.DataFrame, *, domain: str) -> pd.DataFrame:
    """Per report rated by both: the judge's score, the physicians' mean, the source."""
    panel = (
        physicians[physicians["domain"] == domain]
        .groupby("report", observed=True)
        .agg(physicians=("score", "mean"), source=("source", "first"))
    )
    own = judge[judge["domain"] == domain].groupby("report", observed=True)["score"].mean()
    paired = panel.join(own.rename("judge"), how="inner")
    return paired.sort_index()


def _kappa(judge: np.ndarray, panel: np.ndarray, labels: list[int]) -> float:
    rounded = np.clip(np.floor(panel + 0.5), labels[0], labels[-1]).astype(int)
    if len(set(judge.astype(int))) < 2 and len(set(rounded)) < 2:
        return float("nan")
    return float(cohen_kappa_score(judge.astype(int), rounded, labels=labels, weights="quadratic"))


def _domain_row(
    domain: str, paired: pd.DataFrame, *, scale: tuple[int, int], seed: int
) -> JudgeDomainRow:
    n = len(paired)
    nan = float("nan")
    row = JudgeDomainRow(domain, n, nan, nan, nan, nan, nan, nan, nan, nan, nan)
    if n < 3:
        row.note = "fewer than three reports rated by both"
        return row
    judge = paired["judge"].to_numpy(dtype=float)
    panel = paired["physicians"].to_numpy(dtype=float)
    row.icc21, row.icc21_low, row.icc21_high = (
        float(x) for x in icc_table(np.column_stack([judge, panel]))["ICC(2,1)"]
    )
    labels = list(range(scale[0], scale[1] + 1))
    row.kappa_quadratic = _kappa(judge, panel, labels)
    if np.isfinite(row.kappa_quadratic):
        # The panel's own kappa interval machinery: one matrix product for all resamples.
        rounded = np.clip(np.floor(panel + 0.5), labels[0], labels[-1])
        row.kappa_low, row.kappa_high = (
            float(x)
            for x in kappa_interval(
                np.column_stack([judge, rounded]).astype(int),
                np.array(labels),
                n_boot=KAPPA_RESAMPLES,
                rng=np.random.default_rng(seed),
            )
        )
    difference = judge - panel
    row.bias = float(difference.mean())
    spread = difference.std(ddof=1) / np.sqrt(n)
    if spread > 0:
        margin = float(scipy_stats.t.ppf(0.975, n - 1) * spread)
        row.bias_low, row.bias_high = row.bias - margin, row.bias + margin
    else:
        row.bias_low = row.bias_high = row.bias
    return row


def _auc(frame: pd.DataFrame) -> float:
    part = frame[frame["domain"] == AUTHORSHIP_DOMAIN]
    truth = (part["source"] == SYNTHETIC).to_numpy()
    if part.empty or truth.all() or not truth.any():
        return float("nan")
    return float(roc_auc_score(truth, part["score"].to_numpy(dtype=float)))


def _plot(pairs: dict[str, pd.DataFrame], *, model: str, scale: tuple[int, int]) -> str:
    domains = [d for d, p in pairs.items() if len(p)]
    if not domains:
        return ""
    with rc_context({"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": f"judge-{model}"}):
        figure = Figure(figsize=(2.4 * len(domains), 2.6))
        axes = figure.subplots(1, len(domains), squeeze=False)[0]
        for ax, domain in zip(axes, domains, strict=True):
            paired = pairs[domain]
            synthetic = paired["source"] == SYNTHETIC
            ax.scatter(paired["physicians"][~synthetic], paired["judge"][~synthetic], s=12)
            ax.scatter(paired["physicians"][synthetic], paired["judge"][synthetic], s=12)
            ax.plot(scale, scale, linewidth=0.8, color="grey")
            ax.set_xlim(scale[0] - 0.5, scale[1] + 0.5)
            ax.set_ylim(scale[0] - 0.5, scale[1] + 0.5)
            ax.set_title(domain)
            ax.set_xlabel("physicians' mean")
        axes[0].set_ylabel(f"judge ({model})")
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def judge_compare(
    physicians: pd.DataFrame,
    judge: pd.DataFrame,
    *,
    model: str,
    domains: list[str],
    scale: tuple[int, int],
    seed: int = 0,
    with_plot: bool = True,
) -> JudgeComparison:
    pairs = {domain: paired_scores(physicians, judge, domain=domain) for domain in domains}
    return JudgeComparison(
        model=model,
        domains=[_domain_row(domain, pairs[domain], scale=scale, seed=seed) for domain in domains],
        judge_auc=_auc(judge),
        physicians_auc=_auc(physicians),
        plot_svg=_plot(pairs, model=model, scale=scale) if with_plot else "",
    )
