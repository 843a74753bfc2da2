"""The narrative with every annotation marked, overlapping ones included.

The coordinator's viewer (review/annotations.py) highlights the first of two overlapping
spans only; an audit must show every annotation, so the text is cut at every span
boundary and each piece is marked with all the annotations covering it (`data-ann`).
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
        inner = min(covering, key=lambda s: (s.end - s.start, s.index))
        pieces.append(
            format_html(
                '<mark class="ann ann-{}" data-ann="{}" data-field="{}">{}</mark>',
                inner.colour,
                " ".join(str(s.index) for s in covering),
                inner.field,
                piece,
            )
        )
    return mark_safe("".join(pieces))  # noqa: S308 (every piece is escaped above)
