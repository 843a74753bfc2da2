"""Human labels for scenario keys (site, histology, reason) in the active language."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from generation import guidelines
from generation.vocabulary import LANGUAGES, REASON_LABELS

register = template.Library()


def _language() -> str:
    code = (get_language() or "en")[:2]
    return code if code in LANGUAGES else "en"


@register.simple_tag
def scenario_labels(scenario: dict[str, Any]) -> dict[str, str]:
    """Labels for the keys of `scenario`; a key the vocabulary does not know (a custom frame)
    is shown as it is rather than failing the page."""
    language = _language()
    site, histology, reason = (scenario.get(k, "") for k in ("site", "histology", "reason"))
    try:
        site_label = guidelines.site_label(site, language)
    except KeyError:
        site_label = site
    try:
        histology_label = guidelines.histology_label(site, histology, language)
    except KeyError:
        histology_label = histology
    return {
        "site": site_label,
        "histology": histology_label,
        "reason": REASON_LABELS.get(reason, {}).get(language, reason),
    }
