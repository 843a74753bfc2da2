"""CSV and dataset exports of a study (coordinators only).

CSV files are produced row by row from iterators, so a million ratings stream out in
constant memory. Cells that a spreadsheet would read as a formula (=, +, -, @ …) are
prefixed with a quote, unless they are plain numbers such as -0.5.
"""

import csv
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Avg, Count

from review.models import Assignment, JudgeRating, Rating, Report, Study
from review.stats.analysis import BREAKDOWN_FIELDS
from review.stats.methods import LANGUAGES, methods_markdown
from review.stats.notes import note_text

SUMMARY_FIELDS = (
    "domain",
    "n_reports_real",
    "n_ratings_real",
    "mean_real",
    "mean_real_ci_low",
    "mean_real_ci_high",
    "mean_real_ratings",
    "sd_real",
    "median_real",
    "iqr_real",
    "n_reports_synthetic",
    "n_ratings_synthetic",
    "mean_synthetic",
    "mean_synthetic_ci_low",
    "mean_synthetic_ci_high",
    "mean_synthetic_ratings",
    "sd_synthetic",
    "median_synthetic",
    "iqr_synthetic",
    "difference",
    "ci_low",
    "ci_high",
    "ci_level",
    "adjustment",
    "ci95_low",
    "ci95_high",
    "margin",
    "verdict",
    "mann_whitney_u",
    "p_value",
    "p_holm",
    "cliffs_delta",
    "note",
)
AGREEMENT_FIELDS = (
    "domain",
    "scope",
    "statistic",
    "value",
    "ci_low",
    "ci_high",
    "n_reports",
    "n_reviewers",
    "k",
    "design",
    "valid",
    "recommended",
    "band",
    "ci_method",
    "note",
)
AUTHORSHIP_FIELDS = (
    "scope",
    "reviewer",
    "auc",
    "ci_low",
    "ci_high",
    "delong_ci_low",
    "delong_ci_high",
    "n_real",
    "n_synthetic",
    "accuracy",
    "sensitivity",
    "specificity",
    "threshold",
    "note",
)

_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(_FORMULA_START)


def spreadsheet_cell(value: Any) -> str:
    """Text for one CSV cell: empty for missing, numbers as written, formulas defused."""
    if value is None:
        return ""
    # Exact types first: this runs for every cell of a million-row export.
    kind = type(value)
    if kind is str:
        if value[:1] in _FORMULA_FIRST and not _PLAIN_NUMBER.fullmatch(value):
            return "'" + value
        return value
    if kind is int:
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if math.isnan(value) or math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    text = value if isinstance(value, str) else str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class _Echo:
    """A write-only file whose write() hands the line back to the generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo(), lineterminator="\n")
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(list(map(spreadsheet_cell, row)))


def text_chunks(pieces: Iterable[str], *, size: int = 64 * 1024) -> Iterator[str]:
    """The pieces joined into strings of about `size` characters. A streaming response
    writes each item it is given to the socket on its own: one write per CSV line made a
    million-rating export spend most of its time in system calls."""
    buffer: list[str] = []
    length = 0
    for piece in pieces:
        buffer.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(buffer)
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer)


def records_rows(records: Iterable[dict], fields: Sequence[str]) -> Iterator[list[Any]]:
    """Rows of `fields`; a `note` (engine codes) is written out in English."""
    for record in records:
        yield [note_text(record.get(f), record) if f == "note" else record.get(f) for f in fields]


@dataclass(frozen=True)
class FigureTable:
    """One CSV file derived from the figures: its columns and its records."""

    name: str
    fields: tuple[str, ...]
    records: Callable[[dict], list[dict]]


# Filled by @figure_table below: the results page's export buttons, the CSV view and the
# `analyse_ratings` command all list these, so a new table is added in this file only.
FIGURE_TABLES: dict[str, FigureTable] = {}


def figure_table(name: str, fields: Sequence[str]):
    def register(records: Callable[[dict], list[dict]]) -> Callable[[dict], list[dict]]:
        FIGURE_TABLES[name] = FigureTable(name, tuple(fields), records)
        return records

    return register


@figure_table("summary", SUMMARY_FIELDS)
def summary_records(figures: dict) -> list[dict]:
    """Comparison per domain joined with the real and synthetic descriptives.

    mean_* are report-weighted (each report once) with their 95% bootstrap CI; mean_*_ratings
    are rating-weighted. ci_low/ci_high are the Bonferroni-adjusted BCa interval the
    verdict reads (level in ci_level, family in adjustment); ci95_* the unadjusted one."""
    described = {(row["domain"], row["scope"]): row for row in figures["descriptives"]}
    rows = []
    for row in figures["comparison"]:
        record = dict(row)
        for source in ("real", "synthetic"):
            stats = described.get((row["domain"], source), {})
            record[f"n_ratings_{source}"] = stats.get("n_ratings")
            # The mean stays the comparison's report-weighted one; spread is of ratings.
            for measure in ("sd", "median", "iqr"):
                record[f"{measure}_{source}"] = stats.get(measure)
        rows.append(record)
    return rows


@figure_table("agreement", AGREEMENT_FIELDS)
def agreement_records(figures: dict) -> list[dict]:
    return list(figures["agreement"])


@figure_table("authorship", AUTHORSHIP_FIELDS)
def authorship_records(figures: dict) -> list[dict]:
    return list(figures["authorship"])


@figure_table("breakdown", BREAKDOWN_FIELDS)
def breakdown_records(figures: dict) -> list[dict]:
    return list(figures["breakdown"])


def export_tables(figures: dict) -> dict[str, tuple[Sequence[str], list[list[Any]]]]:
    """The figures' CSV files by name: (header, rows)."""
    return {
        name: (table.fields, list(records_rows(table.records(figures), table.fields)))
        for name, table in FIGURE_TABLES.items()
    }


