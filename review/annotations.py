"""Coordinator-side rendering of annotated report text: one colour per annotation field,
a legend, and every highlighted span a link to its row (field, value, offsets) below.

Generation writes the spans (field, value, start, end over the stored text); the report
page and the generated-item page both render them through `annotated_text`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

# The fields of generation/output.py in a fixed order, so a field keeps its colour from
# report to report; static/css/app.css defines .ann-0 … .ann-19.
KNOWN_FIELDS = (
    "patient_name",
    "age",
    "sex",
    "admission_date",
    "discharge_date",
    "hospital",
    "department",
    "physician",
    "reason",
    "primary_site",
    "histology",
    "stage",
    "tnm",
    "biomarker",
    "metastatic_site",
    "ecog",
    "comorbidity",
    "smoking",
    "treatment",
)
PALETTE_SIZE = 20


def field_colour(field: str) -> int:
    """The palette index of a field (stable; unknown fields hash into the palette)."""
    if field in KNOWN_FIELDS:
        return KNOWN_FIELDS.index(field)
    return zlib.crc32(field.encode()) % PALETTE_SIZE


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
