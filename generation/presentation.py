"""Coordinator-side rendering of a generated report: annotated segments highlighted."""

from __future__ import annotations

from typing import Any

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe


def annotated_html(text: str, spans: list[dict[str, Any]]) -> SafeString:
    """The text, escaped, with each located span wrapped in <mark class="annotation">.

    Overlapping spans keep the first (by start); offsets outside the text are ignored.
    """
    pieces: list[str] = []
    cursor = 0
    for span in sorted(spans, key=lambda s: (s.get("start") or 0, s.get("end") or 0)):
        start, end = span.get("start"), span.get("end")
        if not isinstance(start, int) or not isinstance(end, int):
            continue
        if start < cursor or end > len(text) or start >= end:
            continue
        pieces.append(escape(text[cursor:start]))
        pieces.append(
            format_html(
                '<mark class="annotation" data-field="{}" title="{}: {}">{}</mark>',
                span.get("field", ""),
                span.get("field", ""),
                span.get("value", ""),
                text[start:end],
            )
        )
        cursor = end
    pieces.append(escape(text[cursor:]))
    return mark_safe("".join(pieces))  # noqa: S308 (every piece is escaped above)
