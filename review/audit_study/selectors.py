"""Reads of an annotation audit.

The reviewer's page gets an `AuditPage`: the report's code and text, the model's
annotations with the reviewer's *own* verdicts and additions, the queue around it. No
`Report` instance, provenance, model, batch or other reviewer's verdict is in it: the
verdicts are read through the reviewer's assignment only, and an assignment that is not
theirs (or a study they no longer sit on) is a 404, as on the rating page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count, Q
from django.http import Http404
from django.utils.safestring import SafeString

from review import selectors
from review.annotation_fields import KNOWN_FIELDS, field_colour
from review.audit_study.rendering import MarkedSpan, marked_text
from review.models import AddedAnnotation, AnnotationVerdict, Assignment, Study


@dataclass(frozen=True)
class AuditItem:
    index: int  # position in Report.annotations: what a verdict names
    number: int  # 1-based order in the text, as the reviewer sees it
    field: str
    colour: int
    value: str
    start: int | None
    end: int | None
    text: str
    verdict: str
    corrected_value: str
    corrected_start: int | None
    corrected_end: int | None
    corrected_text: str = ""

    @property
    def located(self) -> bool:
        return self.start is not None


@dataclass(frozen=True)
class AddedItem:
    id: int
    field: str
    colour: int
    value: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class FieldChoice:
    field: str
    colour: int
    count: int = 0


@dataclass(frozen=True)
class AuditPage:
    code: str
    report_code: str
    study_code: str
    study_name: str
    study_open: bool
    is_submitted: bool
    position: int
    queue_length: int
    submitted_count: int
    previous_code: str | None
    next_code: str | None
    text_html: SafeString
    items: list[AuditItem]
    added: list[AddedItem]
    legend: list[FieldChoice]
    fields: list[FieldChoice]

    @property
    def judged_count(self) -> int:
        return sum(1 for item in self.items if item.verdict)


def annotation_span(annotation: Any) -> tuple[int, int] | None:
    """A stored annotation's (start, end), or None when generation could not locate it."""
    if not isinstance(annotation, dict):
        return None
    start, end = annotation.get("start"), annotation.get("end")
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end:
        return start, end
    return None


def audit_items(
    text: str, annotations: list[Any], verdicts: dict[int, AnnotationVerdict]
) -> list[AuditItem]:
    """The model's annotations in reading order (by offset), unlocated ones last."""
    rows = []
    for index, annotation in enumerate(annotations or []):
        if not isinstance(annotation, dict):
            continue
        span = annotation_span(annotation)
        rows.append((span or (len(text) + 1, 0), index, annotation, span))
    rows.sort(key=lambda row: (row[0], row[1]))
    items = []
    for number, (_key, index, annotation, span) in enumerate(rows, start=1):
        field = str(annotation.get("field", ""))
        verdict = verdicts.get(index)
        items.append(
            AuditItem(
                index=index,
                number=number,
                field=field,
                colour=field_colour(field),
                value=str(annotation.get("value", "")),
                start=span[0] if span else None,
                end=span[1] if span else None,
                text=text[span[0] : span[1]] if span else str(annotation.get("text", "")),
                verdict=verdict.verdict if verdict else "",
                corrected_value=verdict.corrected_value if verdict else "",
                corrected_start=verdict.corrected_start if verdict else None,
                corrected_end=verdict.corrected_end if verdict else None,
                corrected_text=text[verdict.corrected_start : verdict.corrected_end]
                if verdict and verdict.corrected_start is not None
                else "",
            )
        )
    return items


def audit_page_for_reviewer(*, reviewer: User, code: str) -> AuditPage:
    """The audit page of one of the reviewer's assignments (404 for anyone else's)."""
    try:
        assignment = (
            Assignment.objects.select_related("study", "report")
            .only(
                "id",
                "code",
                "status",
                "position",
                "display_code",
                "study_id",
                "report_id",
                "study__code",
                "study__name",
                "study__status",
                "study__kind",
                "report__code",
                "report__text",
                "report__annotations",
            )
            .get(
                selectors._seated(reviewer),
                code=code,
                reviewer=reviewer,
                study__kind=Study.Kind.ANNOTATION_AUDIT,
                study__status__in=[Study.Status.OPEN, Study.Status.CLOSED],
            )
        )
    except Assignment.DoesNotExist:
        raise Http404 from None
    report = assignment.report
    verdicts = {v.annotation_index: v for v in assignment.annotation_verdicts.all()}
    items = audit_items(report.text, report.annotations, verdicts)
    added = [
        AddedItem(
            id=a.pk,
            field=a.field,
            colour=field_colour(a.field),
            value=a.value,
            start=a.start,
            end=a.end,
            text=report.text[a.start : a.end],
        )
        for a in assignment.added_annotations.all()
    ]
    queue = list(
        Assignment.objects.filter(study_id=assignment.study_id, reviewer=reviewer)
        .order_by("position")
        .values_list("code", "position", "status")
    )
    codes = [row[0] for row in queue]
    at = codes.index(assignment.code)
    spans = [
        MarkedSpan(index=i.index, field=i.field, colour=i.colour, start=i.start, end=i.end)
        for i in items
        if i.start is not None and i.end is not None
    ] + [
        MarkedSpan(index=a.id, field=a.field, colour=a.colour, start=a.start, end=a.end, added=True)
        for a in added
    ]
    counts: dict[str, int] = {}
    for item in items:
        counts[item.field] = counts.get(item.field, 0) + 1
    legend = [
        FieldChoice(field=f, colour=field_colour(f), count=n)
        for f, n in sorted(counts.items(), key=lambda kv: field_colour(kv[0]))
    ]
    return AuditPage(
        code=assignment.code,
        report_code=assignment.display_code or report.code,
        study_code=assignment.study.code,
        study_name=assignment.study.name,
        study_open=assignment.study.status == Study.Status.OPEN,
        is_submitted=assignment.status == Assignment.Status.SUBMITTED,
        position=at + 1,
        queue_length=len(queue),
        submitted_count=sum(1 for row in queue if row[2] == Assignment.Status.SUBMITTED),
        previous_code=codes[at - 1] if at > 0 else None,
        next_code=codes[at + 1] if at + 1 < len(codes) else None,
        text_html=marked_text(report.text, spans),
        items=items,
        added=added,
        legend=legend,
        fields=[FieldChoice(field=f, colour=field_colour(f)) for f in KNOWN_FIELDS],
    )


@dataclass(frozen=True)
class AuditProgress:
    reports: int
    assignments: int
    submitted: int
    verdicts: int
    added: int


def audit_progress(*, study: Study) -> AuditProgress:
    counts = Assignment.objects.filter(study=study).aggregate(
        n=Count("id"),
        submitted=Count("id", filter=Q(status=Assignment.Status.SUBMITTED)),
        reports=Count("report_id", distinct=True),
    )
    return AuditProgress(
        reports=counts["reports"],
        assignments=counts["n"],
        submitted=counts["submitted"],
        verdicts=AnnotationVerdict.objects.filter(assignment__study=study).count(),
        added=AddedAnnotation.objects.filter(assignment__study=study).count(),
    )
