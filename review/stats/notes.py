"""The notes the engine attaches to a figure: stable codes, and the one table of their labels.

The engine stores codes (joined with ";" when a figure has several), never sentences, so the
page can show them in the reader's language and the CSV files in English without matching
English text. Labels may name fields of the figure's own row ({n_reports}, {n_reviewers});
the row fills them in. `gettext_noop` only marks the labels for `makemessages` (this package
imports no Django); the page translates them with Django's gettext at render time.
"""

from collections.abc import Callable, Mapping
from typing import Any


def gettext_noop(message: str) -> str:
    return message


NOTE_LABELS: dict[str, str] = {
    # descriptives
    "no_ratings": gettext_noop("no ratings"),
    "one_rating": gettext_noop("one rating: no standard deviation"),
    # comparison
    "no_real_ratings": gettext_noop("no rating of real reports"),
    "no_synthetic_ratings": gettext_noop("no rating of synthetic reports"),
    "one_report_per_source": gettext_noop(
        "fewer than two reports of a source: no interval or test"
    ),
    "constant_no_rank_test": gettext_noop("scores are constant: no rank test"),
    "no_variance": gettext_noop(
        "no variance: every report of each source has the same mean score, so no interval "
        "and no verdict"
    ),
    "few_reports_per_source": gettext_noop("fewer than 5 reports of a source: no interval"),
    # authorship
    "needs_both_sources": gettext_noop("needs ratings of both real and synthetic reports"),
    "no_authorship_ratings": gettext_noop("no ratings in the ai_authorship domain"),
    "few_reports_for_auc": gettext_noop("fewer than 5 reports of a source: no interval"),
    # agreement
    "constant": gettext_noop("scores are constant"),
    "no_pairs": gettext_noop("no report was rated by two reviewers"),
    "subtable_too_small": gettext_noop("fewer than two reports rated by the same reviewers"),
    "design_crossed": gettext_noop(
        "crossed design: the reviewers who rated at least half the reports filled four "
        "cells in five or more of theirs; the empty cells are missing ratings"
    ),
    "design_one_way": gettext_noop(
        "one-way design: no set of reviewers rated four reports in five or more (a panel)"
    ),
    "complete_subtable": gettext_noop(
        "complete sub-table {n_reports} reports × {n_reviewers} reviewers"
    ),
    "two_way_invalid": gettext_noop("reports had different reviewers, so only ICC(1,*) is valid"),
    "two_way_needs_crossed": gettext_noop(
        "reports had different reviewers: two-way forms not estimated (ICC(1,1) estimates "
        "the same single-rating agreement)"
    ),
    "sensitivity_subtable": gettext_noop(
        "sensitivity figure only: ratings outside the complete sub-table are left out"
    ),
    "pooled_mixes_sources": gettext_noop(
        "real and synthetic reports pooled: the source difference inflates agreement"
    ),
    "too_few_reports": gettext_noop(
        "fewer than 5 reports rated by two reviewers or more: no interval"
    ),
    "out_of_range": gettext_noop(
        "estimate outside the statistic's range (a negative variance estimate): not shown"
    ),
    "ci_dropped": gettext_noop("the interval did not contain the estimate: not shown"),
    "ci_undefined": gettext_noop(
        "no interval: it is undefined for these data (e.g. no residual variance)"
    ),
    "kappa_needs_two": gettext_noop("needs exactly two reviewers who rated the same reports"),
    "kappa_no_common": gettext_noop("the two reviewers rated no report in common"),
}


# Koo & Li (2016) bands of an ICC; a CI spanning several reads "moderate-good".
BAND_LABELS: dict[str, str] = {
    "poor": gettext_noop("poor"),
    "moderate": gettext_noop("moderate"),
    "good": gettext_noop("good"),
    "excellent": gettext_noop("excellent"),
}


def note_codes(*notes: str) -> str:
    """Notes (codes, or already joined notes) joined as one, empty ones skipped; each code
    must be in NOTE_LABELS."""
    codes = [code for note in notes for code in note.split(";") if code]
    for code in codes:
        if code not in NOTE_LABELS:
            raise KeyError(f"unknown note code: {code}")
    return ";".join(codes)


def band_text(band: str | None, translate: Callable[[str], str] = str) -> str:
    """A band code ("moderate-good") in words."""
    if not band:
        return ""
    return "–".join(translate(BAND_LABELS[part]) for part in band.split("-"))


def note_text(
    note: str | None,
    row: Mapping[str, Any] | None = None,
    translate: Callable[[str], str] = str,
) -> str:
    """The note's labels, translated by `translate`, filled in from `row`, joined with "; "."""
    if not note:
        return ""
    fields = _Fields(row or {})
    parts = []
    for code in note.split(";"):
        label = NOTE_LABELS.get(code)
        parts.append(translate(label).format_map(fields) if label is not None else code)
    return "; ".join(parts)


class _Fields(dict):
    """A row for str.format_map: a field the row lacks stays as written."""

    def __init__(self, row: Mapping[str, Any]):
        super().__init__(row)

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
