"""The database side of an annotation audit's results: one read of the study into a
typed `AuditData`, the long-format tables the pure statistics take
(`review/stats/annotation_audit.py`), and the figures the page, CSV and card show.

Only submitted assignments count, as in a rating study: a verdict still being given is
not a result.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from review.audit_study.selectors import annotation_span
from review.models import (
    AddedAdjudication,
    AddedAnnotation,
    AnnotationAdjudication,
    AnnotationVerdict,
    Assignment,
    Report,
    Study,
    StudyReport,
)
from review.stats import annotation_audit as audit_stats

BREAKDOWNS = ("batch", "model", "prompt_version", "guideline_version")


@dataclass(frozen=True)
class ReviewerVerdict:
    reviewer: str  # the panel pseudonym (R1, R2…), never a login name
    verdict: str
    corrected_value: str = ""
    corrected_start: int | None = None
    corrected_end: int | None = None


@dataclass(frozen=True)
class ReviewerAddition:
    reviewer: str
    field: str
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class Decision:
    verdict: str
    value: str
    start: int | None
    end: int | None


@dataclass(frozen=True)
class AddedDecision:
    """The coordinator's acceptance or rejection of the additions of `field` holding
    [start, end)."""

    field: str
    start: int
    end: int
    accepted: bool
    value: str


@dataclass
class ReportAudit:
    code: str
    text: str
    language: str
    annotations: list[dict[str, Any]]
    provenance: dict[str, Any]
    reviewers: list[str] = field(default_factory=list)
    verdicts: dict[int, list[ReviewerVerdict]] = field(default_factory=dict)
    added: list[ReviewerAddition] = field(default_factory=list)
    decisions: dict[int, Decision] = field(default_factory=dict)
    report_id: int = 0
    added_decisions: list[AddedDecision] = field(default_factory=list)


@dataclass(frozen=True)
class AuditData:
    study_code: str
    seed: int
    reports: list[ReportAudit]


def _pseudonym_order(pseudonym: str) -> tuple[int, str]:
    return (len(pseudonym), pseudonym)


def audit_data(*, study: Study) -> AuditData:
    """Every synthetic member report of the study with the submitted verdicts, additions
    and the coordinator's decisions: seven queries, whatever the study's size."""
    pseudonyms = dict(study.panel.values_list("reviewer_id", "pseudonym"))
    reports: dict[int, ReportAudit] = {}
    for pk, code, text, language, stored, provenance in (
        Report.objects.filter(
            memberships__study=study,
            memberships__role=StudyReport.Role.MEMBER,
            source=Report.Source.SYNTHETIC,
        )
        .order_by("code")
        .values_list("id", "code", "text", "language", "annotations", "provenance")
    ):
        reports[pk] = ReportAudit(
            code=code,
            text=text,
            language=language,
            annotations=[a if isinstance(a, dict) else {} for a in (stored or [])],
            provenance=provenance or {},
            report_id=pk,
        )
    submitted = Assignment.objects.filter(study=study, status=Assignment.Status.SUBMITTED)
    for report_id, reviewer_id in submitted.order_by("report_id", "reviewer_id").values_list(
        "report_id", "reviewer_id"
    ):
        if report_id in reports:
            reports[report_id].reviewers.append(pseudonyms.get(reviewer_id, "?"))
    for report_id, reviewer_id, index, verdict, value, start, end in (
        AnnotationVerdict.objects.filter(assignment__in=submitted)
        .order_by("assignment__report_id", "annotation_index", "assignment__reviewer_id")
        .values_list(
            "assignment__report_id",
            "assignment__reviewer_id",
            "annotation_index",
            "verdict",
            "corrected_value",
            "corrected_start",
            "corrected_end",
        )
    ):
        if report_id in reports:
            reports[report_id].verdicts.setdefault(index, []).append(
                ReviewerVerdict(pseudonyms.get(reviewer_id, "?"), verdict, value, start, end)
            )
    for report_id, reviewer_id, name, value, start, end in (
        AddedAnnotation.objects.filter(assignment__in=submitted)
        .order_by("assignment__report_id", "start", "end", "id")
        .values_list(
            "assignment__report_id", "assignment__reviewer_id", "field", "value", "start", "end"
        )
    ):
        if report_id in reports:
            reports[report_id].added.append(
                ReviewerAddition(pseudonyms.get(reviewer_id, "?"), name, value, start, end)
            )
    for report_id, index, verdict, value, start, end in AnnotationAdjudication.objects.filter(
        study=study
    ).values_list("report_id", "annotation_index", "verdict", "value", "start", "end"):
        if report_id in reports:
            reports[report_id].decisions[index] = Decision(verdict, value, start, end)
    for report_id, name, start, end, accepted, value in (
        AddedAdjudication.objects.filter(study=study)
        .order_by("report_id", "start", "end", "field")
        .values_list("report_id", "field", "start", "end", "accepted", "value")
    ):
        if report_id in reports:
            reports[report_id].added_decisions.append(
                AddedDecision(name, start, end, accepted, value)
            )
    # Reviewers in pseudonym order (R2 before R10), not user-id order: ids differ from one
    # database to another, and a study restored from its bundle (review/backup.py) must
    # give the same dataset, byte for byte.
    for report in reports.values():
        report.reviewers.sort(key=_pseudonym_order)
        for votes in report.verdicts.values():
            votes.sort(key=lambda v: _pseudonym_order(v.reviewer))
    return AuditData(study_code=study.code, seed=study.seed, reports=list(reports.values()))


def _overlaps(a: tuple[int, int] | None, start: int | None, end: int | None) -> bool:
    return bool(a and start is not None and end is not None and start < a[1] and a[0] < end)


def audit_frames(data: AuditData) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The verdict, addition and report tables of `review/stats/annotation_audit.py`."""
    verdict_rows: list[dict[str, Any]] = []
    added_rows: list[dict[str, Any]] = []
    report_rows: list[dict[str, Any]] = []
    for report in data.reports:
        for index, verdicts in report.verdicts.items():
            annotation = report.annotations[index] if index < len(report.annotations) else {}
            span = annotation_span(annotation)
            for v in verdicts:
                verdict_rows.append(
                    {
                        "report": report.code,
                        "reviewer": v.reviewer,
                        "annotation": index,
                        "field": str(annotation.get("field", "")),
                        "verdict": v.verdict,
                        "span_overlaps": _overlaps(span, v.corrected_start, v.corrected_end),
                    }
                )
        added_rows.extend(
            {"report": report.code, "reviewer": a.reviewer, "field": a.field} for a in report.added
        )
        provenance = report.provenance
        report_rows.append(
            {
                "report": report.code,
                "batch": str(provenance.get("batch_name") or provenance.get("batch") or "–"),
                "model": str(provenance.get("model") or "–"),
                "prompt_version": str(provenance.get("prompt_version") or "–"),
                "guideline_version": str(provenance.get("guideline") or "–"),
            }
        )
    return (
        pd.DataFrame(verdict_rows, columns=audit_stats.VERDICT_COLUMNS),
        pd.DataFrame(added_rows, columns=audit_stats.ADDED_COLUMNS),
        pd.DataFrame(report_rows, columns=["report", *BREAKDOWNS]),
    )


