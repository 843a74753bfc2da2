"""Plots of the results as SVG markup, drawn on the server with matplotlib (Agg, no pyplot).

Each plot gets its own SVG id salt so several can be inlined in one page without their
internal ids (clip paths, markers) colliding. The words drawn in the plots come from
`WORDS` unless the caller passes translated ones (this module needs no Django).
"""

import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import rc_context
from matplotlib.figure import Figure

REAL_COLOUR = "#1f6f8b"
SYNTHETIC_COLOUR = "#d9822b"
_RC: dict[Any, Any] = {
    "svg.fonttype": "none",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    # Labels are user text (domain labels, study names): "$…$" in them must be drawn as
    # typed, not parsed as mathtext (which raised on malformed input and broke the page).
    "text.parse_math": False,
}
WORDS: dict[str, str] = {
    "real": "real",
    "synthetic": "synthetic",
    "mean_score": "mean score (95% CI)",
    "share": "share of ratings",
    "score": "score",
    "fpr": "1 − specificity (real said AI)",
    "tpr": "sensitivity (synthetic said AI)",
    "pooled": "pooled",
    "assigned": "assigned",
    "submitted": "submitted",
    "reports": "reports",
}


def _svg(figure: Figure, name: str) -> str:
    buffer = io.StringIO()
    with rc_context({**_RC, "svg.hashsalt": name}):
        # A tight box keeps rotated tick labels and long row names inside the image.
        figure.savefig(
            buffer, format="svg", metadata={"Date": None}, bbox_inches="tight", pad_inches=0.05
        )
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _figure(width: float, height: float) -> Figure:
    with rc_context(_RC):
        return Figure(figsize=(width, height))


def _value(x: Any) -> float:
    return float("nan") if x is None else float(x)


def _means_figure(
    comparison: Sequence[dict], labels: dict[str, str], words: Mapping[str, str] = WORDS
) -> Figure:
    """Mean per domain with its 95% CI, real and synthetic side by side."""
    figure = _figure(7, 3.2)
    with rc_context(_RC):
        axes = figure.add_subplot()
        for offset, source, colour in (
            (-0.12, "real", REAL_COLOUR),
            (0.12, "synthetic", SYNTHETIC_COLOUR),
        ):
            xs, ys, lows, highs = [], [], [], []
            for i, row in enumerate(comparison):
                mean = _value(row[f"mean_{source}"])
                xs.append(i + offset)
                ys.append(mean)
                lows.append(max(0.0, mean - _value(row[f"mean_{source}_ci_low"])))
                highs.append(max(0.0, _value(row[f"mean_{source}_ci_high"]) - mean))
            axes.errorbar(
                xs, ys, yerr=[lows, highs], fmt="o", capsize=3, color=colour, label=words[source]
            )
        axes.set_xticks(range(len(comparison)))
        axes.set_xticklabels(
            [labels.get(r["domain"], r["domain"]) for r in comparison], rotation=20, ha="right"
        )
        axes.set_ylabel(words["mean_score"])
        axes.legend(frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2)
    return figure


def _distribution_figure(
    descriptives: Sequence[dict],
    labels: dict[str, str],
    scale_low: int,
    words: Mapping[str, str] = WORDS,
) -> Figure:
    """Share of each score per domain and source, as one heat map (one artist: fast)."""
    names, shares = [], []
    for row in descriptives:
        if row["scope"] == "all":
            continue
        histogram = row["histogram"] or []
        total = sum(histogram) or 1
        scope = words.get(row["scope"], row["scope"])
        names.append(f"{labels.get(row['domain'], row['domain'])} · {scope}")
        shares.append([count / total for count in histogram])
    figure = _figure(7, 0.28 * max(2, len(names)) + 1.0)
    with rc_context(_RC):
        axes = figure.add_axes((0.32, 0.12, 0.55, 0.83))
        if shares:
            image = axes.imshow(shares, aspect="auto", cmap="Blues", vmin=0, vmax=1)
            colour_axes = figure.add_axes((0.89, 0.12, 0.02, 0.83))
            figure.colorbar(image, cax=colour_axes, label=words["share"])
            width = len(shares[0])
            axes.set_xticks(range(width), [str(scale_low + i) for i in range(width)])
        axes.set_yticks(range(len(names)), names)
        axes.set_xlabel(words["score"])
    return figure


