"""The rating page's domain rows (`review/rate.html#domain-row`), rendered once per content.

A row is the same HTML for every assignment of a study but for the assignment's code in
its save URL: the domain's texts, the scale, the selected score, whether scores can still
change, the language. The page carries six rows and every saved score answers with one, so
rendering them through the template engine was ~0.22 ms each, a tenth of a save's CPU
(issue 21). Each process keeps the rendered HTML of the rows it has served, keyed by all
that the template reads, and writes the assignment's code into the copy it returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import quote

from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from review.selectors import BlindedDomain

# Stands for the assignment's code while rendering: an assignment code never contains "@"
# (CODE_ALPHABET), and the only place the row names the code is its save URL, /r/<code>/….
_CODE_PLACEHOLDER = "@assignment@"
_URL_WITH_PLACEHOLDER = f"/r/{_CODE_PLACEHOLDER}/"


@lru_cache(maxsize=4096)
def _row_html(
    domain: BlindedDomain,
    scale: tuple[int, ...],
    study_open: bool,
    missing: bool,
    language: str | None,
    script_prefix: str,
) -> str:
    # The language and the script prefix are in the key because the template's
    # translations and {% url %} read them from the thread, not from the context.
    del script_prefix
    with translation.override(language):
        return render_to_string(
            "review/rate.html#domain-row",
            {
                "domain": domain,
                "assignment_code": _CODE_PLACEHOLDER,
                "study_open": study_open,
                "scale": list(scale),
                "missing_first": domain.key if missing else None,
                "error": "",
            },
        )


def domain_row_html(
    *,
    domain: BlindedDomain,
    assignment_code: str,
    scale: Sequence[int],
    study_open: bool,
    missing: bool = False,
) -> SafeString:
    """One domain row of `assignment_code`'s rating page, as `#domain-row` renders it
    without an error message (a row with an error is rendered by the template itself)."""
    html = _row_html(
        domain, tuple(scale), study_open, missing, translation.get_language(), get_script_prefix()
    )
    code = escape(quote(assignment_code, safe=""))
    return mark_safe(html.replace(_URL_WITH_PLACEHOLDER, f"/r/{code}/"))  # noqa: S308 (escaped)
