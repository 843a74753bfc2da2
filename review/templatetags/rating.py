"""{% scale_choices … %}: the radio buttons of one domain on the rating page."""

from collections.abc import Sequence

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def scale_choices(
    *, domain_key: str, scale: Sequence[int], selected: int | None, enabled: bool
) -> SafeString:
    """One <label><input type=radio name="score-<domain_key>"></label> per score of the
    scale; the one equal to `selected` checked, all disabled unless `enabled`.

    Built in Python rather than by a template loop: the rating page carries 6 domains x 10
    scores, and as template nodes those buttons were most of the rendering time of the
    app's most requested page (and of every saved score, which re-renders its row)."""
    name = escape(f"score-{domain_key}")
    disabled = "" if enabled else " disabled"
    return mark_safe(  # noqa: S308 (the name is escaped; the values are integers)
        "\n".join(
            f'<label class="choice"><input type="radio" name="{name}" value="{int(value)}"'
            f"{' checked' if value == selected else ''}{disabled}><span>{int(value)}</span>"
            "</label>"
            for value in scale
        )
    )
