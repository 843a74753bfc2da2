"""The narrative with every annotation marked, overlapping ones included.

The coordinator's viewer (review/annotations.py) highlights the first of two overlapping
spans only; an audit must show every annotation, so the text is cut at every span
boundary and each piece is marked with all the annotations covering it (`data-ann`).
The reviewer's own added annotations (`added=True`, `index` is then the added row's id)
are marked too, in their field's colour with the `ann-added` class (a dashed outline): a
piece covered by added spans only is a `mark.ann-added` without the `ann` class (the page's
keyboard moves between the model's annotations only). Every mark carries the offsets of
its piece (`data-start`, `data-end`).
Offsets are those of the stored text: nothing is normalised here, so a character offset
the browser computes over the rendered text is an offset into `Report.text`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class MarkedSpan:
    index: int  # the annotation's index in Report.annotations
    field: str
    colour: int
    start: int
    end: int
    added: bool = False  # a reviewer's added annotation; `index` is its id


def marked_text(text: str, spans: Sequence[MarkedSpan]) -> SafeString:
    located = [s for s in spans if 0 <= s.start < s.end <= len(text)]
    bounds = sorted({0, len(text)} | {s.start for s in located} | {s.end for s in located})
    pieces: list[str] = []
    for left, right in pairwise(bounds):
        covering = [s for s in located if s.start <= left and right <= s.end]
        piece = text[left:right]
        if not covering:
            pieces.append(escape(piece))
            continue
        # The innermost (shortest) span gives the colour: it is the one a reader aims at.
        inner = min(covering, key=lambda s: (s.end - s.start, s.added, s.index))
        model = [str(s.index) for s in covering if not s.added]
        added = [str(s.index) for s in covering if s.added]
        classes = (["ann"] if model else []) + [f"ann-{inner.colour}"]
        if added:
            classes.append("ann-added")
        attributes = [f'class="{" ".join(classes)}"']
        if model:
            attributes.append(f'data-ann="{" ".join(model)}"')
        if added:
            attributes.append(f'data-added="{" ".join(added)}"')
        pieces.append(
            format_html(
                '<mark {} data-field="{}" data-start="{}" data-end="{}">{}</mark>',
                mark_safe(" ".join(attributes)),  # noqa: S308 (integers and class names only)
                inner.field,
                left,
                right,
                piece,
            )
        )
    return mark_safe("".join(pieces))  # noqa: S308 (every piece is escaped above)