@dataclass(frozen=True)
class WrongExample:
    report: str
    text: str
    value: str
    verdict: str
    correction: str


@dataclass(frozen=True)
class AuditResults:
    metrics: list[dict[str, Any]]
    agreement: dict[str, Any]
    breakdowns: dict[str, list[dict[str, Any]]]
    most_wrong: list[tuple[str, list[WrongExample]]]
    verdict_counts: dict[str, int]
    n_reports: int


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]


def audit_results(*, data: AuditData, n_boot: int = 2000) -> AuditResults:
    verdicts, added, reports = audit_frames(data)
    metrics = audit_stats.audit_metrics(verdicts, added, n_boot=n_boot, seed=data.seed)
    breakdowns = {
        by: _records(audit_stats.audit_breakdown(verdicts, added, reports, by=by))
        for by in BREAKDOWNS
    }
    examples: dict[str, list[WrongExample]] = {}
    for report in data.reports:
        for index, votes in sorted(report.verdicts.items()):
            annotation = report.annotations[index] if index < len(report.annotations) else {}
            span = annotation_span(annotation)
            for v in votes:
                if v.verdict == AnnotationVerdict.Verdict.CORRECT:
                    continue
                correction = v.corrected_value
                if v.corrected_start is not None and v.corrected_end is not None:
                    correction = report.text[v.corrected_start : v.corrected_end]
                examples.setdefault(str(annotation.get("field", "")), []).append(
                    WrongExample(
                        report=report.code,
                        text=report.text[span[0] : span[1]] if span else "",
                        value=str(annotation.get("value", "")),
                        verdict=v.verdict,
                        correction=correction,
                    )
                )
    most_wrong = [
        (name, examples.get(name, [])[:3]) for name in audit_stats.most_wrong_fields(metrics)
    ]
    return AuditResults(
        metrics=_records(metrics),
        agreement=audit_stats.verdict_agreement(verdicts),
        breakdowns=breakdowns,
        most_wrong=most_wrong,
        verdict_counts=dict(Counter(verdicts["verdict"])),
        n_reports=len(data.reports),
    )


METRIC_COLUMNS = [
    "field",
    "n_reports",
    "n_verdicts",
    "n_added",
    *[
        column
        for metric in audit_stats.METRICS
        for column in (metric, f"{metric}_ci_low", f"{metric}_ci_high")
    ],
]


def audit_tables(results: AuditResults, data: AuditData) -> dict[str, tuple[list[str], list[list]]]:
    """The CSV exports, by name: header and rows (written like the rating study's)."""
    tables: dict[str, tuple[list[str], list[list]]] = {
        "audit_fields": (
            METRIC_COLUMNS,
            [[row.get(c) for c in METRIC_COLUMNS] for row in results.metrics],
        ),
        "audit_agreement": (
            list(results.agreement),
            [list(results.agreement.values())],
        ),
    }
    for by, rows in results.breakdowns.items():
        header = [by, "n_reports", "n_verdicts", "n_added", *audit_stats.METRICS]
        tables[f"audit_by_{by}"] = (header, [[row.get(c) for c in header] for row in rows])
    verdict_header = [
        "report",
        "reviewer",
        "annotation",
        "field",
        "value",
        "start",
        "end",
        "verdict",
        "corrected_value",
        "corrected_start",
        "corrected_end",
    ]
    verdict_rows = []
    for report in data.reports:
        for index, votes in sorted(report.verdicts.items()):
            annotation = report.annotations[index] if index < len(report.annotations) else {}
            span = annotation_span(annotation) or (None, None)
            for v in votes:
                verdict_rows.append(
                    [
                        report.code,
                        v.reviewer,
                        index,
                        annotation.get("field", ""),
                        annotation.get("value", ""),
                        span[0],
                        span[1],
                        v.verdict,
                        v.corrected_value,
                        v.corrected_start,
                        v.corrected_end,
                    ]
                )
    tables["audit_verdicts"] = (verdict_header, verdict_rows)
    added_header = ["report", "reviewer", "field", "value", "start", "end", "text"]
    tables["audit_added"] = (
        added_header,
        [
            [r.code, a.reviewer, a.field, a.value, a.start, a.end, r.text[a.start : a.end]]
            for r in data.reports
            for a in r.added
        ],
    )
    return tables
