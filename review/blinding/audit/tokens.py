"""What a payload is made of, apart from the report's own text (check (a) of the audit).

Each rating page, partial or API response is reduced to tokens (tags, attributes, class
names, ids, comments, URLs, JSON keys and values) and numbers, with the per-page random
values (codes, CSRF tokens) masked, so payloads of different reports compare token by
token. The report text is left out: the writing is what reviewers are meant to judge.
"""

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from django.utils.html import escape

from review.blinding.audit.collect import Payload
from review.blinding.presentation import report_blocks
from review.conventions import NO_CONVENTIONS, Conventions
from review.models import Assignment, Study

REPORT_CONTAINER_CLASS = "report-text"
# Attributes the one template puts inside the report text (headings); anything else there
# is not part of the writing and is audited like the rest of the page.
ALLOWED_INSIDE_REPORT = {("h2", "class", "report-section")}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
URL_ATTRIBUTES = {"href", "src", "action", "hx-get", "hx-post", "hx-put", "hx-delete", "formaction"}
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_LONG_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,}")


class Masker:
    """Replaces the per-page random values (codes, CSRF tokens) and numbers by markers."""

    def __init__(self, study: Study) -> None:
        codes = list(Assignment.objects.filter(study=study).values_list("code", "report__code"))
        self.replacements = {code: "{A}" for code, _report in codes}
        self.replacements.update({report: "{R}" for _code, report in codes})
        self.replacements[study.code] = "{S}"
        self.pattern = (
            re.compile(
                "|".join(re.escape(k) for k in sorted(self.replacements, key=len, reverse=True))
            )
            if self.replacements
            else None
        )

    def __call__(self, value: str) -> tuple[str, list[float]]:
        if self.pattern is not None:
            value = self.pattern.sub(lambda m: self.replacements[m.group(0)], value)
        value = _LONG_TOKEN.sub("{T}", value)
        numbers = [float(n) for n in _NUMBER.findall(value)]
        return _NUMBER.sub("{N}", value), numbers


class _PageTokens(HTMLParser):
    """Tokens of an HTML page. Inside the report container only attributes are audited,
    those the template puts there excepted (ALLOWED_INSIDE_REPORT): the text is the
    writing, which reviewers are meant to judge."""

    def __init__(self, mask: Masker) -> None:
        super().__init__(convert_charrefs=True)
        self.mask = mask
        self.tokens: set[str] = set()
        self.numbers: dict[str, float] = {}
        self.urls: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.report_depth = 0

    def _add(self, key: str, raw: str) -> None:
        masked, numbers = self.mask(raw)
        self.tokens.add(f"{key}={masked}")
        for index, number in enumerate(numbers):
            self.numbers[f"{key}={masked}#{index}"] = number

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        inside = self.report_depth > 0
        if inside and tag not in VOID_TAGS:
            self.report_depth += 1
        if not inside:
            self.tokens.add(f"tag:{tag}")
        for name, value in attrs:
            value = value or ""
            if inside and (tag, name, value) in ALLOWED_INSIDE_REPORT:
                continue
            self.attributes.append((name, value))
            if name == "class":
                self.tokens.update(f"class:{c}" for c in value.split())
            elif name in URL_ATTRIBUTES:
                self.urls.append(value)
                self._add(f"url:{tag}[{name}]", value)
            else:
                self._add(f"attr:{tag}[{name}]", value)
        classes = dict(attrs).get("class") or ""
        if not inside and REPORT_CONTAINER_CLASS in classes.split() and tag not in VOID_TAGS:
            self.report_depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self.report_depth > 0:
            self.report_depth -= 1

    def handle_data(self, data: str) -> None:
        if self.report_depth == 0 and data.strip():
            self._add("text", " ".join(data.split()))

    def handle_comment(self, data: str) -> None:
        self._add("comment", data.strip())


def _json_tokens(value: Any, mask: Masker, path: str, tokens: set[str], numbers: dict) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            tokens.add(f"json-key:{path}.{key}")
            if key == "text" and isinstance(item, str):
                continue  # the report itself
            _json_tokens(item, mask, f"{path}.{key}", tokens, numbers)
    elif isinstance(value, list):
        for item in value:
            _json_tokens(item, mask, f"{path}[]", tokens, numbers)
    elif isinstance(value, bool) or value is None:
        tokens.add(f"json:{path}={value}")
    elif isinstance(value, int | float):
        numbers[f"json:{path}"] = float(value)
    else:
        masked, found = mask(str(value))
        tokens.add(f"json:{path}={masked}")
        for index, number in enumerate(found):
            numbers[f"json:{path}={masked}#{index}"] = number


@dataclass
class ReportPage:
    payload: Payload
    tokens: set[str]
    numbers: dict[str, float]
    outside_text: str  # everything but the report's own text, for the word search
    urls: list[str]
    attributes: list[tuple[str, str]]


def _strip_report_text(body: str, text: str, language: str, conventions: Conventions) -> str:
    """The page without the report's own words, so the source-word search does not flag
    a report that happens to say "réel" or "lot" in its text."""
    pieces = []
    for block in report_blocks(text, language=language, conventions=conventions):
        pieces.extend([block.text] if block.kind != "list" else block.items)
    # Longest first: a short piece removed first could break a longer one that contains it.
    for piece in sorted((p for p in pieces if p), key=len, reverse=True):
        body = body.replace(str(escape(piece)), " ").replace(piece, " ")
    return body


def page_analyse(
    payload: Payload,
    mask: Masker,
    texts: dict[int, tuple[str, str]],
    conventions: Conventions = NO_CONVENTIONS,
) -> ReportPage:
    """`texts`: each report's (text, language), rendered as reviewers see it (in the house
    style with the study's `conventions`)."""
    text, language = texts.get(payload.report_id or 0, ("", "fr"))
    tokens: set[str] = set()
    numbers: dict[str, float] = {}
    urls: list[str] = []
    attributes: list[tuple[str, str]] = []
    if payload.kind in ("assignment_api", "queue_entry", "queue"):
        try:
            data = json.loads(payload.body)
        except ValueError:
            data = payload.body
        _json_tokens(data, mask, payload.kind, tokens, numbers)
        if isinstance(data, dict):
            data = {key: value for key, value in data.items() if key != "text"}
        outside = json.dumps(data, ensure_ascii=False)
    else:
        # Keys prefixed by the kind of page: a class on every rating page and on no API
        # response is normal, the comparison is between reports of the same kind.
        parser = _PageTokens(mask)
        parser.feed(payload.body)
        tokens = {f"{payload.kind}:{token}" for token in parser.tokens}
        numbers = {f"{payload.kind}:{key}": value for key, value in parser.numbers.items()}
        urls, attributes = parser.urls, parser.attributes
        outside = (
            _strip_report_text(payload.body, text, language, conventions) if text else payload.body
        )
    return ReportPage(payload, tokens, numbers, outside, urls, attributes)
