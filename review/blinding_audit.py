"""Leak audit: can anything a reviewer receives tell real from synthetic reports?

For one study, everything a reviewer can receive is gathered by rendering it as that
reviewer would, through Django's test client: the home page, every rating page of their
queue, the htmx domain-row partial, the API's queue and assignment endpoints. Then:

(a) tokens (tags, attributes, class names, ids, comments, URLs, JSON keys and values)
    are extracted from each report's payloads with the report's own text masked, and any
    token or number whose presence or value goes with the source is a leak; so is any
    mention of source words, model names, batch ids, import file names, external ids,
    creation times or database ids;
(b) report codes and queue positions must carry no information: rank tests by source and
    a cross-validated classifier on code characters and positions, scored against chance;
(c) surface cues of the writing itself (length, sections, leftover placeholders) are
    compared per source, with a warning when they differ strongly: not a leak of the
    software, but something a coordinator must know before opening the study.

The audit changes nothing: rendering a rating page marks it opened, so everything runs in
a transaction that is rolled back. A draft study is opened inside that transaction, so the
audit can run before the real opening.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from scipy.stats import fisher_exact, mannwhitneyu

from review.imports.placeholders import placeholders_find
from review.models import CODE_ALPHABET, Assignment, Report, Study
from review.presentation import report_blocks
from review.selectors import user_is_coordinator

REPORT_CONTAINER_CLASS = "report-text"
# Attributes the one template puts inside the report text (headings); anything else there
# is not part of the writing and is audited like the rest of the page.
ALLOWED_INSIDE_REPORT = {("h2", "class", "report-section")}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
URL_ATTRIBUTES = {"href", "src", "action", "hx-get", "hx-post", "hx-put", "hx-delete", "formaction"}
SOURCE_WORDS = (
    "synthetic",
    "synthétique",
    "synthetique",
    "real",
    "réel",
    "réelle",
    "generated",
    "généré",
    "générée",
    "llm",
    "mistral",
    "gpt",
    "batch",
    "imported",
    "importé",
)
# A token or number is a leak when it separates the sources this clearly…
LEAK_P_VALUE = 0.001
LEAK_MIN_DIFFERENCE = 0.5
# …and positions or codes are suspicious below this p-value (a warning) or LEAK_P_VALUE.
WARN_P_VALUE = 0.01
CLASSIFIER_P_VALUE = 0.05
CLASSIFIER_MARGIN = 0.2
SURFACE_RATIO = 1.5
SURFACE_EFFECT = 0.5
SURFACE_MIN_LENGTH_RATIO = 1.2
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_LONG_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,}")


@dataclass
class Finding:
    # "token", "number", "word", "identifier", "position", "code", "classifier", "panel"
    check: str
    severity: str  # "leak" or "warning"
    message: str


@dataclass
class SurfaceCue:
    name: str
    real_median: float
    synthetic_median: float
    ratio: float
    p_value: float | None
    effect: float | None
    warn: bool
    note: str = ""


@dataclass
class Payload:
    reviewer: str
    kind: str  # "home", "queue", "rate", "domain_row", "assignment_api", "queue_entry"
    body: str
    report_id: int | None = None
    source: str | None = None


@dataclass
class AuditResult:
    study_code: str
    simulated_opening: bool
    pages: int = 0
    reports: int = 0
    findings: list[Finding] = field(default_factory=list)
    surface: list[SurfaceCue] = field(default_factory=list)
    statistics: dict[str, Any] = field(default_factory=dict)

    @property
    def leaks(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "leak"]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "warning"]

    @property
    def passed(self) -> bool:
        return not self.leaks


# --- (c) surface cues ----------------------------------------------------------------------


def _rank_biserial(a: list[float], b: list[float]) -> tuple[float | None, float | None]:
    if len(a) < 2 or len(b) < 2 or len(set(a) | set(b)) < 2:
        return None, None
    result = mannwhitneyu(a, b, alternative="two-sided")
    effect = 2 * float(result.statistic) / (len(a) * len(b)) - 1
    return float(result.pvalue), effect


def surface_cues(*, study: Study) -> list[SurfaceCue]:
    """Length, sections and leftover placeholders per source, as reviewers will see them."""
    values: dict[str, dict[str, list[float]]] = {
        name: {"real": [], "synthetic": []} for name in ("length", "sections", "placeholders")
    }
    for text, source in study.reports.values_list("text", "source"):
        blocks = report_blocks(text)
        shown = "\n".join(block.text or " ".join(block.items) for block in blocks)
        values["length"][source].append(float(len(shown)))
        values["sections"][source].append(float(sum(b.kind == "heading" for b in blocks)))
        values["placeholders"][source].append(float(len(placeholders_find(text))))
    cues = []
    for name, by_source in values.items():
        real, synthetic = by_source["real"], by_source["synthetic"]
        if not real or not synthetic:
            continue
        real_median, synthetic_median = float(np.median(real)), float(np.median(synthetic))
        low, high = sorted((real_median, synthetic_median))
        ratio = high / low if low else (float("inf") if high else 1.0)
        p_value, effect = _rank_biserial(real, synthetic)
        if name == "placeholders":
            leftovers = sum(1 for value in real + synthetic if value)
            cue = SurfaceCue(
                name=name,
                real_median=real_median,
                synthetic_median=synthetic_median,
                ratio=ratio,
                p_value=p_value,
                effect=effect,
                warn=leftovers > 0,
                note=f"{leftovers} report(s) still contain placeholders" if leftovers else "",
            )
        else:
            # Systematic but imperceptible differences (one character) are not worth a warning.
            noticeable = (
                ratio >= SURFACE_MIN_LENGTH_RATIO
                if name == "length"
                else abs(real_median - synthetic_median) >= 1
            )
            strong = (
                p_value is not None
                and p_value < WARN_P_VALUE
                and abs(effect or 0) >= SURFACE_EFFECT
                and noticeable
            )
            cue = SurfaceCue(
                name=name,
                real_median=real_median,
                synthetic_median=synthetic_median,
                ratio=ratio,
                p_value=p_value,
                effect=effect,
                warn=ratio > SURFACE_RATIO or strong,
            )
        cues.append(cue)
    return cues


# --- gathering what reviewers receive ------------------------------------------------------


def _client_for(user) -> Client:
    hosts = [host.lstrip(".") for host in settings.ALLOWED_HOSTS if host not in ("*", "")]
    client = Client(HTTP_HOST=hosts[0] if hosts else "localhost")
    client.force_login(user)
    return client


def _collect(study: Study, *, max_reports_per_reviewer: int | None) -> list[Payload]:
    payloads: list[Payload] = []
    reviewers = {seat.reviewer_id: seat.reviewer for seat in study.panel.select_related("reviewer")}
    sources = dict(study.reports.values_list("pk", "source"))
    for reviewer_id, reviewer in sorted(reviewers.items()):
        assignments = list(
            Assignment.objects.filter(study=study, reviewer_id=reviewer_id)
            .select_related("report")
            .order_by("position")
        )
        if not assignments:
            continue
        client = _client_for(reviewer)
        name = reviewer.get_username()
        payloads.append(Payload(name, "home", client.get(reverse("review:home"), secure=True).text))
        queue = client.get(reverse("api-my-queue"), secure=True)
        payloads.append(Payload(name, "queue", queue.text))
        by_code = {a.code: a for a in assignments}
        for entry in queue.json():
            if entry.get("code") in by_code:
                report_id = by_code[entry["code"]].report_id
                payloads.append(
                    Payload(name, "queue_entry", json.dumps(entry), report_id, sources[report_id])
                )
        domain_key = study.domains.order_by("order", "id").values_list("key", flat=True).first()
        for assignment in assignments[:max_reports_per_reviewer]:
            report_id, source = assignment.report_id, sources[assignment.report_id]
            page = client.get(reverse("review:rate", args=[assignment.code]), secure=True)
            payloads.append(Payload(name, "rate", page.text, report_id, source))
            api = client.get(reverse("api-my-assignment", args=[assignment.code]), secure=True)
            payloads.append(Payload(name, "assignment_api", api.text, report_id, source))
            if domain_key:
                row = client.post(
                    reverse("review:rate_score", args=[assignment.code, domain_key]),
                    {f"score-{domain_key}": str(study.scale_min)},
                    headers={"HX-Request": "true"},
                    secure=True,
                )
                payloads.append(Payload(name, "domain_row", row.text, report_id, source))
    return payloads


# --- (a) tokens ------------------------------------------------------------------------------


class _Masker:
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
    def __init__(self, mask: _Masker) -> None:
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


def _json_tokens(value: Any, mask: _Masker, path: str, tokens: set[str], numbers: dict) -> None:
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
class _ReportPage:
    payload: Payload
    tokens: set[str]
    numbers: dict[str, float]
    outside_text: str  # everything but the report's own text, for the word search
    urls: list[str]
    attributes: list[tuple[str, str]]


def _strip_report_text(body: str, text: str) -> str:
    pieces = []
    for block in report_blocks(text):
        pieces.extend([block.text] if block.kind != "list" else block.items)
    for piece in sorted((p for p in pieces if p), key=len, reverse=True):
        body = body.replace(str(escape(piece)), " ").replace(piece, " ")
    return body


def _analyse_page(payload: Payload, mask: _Masker, texts: dict[int, str]) -> _ReportPage:
    text = texts.get(payload.report_id or 0, "")
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
        parser = _PageTokens(mask)
        parser.feed(payload.body)
        tokens = {f"{payload.kind}:{token}" for token in parser.tokens}
        numbers = {f"{payload.kind}:{key}": value for key, value in parser.numbers.items()}
        urls, attributes = parser.urls, parser.attributes
        outside = _strip_report_text(payload.body, text) if text else payload.body
    return _ReportPage(payload, tokens, numbers, outside, urls, attributes)


def _separates(a: int, n_a: int, b: int, n_b: int) -> bool:
    """Presence on a of n_a real and b of n_b synthetic payloads goes with the source: all
    of one and none of the other, or a large difference that chance does not explain."""
    if n_a < 2 or n_b < 2:
        return False
    difference = abs(a / n_a - b / n_b)
    if difference < LEAK_MIN_DIFFERENCE:
        return False
    return difference == 1.0 or float(fisher_exact([[a, n_a - a], [b, n_b - b]])[1]) < LEAK_P_VALUE


def _token_findings(pages: list[_ReportPage]) -> list[Finding]:
    findings: list[Finding] = []
    by_source: dict[str, list[_ReportPage]] = defaultdict(list)
    for page in pages:
        by_source[page.payload.source or ""].append(page)
    real, synthetic = by_source.get("real", []), by_source.get("synthetic", [])
    if len(real) < 2 or len(synthetic) < 2:
        return findings
    all_tokens = set().union(*(page.tokens for page in pages))
    for token in sorted(all_tokens):
        a = sum(token in page.tokens for page in real)
        b = sum(token in page.tokens for page in synthetic)
        if _separates(a, len(real), b, len(synthetic)):
            fisher_p = float(fisher_exact([[a, len(real) - a], [b, len(synthetic) - b]])[1])
            findings.append(
                Finding(
                    "token",
                    "leak",
                    f"{token!r} is on {a}/{len(real)} real and {b}/{len(synthetic)} synthetic "
                    f"report pages (Fisher p={fisher_p:.2g})",
                )
            )
    keys = set().union(*(page.numbers for page in pages))
    for key in sorted(keys):
        a_values = [page.numbers[key] for page in real if key in page.numbers]
        b_values = [page.numbers[key] for page in synthetic if key in page.numbers]
        p_value, effect = _rank_biserial(a_values, b_values)
        if (
            p_value is not None
            and p_value < LEAK_P_VALUE
            and abs(effect or 0) >= LEAK_MIN_DIFFERENCE
        ):
            findings.append(
                Finding(
                    "number",
                    "leak",
                    f"the number in {key!r} differs by source (Mann-Whitney p={p_value:.2g}, "
                    f"rank-biserial r={effect:.2f})",
                )
            )
    return findings


def _identifier_findings(
    pages: list[_ReportPage], reports: dict[int, Report], study: Study
) -> list[Finding]:
    """Source words anywhere outside the report text; a report's own provenance details
    (model, batch, import file, external id, creation time, database id) on its pages."""
    findings: list[Finding] = []
    word_patterns = {
        word: re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])", re.I) for word in SOURCE_WORDS
    }
    models = {str(r.provenance.get("model")) for r in reports.values() if r.provenance.get("model")}
    for model in sorted(models):
        word_patterns[model] = re.compile(re.escape(model), re.I)
    # Counted per kind of payload: a word on every rating page of both sources (say, in
    # the study's name) tells nothing about one report; a word on one source's pages does.
    per_word: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for page in pages:
        totals[(page.payload.kind, page.payload.source or "")] += 1
        for word, pattern in word_patterns.items():
            if pattern.search(page.outside_text):
                per_word[(word, page.payload.kind)][page.payload.source or ""] += 1
    for (word, kind), counts in sorted(per_word.items()):
        real, synthetic = counts.get("real", 0), counts.get("synthetic", 0)
        n_real, n_synthetic = totals[(kind, "real")], totals[(kind, "synthetic")]
        if _separates(real, n_real, synthetic, n_synthetic):
            severity, note = "leak", ""
        else:
            severity, note = "warning", " (alike in both sources: check the study's texts)"
        findings.append(
            Finding(
                "word",
                severity,
                f"{word!r} appears on {real}/{n_real} real and {synthetic}/{n_synthetic} "
                f"synthetic {kind} payloads{note}",
            )
        )
    leaked: dict[str, set[str]] = defaultdict(set)
    for page in pages:
        report = reports.get(page.payload.report_id or 0)
        if report is None:
            continue
        candidates = {
            "batch id": str(report.provenance.get("batch") or ""),
            "external id": report.external_id,
            "import file name": report.report_import.file_name if report.report_import else "",
            "creation time": report.created_at.isoformat(timespec="seconds")[:19],
            "creation minute": report.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M"),
            "creation timestamp": str(int(report.created_at.timestamp())),
        }
        for label, value in candidates.items():
            if len(value) >= 4 and value in page.outside_text:
                leaked[label].add(report.code)
        pk = str(report.pk)
        in_urls = any(re.search(rf"(?<![\w{{}}]){pk}(?!\w)", url) for url in page.urls)
        in_ids = any(
            (name in ("id", "data-id", "data-pk") or name.endswith("-id"))
            and re.search(rf"\b{pk}\b", value)
            for name, value in page.attributes
        )
        in_json = re.search(rf'"(id|pk|report_id|report)": ?{pk}\b', page.outside_text)
        if in_urls or in_ids or in_json:
            leaked["database id"].add(report.code)
    for label, codes in sorted(leaked.items()):
        findings.append(
            Finding(
                "identifier",
                "leak",
                f"the report's {label} is visible to reviewers on the pages of {len(codes)} "
                f"report(s), e.g. {sorted(codes)[0]}",
            )
        )
    return findings


# --- (b) codes and positions -----------------------------------------------------------------


def _code_value(code: str) -> int:
    value = 0
    for char in code.split("-")[-1]:
        value = value * len(CODE_ALPHABET) + max(CODE_ALPHABET.find(char), 0)
    return value


def _order_findings(
    study: Study, *, permutations: int, statistics: dict[str, Any]
) -> list[Finding]:
    rows = list(
        Assignment.objects.filter(study=study).values_list(
            "reviewer_id", "position", "code", "report_id", "report__code", "report__source"
        )
    )
    findings: list[Finding] = []
    if not rows:
        return findings
    lengths: dict[int, int] = defaultdict(int)
    for reviewer_id, *_rest in rows:
        lengths[reviewer_id] += 1
    tests: dict[str, list[tuple[float, str]]] = {
        "queue position": [
            ((position - 1) / max(lengths[reviewer] - 1, 1), source)
            for reviewer, position, _c, _r, _rc, source in rows
        ],
        "assignment code": [(_code_value(code), source) for _r, _p, code, *_x, source in rows],
        "report code": list(
            {report: (_code_value(rcode), source) for *_x, report, rcode, source in rows}.values()
        ),
    }
    for name, pairs in tests.items():
        real = [value for value, source in pairs if source == "real"]
        synthetic = [value for value, source in pairs if source == "synthetic"]
        p_value, effect = _rank_biserial(real, synthetic)
        statistics[f"{name} p"] = p_value
        statistics[f"{name} r"] = effect
        if p_value is None:
            continue
        if p_value < WARN_P_VALUE:
            findings.append(
                Finding(
                    "position" if name == "queue position" else "code",
                    "leak" if p_value < LEAK_P_VALUE else "warning",
                    f"{name}s differ by source (Mann-Whitney p={p_value:.2g}, "
                    f"rank-biserial r={effect:.2f})",
                )
            )
    findings.extend(_classifier_findings(rows, lengths, permutations, statistics))
    return findings


def _classifier_findings(
    rows: list[tuple], lengths: dict[int, int], permutations: int, statistics: dict[str, Any]
) -> list[Finding]:
    """Can code characters and mean queue position predict a report's source? One row per
    report, so a report seen by several reviewers never sits in both training and test."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, permutation_test_score

    per_report: dict[int, dict[str, Any]] = {}
    for reviewer, position, _code, report, report_code, source in rows:
        entry = per_report.setdefault(
            report, {"code": report_code.split("-")[-1], "source": source, "positions": []}
        )
        entry["positions"].append((position - 1) / max(lengths[reviewer] - 1, 1))
    labels = np.array([entry["source"] == "synthetic" for entry in per_report.values()], dtype=int)
    smallest = int(min(labels.sum(), len(labels) - labels.sum()))
    if permutations <= 0:
        statistics["classifier"] = "skipped"
        return []
    if smallest < 5:
        statistics["classifier"] = "skipped: fewer than 5 reports of one source"
        return []
    width = max(len(entry["code"]) for entry in per_report.values())
    features = np.zeros((len(per_report), width * len(CODE_ALPHABET) + 1))
    for row, entry in enumerate(per_report.values()):
        for index, char in enumerate(entry["code"]):
            features[row, index * len(CODE_ALPHABET) + max(CODE_ALPHABET.find(char), 0)] = 1
        features[row, -1] = float(np.mean(entry["positions"]))
    folds = StratifiedKFold(n_splits=min(5, smallest), shuffle=True, random_state=0)
    score, _permuted, p_value = permutation_test_score(
        LogisticRegression(solver="liblinear", max_iter=1000),
        features,
        labels,
        cv=folds,
        n_permutations=permutations,
        random_state=0,
    )
    chance = max(labels.mean(), 1 - labels.mean())
    statistics["classifier accuracy"] = float(score)
    statistics["classifier chance"] = float(chance)
    statistics["classifier p"] = float(p_value)
    # The permutation p-value cannot go below 1/(permutations+1), hence its own threshold,
    # paired with a margin over chance that a lucky split does not reach.
    if p_value < CLASSIFIER_P_VALUE and score >= chance + CLASSIFIER_MARGIN:
        return [
            Finding(
                "classifier",
                "leak",
                f"a classifier on report codes and queue positions predicts the source with "
                f"accuracy {score:.2f} against chance {chance:.2f} (permutation p={p_value:.2g})",
            )
        ]
    return []