# --- annotated dataset ---------------------------------------------------------------


def dataset_reports(*, study: Study):
    return (
        Report.objects.filter(memberships__study=study, source=Report.Source.SYNTHETIC)
        .order_by("code")
        .values_list("code", "text", "language", "annotations", "provenance")
    )


def _judge_scores(*, study: Study) -> dict[str, dict[str, dict[str, int]]]:
    scores: dict[str, dict[str, dict[str, int]]] = {}
    rows = JudgeRating.objects.filter(study=study).values_list(
        "report__code", "model", "domain__key", "score"
    )
    for code, model, domain, score in rows.iterator(chunk_size=5000):
        scores.setdefault(code, {}).setdefault(model, {})[domain] = score
    return scores


def dataset_ratings(*, study: Study) -> dict[str, dict[str, dict[str, float | int]]]:
    """Per report code and domain key: the mean of the physicians' submitted ratings and
    their number, from one query."""
    rows = (
        Rating.objects.filter(
            assignment__study=study,
            assignment__status=Assignment.Status.SUBMITTED,
            assignment__report__source=Report.Source.SYNTHETIC,
        )
        .values_list("assignment__report__code", "domain__key")
        .annotate(mean=Avg("score"), n=Count("id"))
        .order_by("assignment__report__code", "domain__key")
    )
    ratings: dict[str, dict[str, dict[str, float | int]]] = {}
    for code, domain, mean, n in rows:
        ratings.setdefault(code, {})[domain] = {"mean": float(mean), "n_ratings": int(n)}
    return ratings


def dataset_lines(*, study: Study) -> Iterator[str]:
    """One JSON object per synthetic report of the study: text, annotations with offsets,
    the physicians' mean rating per domain (labelled as such; {} before any), and, when an
    LLM judge rated the study, its scores under a key that says so (never mixed with the
    physicians' ratings)."""
    ratings = dataset_ratings(study=study)
    judge = _judge_scores(study=study)
    for code, text, language, annotations, provenance in dataset_reports(study=study).iterator(
        chunk_size=500
    ):
        record = {
            "code": code,
            "language": language,
            "text": text,
            "annotations": annotations,
            "provenance": provenance,
            "physician_ratings": ratings.get(code, {}),
        }
        if code in judge:
            record["llm_judge_scores"] = {
                "note": "scores of an LLM judge (blinded), not of the physicians",
                "by_model": judge[code],
            }
        yield json.dumps(record, ensure_ascii=False) + "\n"


_FRAME_KEYS = ("frame", "sampling_frame", "frame_version", "frame_sources", "sources")


def _labels(value: Any) -> list[str]:
    if value is None or value == "" or value == [] or value == {}:
        return []
    if isinstance(value, list):
        return [v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in value]
    if isinstance(value, dict):
        name = value.get("name") or value.get("title")
        version = value.get("version")
        if name:
            return [f"{name} v{version}" if version else str(name)]
        return [json.dumps(value, ensure_ascii=False, sort_keys=True)]
    return [str(value)]


