"""Coordinator-side rendering of annotated report text: one colour per annotation field,
a legend, and every highlighted span a link to its row (field, value, offsets) below.

Generation writes the spans (field, value, start, end over the stored text); the report
page and the generated-item page both render them through `annotated_text`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from review.annotation_fields import KNOWN_FIELDS, PALETTE_SIZE, field_colour

__all__ = ["KNOWN_FIELDS", "PALETTE_SIZE", "AnnotatedText", "annotated_text", "field_colour"]


@dataclass(frozen=True)
class Span:
    number: int
    field: str
    value: str
    start: int
    end: int
    text: str
    colour: int
    shown: bool  # False when it overlaps an earlier span or lies outside the text


@dataclass(frozen=True)
class LegendEntry:
    field: str
    colour: int
    count: int


@dataclass(frozen=True)
class AnnotatedText:
    html: SafeString
    spans: list[Span]
    legend: list[LegendEntry]


def annotated_text(text: str, annotations: list[dict[str, Any]] | Any) -> AnnotatedText:
    """The text, escaped, each located span wrapped in a coloured link to its table row.
    Overlapping spans keep the first (by start) highlighted; the others are still listed."""
    raw = [a for a in (annotations or []) if isinstance(a, dict)]
    ordered = sorted(
        (a for a in raw if isinstance(a.get("start"), int) and isinstance(a.get("end"), int)),
        key=lambda a: (a["start"], a["end"]),
    )
    pieces: list[str] = []
    spans: list[Span] = []
    cursor = 0
    for number, annotation in enumerate(ordered, start=1):
        start, end = annotation["start"], annotation["end"]
        field = str(annotation.get("field", ""))
        shown = cursor <= start < end <= len(text)
        spans.append(
            Span(
                number=number,
                field=field,
                value=str(annotation.get("value", "")),
                start=start,
                end=end,
                text=text[start:end] if 0 <= start < end <= len(text) else "",
                colour=field_colour(field),
                shown=shown,
            )
        )
        if not shown:
            continue
        pieces.append(escape(text[cursor:start]))
        pieces.append(
            format_html(
                '<a class="annotation ann-{}" href="#ann-{}" data-field="{}" '
                'title="{}: {} [{}–{}]">{}</a>',
                field_colour(field),
                number,
                field,
                field,
                annotation.get("value", ""),
                start,
                end,
                text[start:end],
            )
        )
        cursor = end
    pieces.append(escape(text[cursor:]))
    counts: dict[str, int] = {}
    for span in spans:
        counts[span.field] = counts.get(span.field, 0) + 1
    legend = [
        LegendEntry(field=field, colour=field_colour(field), count=n)
        for field, n in sorted(counts.items(), key=lambda item: field_colour(item[0]))
    ]
    return AnnotatedText(
        html=mark_safe("".join(pieces)),  # noqa: S308 (every piece is escaped above)
        spans=spans,
        legend=legend,
    )