# --- the audit -------------------------------------------------------------------------------


def blinding_audit(
    *, study: Study, permutations: int = 100, max_reports_per_reviewer: int | None = None
) -> AuditResult:
    """Run every check on what the study's reviewers receive; writes nothing."""
    result = AuditResult(study_code=study.code, simulated_opening=study.status == "draft")
    result.surface = surface_cues(study=study)
    for cue in result.surface:
        if cue.warn:
            result.findings.append(Finding("surface", "warning", _surface_message(cue)))
    with transaction.atomic():
        if study.status == Study.Status.DRAFT:
            from review.services import study_open

            study = study_open(study=study)
        payloads = _collect(study, max_reports_per_reviewer=max_reports_per_reviewer)
        reports = {
            report.pk: report
            for report in Report.objects.filter(studies=study).select_related("report_import")
        }
        mask = _Masker(study)
        texts = {pk: report.text for pk, report in reports.items()}
        pages = [
            _analyse_page(payload, mask, texts)
            for payload in payloads
            if payload.report_id is not None
        ]
        other = [payload for payload in payloads if payload.report_id is None]
        result.pages = len(payloads)
        result.reports = len(reports)
        for kind in sorted({page.payload.kind for page in pages}):
            result.findings.extend(_token_findings([p for p in pages if p.payload.kind == kind]))
        result.findings.extend(_identifier_findings(pages, reports, study))
        result.findings.extend(_page_level_findings(other))
        result.findings.extend(_panel_findings(study))
        result.findings.extend(
            _order_findings(study, permutations=permutations, statistics=result.statistics)
        )
        transaction.set_rollback(True)
    return result