def _roc_figure(curves: Sequence[dict], words: Mapping[str, str] = WORDS) -> Figure:
    """ROC of the AI-authorship score: pooled in bold, each reviewer thin."""
    figure = _figure(4, 4)
    with rc_context(_RC):
        axes = figure.add_subplot()
        axes.plot([0, 1], [0, 1], linestyle="--", color="#999999", linewidth=1)
        for curve in curves:
            pooled = curve["scope"] == "pooled"
            axes.plot(
                curve["fpr"],
                curve["tpr"],
                linewidth=2.2 if pooled else 1,
                label=words["pooled"] if pooled else curve["reviewer"],
                drawstyle="default",
            )
        axes.set_xlabel(words["fpr"])
        axes.set_ylabel(words["tpr"])
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1)
        if curves:
            axes.legend(frameon=False, fontsize=7, loc="lower right")
    return figure


def _progress_figure(
    progress: Sequence[tuple[str, int, int]], words: Mapping[str, str] = WORDS
) -> Figure:
    """Submitted against assigned reports, per reviewer pseudonym."""
    figure = _figure(5, 0.45 * max(2, len(progress)) + 0.8)
    with rc_context(_RC):
        axes = figure.add_subplot()
        names = [name for name, _, _ in progress]
        axes.barh(
            names, [total for _, _, total in progress], color="#dddddd", label=words["assigned"]
        )
        axes.barh(
            names, [done for _, done, _ in progress], color=REAL_COLOUR, label=words["submitted"]
        )
        axes.invert_yaxis()
        axes.set_xlabel(words["reports"])
        if progress:
            # Above the bars, not over them.
            axes.legend(
                frameon=False, fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2
            )
    return figure


def means_plot(*args: Any, **kwargs: Any) -> str:
    return _svg(_means_figure(*args, **kwargs), "means")


def distribution_plot(*args: Any, **kwargs: Any) -> str:
    return _svg(_distribution_figure(*args, **kwargs), "distributions")


def roc_plot(*args: Any, **kwargs: Any) -> str:
    return _svg(_roc_figure(*args, **kwargs), "roc")


def progress_plot(*args: Any, **kwargs: Any) -> str:
    return _svg(_progress_figure(*args, **kwargs), "progress")


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    with rc_context(_RC):
        # 200 dpi: sharp enough for a journal's figure upload.
        figure.savefig(
            buffer, format="png", dpi=200, metadata={"Software": None}, bbox_inches="tight"
        )
    return buffer.getvalue()


def study_plots_png(
    results: Any, *, labels: dict[str, str], words: Mapping[str, str] = WORDS
) -> dict[str, bytes]:
    """The same plots as `study_plots`, as PNG images (for papers and slides)."""
    figures = results.as_dict() if hasattr(results, "as_dict") else results
    return {
        "means": _png(_means_figure(figures["comparison"], labels, words)),
        "distributions": _png(
            _distribution_figure(figures["descriptives"], labels, figures["scale"]["min"], words)
        ),
        "roc": _png(_roc_figure(figures["roc"], words)),
    }


def study_plots(
    results: Any, *, labels: dict[str, str], words: Mapping[str, str] = WORDS
) -> dict[str, str]:
    figures = results.as_dict() if hasattr(results, "as_dict") else results
    return {
        "means": means_plot(figures["comparison"], labels, words),
        "distributions": distribution_plot(
            figures["descriptives"], labels, figures["scale"]["min"], words
        ),
        "roc": roc_plot(figures["roc"], words),
    }
