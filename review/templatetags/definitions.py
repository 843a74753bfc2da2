"""{% definitions value %}: nested dicts and lists (provenance, scenario, audit details)
as definition lists a coordinator can read, instead of a printed Python dict."""

from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Deeper structures are printed as they are (nothing in provenance nests this far).
MAX_DEPTH = 6


def _scalar(value: Any) -> SafeString:
    if value is None or value == "":
        return mark_safe('<span class="muted">—</span>')
    if isinstance(value, bool):
        return format_html("{}", "yes" if value else "no")
    return format_html("{}", value)


def _render(value: Any, depth: int) -> SafeString:
    if depth >= MAX_DEPTH:
        return format_html("<code>{}</code>", value)
    if isinstance(value, dict):
        if not value:
            return _scalar(None)
        rows = format_html_join(
            "",
            "<dt>{}</dt><dd>{}</dd>",
            ((key, _render(item, depth + 1)) for key, item in value.items()),
        )
        return format_html('<dl class="definitions">{}</dl>', rows)
    if isinstance(value, list | tuple):
        if not value:
            return _scalar(None)
        if all(not isinstance(item, dict | list | tuple) for item in value):
            return format_html_join(", ", "{}", ((_scalar(item),) for item in value))
        items = format_html_join("", "<li>{}</li>", ((_render(item, depth + 1),) for item in value))
        return format_html('<ol class="definitions-list">{}</ol>', items)
    return _scalar(value)


@register.simple_tag
def definitions(value: Any) -> SafeString:
    return _render(value, 0)