def _panel_findings(study: Study) -> list[Finding]:
    """Reviewers of the panel who can also coordinate. The coordinator pages show every
    report's source (the report list, the study's results), so whatever the rating pages
    hide, such a reviewer's ratings are not blind."""
    return [
        Finding(
            "panel",
            "leak",
            f"{seat.pseudonym} ({seat.reviewer.get_username()}) can also coordinate: the "
            "coordinator pages show every report's source, so their ratings are not blind; "
            "take them off the panel or withdraw their coordinator role",
        )
        for seat in study.panel.select_related("reviewer").order_by("id")
        if user_is_coordinator(seat.reviewer)
    ]


def _page_level_findings(payloads: Iterable[Payload]) -> list[Finding]:
    """Home page and queue listing: not tied to one report, but must not name sources."""
    findings = []
    for payload in payloads:
        for word in ("synthetic", "synthétique", "mistral", "generated", "généré"):
            if re.search(rf"(?<![\w-]){word}(?![\w-])", payload.body, re.I):
                findings.append(
                    Finding(
                        "word",
                        "warning",
                        f"{word!r} appears on the {payload.kind} page of {payload.reviewer} "
                        "(check the study name and description)",
                    )
                )
    return findings


def _surface_message(cue: SurfaceCue) -> str:
    if cue.name == "placeholders":
        return f"leftover placeholders: {cue.note}"
    test = (
        f"; Mann-Whitney p={cue.p_value:.2g}, r={cue.effect:.2f}"
        if cue.p_value is not None and cue.effect is not None
        else ""
    )
    return (
        f"{cue.name}: median {cue.real_median:g} (real) vs {cue.synthetic_median:g} (synthetic), "
        f"ratio {cue.ratio:.2f}{test}"
    )
