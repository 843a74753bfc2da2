"""Study instructions are written by coordinators in Markdown and shown to reviewers.

Rendered with markdown-it-py's CommonMark preset with raw HTML off: any HTML a coordinator
types is shown as text, and its link validator refuses javascript:, vbscript:, file: and
data: URLs. Images are off too: instructions must not make the reviewer's browser fetch
anything from elsewhere.
"""

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table").disable("image")


def instructions_html(text: str) -> SafeString:
    return mark_safe(_MARKDOWN.render(text))  # noqa: S308 (raw HTML disabled, see above)