def dataset_card(*, study: Study, figures: dict, domain_labels: dict[str, str]) -> str:
    """Markdown description of the annotated dataset, generated from the study."""
    counts: Counter[str] = Counter()
    models: Counter[str] = Counter()
    prompts: Counter[str] = Counter()
    frames: Counter[str] = Counter()
    guidelines: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    labels: Counter[str] = Counter()
    for _, _, language, annotations, provenance in dataset_reports(study=study).iterator(
        chunk_size=500
    ):
        counts["reports"] += 1
        languages[language] += 1
        provenance = provenance or {}
        for label in _labels(provenance.get("model")):
            models[label] += 1
        for label in _labels(provenance.get("prompt_version")):
            prompts[label] += 1
        # The clinical knowledge base (plans, eligibility, rules) the scenario was drawn with.
        for label in _labels(provenance.get("guideline")):
            guidelines[label] += 1
        for key in _FRAME_KEYS:
            for label in _labels(provenance.get(key)):
                frames[f"{key}: {label}"] += 1
        for annotation in annotations or []:
            counts["annotations"] += 1
            if isinstance(annotation, dict):
                # Annotations name their minimal-dataset item in `field` (generation's
                # validation writes it); `label`/`type` are read for imported files.
                name = annotation.get("field") or annotation.get("label") or annotation.get("type")
                labels[str(name or "?")] += 1

    def listing(counter: Counter[str]) -> str:
        if not counter:
            return "- (not recorded)\n"
        return "".join(f"- {name}: {n}\n" for name, n in sorted(counter.items()))

    lines = [
        f"# Dataset card: {study.name} ({study.code})\n\n",
        "Synthetic oncology hospitalization reports with structured annotations linked to the "
        "text by character offsets, generated for and rated in a blinded evaluation study.\n\n",
        "## Contents\n\n",
        f"- Synthetic reports: {counts['reports']}\n",
        f"- Annotations: {counts['annotations']}\n",
        "- Format: JSON Lines, one report per line with `code`, `language`, `text`, "
        "`annotations` (spans with `field`, `value` and `start`/`end` character offsets into "
        "`text`), `provenance` and `physician_ratings` (per domain, the mean of the blinded "
        "physicians' submitted ratings and their number).\n\n",
        "### Languages\n\n",
        listing(languages),
        "\n### Annotations by field\n\n",
        listing(labels),
        "\n## Sampling frame\n\n",
        listing(frames),
        "\n## Clinical guideline knowledge base\n\n",
        listing(guidelines),
        "\n## Models\n\n",
        listing(models),
        "\n## Prompt versions\n\n",
        listing(prompts),
        "\n## Quality as rated by physicians\n\n",
        f"Blinded ratings on a {study.scale_min}–{study.scale_max} scale by "
        f"{figures['n_reviewers']} reviewers ({figures['n_ratings']} ratings of "
        f"{figures['n_reports']} reports, real and synthetic mixed).\n\n",
        "| Domain | Synthetic mean | Real mean | Difference [95% CI] | Verdict |\n",
        "|---|---|---|---|---|\n",
    ]
    for row in figures["comparison"]:
        lines.append(
            f"| {domain_labels.get(row['domain'], row['domain'])} | {_fmt(row['mean_synthetic'])} "
            f"| {_fmt(row['mean_real'])} | {_fmt(row['difference'])} "
            f"[{_fmt(row['ci_low'])}, {_fmt(row['ci_high'])}] | {row['verdict']} |\n"
        )
    lines.append(
        f"\nNon-inferiority margin: {study.noninferiority_margin} point(s); "
        "intervals from a bootstrap over reports.\n\n"
        "## Caveats\n\nThe reports are synthetic: names, dates and places are invented, and "
        "clinical content may contain errors (see the medical consistency score). Not for "
        "clinical use.\n"
    )
    return "".join(lines)


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.2f}"


def figure_files(
    figures: dict, plots: dict[str, str], *, labels: dict[str, str], title: str
) -> dict[str, str]:
    """Every file derived from the figures, by file name, fully built before any is written:
    the CSV tables, results.json, the SVG plots and the methods in English and French."""
    files = {
        f"{name}.csv": "".join(csv_lines(header, rows))
        for name, (header, rows) in export_tables(figures).items()
    }
    files["results.json"] = json.dumps(figures, ensure_ascii=False, indent=1) + "\n"
    files.update({f"{name}.svg": svg for name, svg in plots.items()})
    for language in LANGUAGES:
        files[f"methods-{language}.md"] = methods_markdown(
            figures, labels=labels, title=title, language=language
        )
    return files
