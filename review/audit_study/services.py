"""Writes of an annotation audit: one call per reviewer action, each saved at once (the
page autosaves every keypress that decides something), and the coordinator's
adjudication.

Offsets come from the browser, which counts characters over the rendered text; the
selected text comes with them and wins: when the two disagree (a browser that folded a
line ending, say), the span is moved to the occurrence of the selected text nearest to
the offsets the browser gave, so a stored span always covers what the reviewer selected.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from review.annotation_fields import KNOWN_FIELDS
from review.audit_study.selectors import annotation_span
from review.exceptions import Conflict, InvalidInput, NotFound
from review.models import (
    AddedAdjudication,
    AddedAnnotation,
    AnnotationAdjudication,
    AnnotationVerdict,
    Assignment,
    Report,
    Study,
)
from review.services import audit_log

VERDICTS = tuple(AnnotationVerdict.Verdict.values)
VALUE_MAX = 500


@dataclass(frozen=True)
class SpanInput:
    """A span as a request carries it: offsets and, optionally, the text they select."""

    start: str | int | None
    end: str | int | None
    text: str = ""


def _open_assignment(assignment: Assignment) -> tuple[str, list]:
    """The report's text and annotations, once the assignment is known to be writable:
    an audit study, open, the reviewer's seat still active (checked under lock)."""
    if assignment.study.kind != Study.Kind.ANNOTATION_AUDIT:
        raise NotFound(_("Not an annotation audit."), code="not_audit")
    if assignment.study.status != Study.Status.OPEN:
        raise Conflict(_("This study is closed."), code="study_closed")
    row = (
        Assignment.objects.select_for_update(of=("self",))
        .filter(
            pk=assignment.pk,
            study__panel__reviewer_id=assignment.reviewer_id,
            study__panel__active=True,
        )
        .values_list("report__text", "report__annotations")
        .first()
    )
    if row is None:
        raise NotFound(_("This report is no longer in your queue."), code="seat_removed")
    return row[0], row[1] or []


def span_resolve(*, text: str, span: SpanInput) -> tuple[int, int]:
    """(start, end) within `text`, checked; see the module docstring for `span.text`."""
    try:
        start, end = int(span.start), int(span.end)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(_("The span needs a start and an end."), code="span") from None
    selected = span.text
    if selected and text[start:end] != selected:
        found = [i for i in range(len(text)) if text.startswith(selected, i)]
        if not found:
            raise InvalidInput(_("The selected text is not in the report."), code="span_text")
        start = min(found, key=lambda i: abs(i - start))
        end = start + len(selected)
    if not 0 <= start < end <= len(text):
        raise InvalidInput(_("The span lies outside the report."), code="span_bounds")
    return start, end


def annotation_verdict_save(
    *,
    assignment: Assignment,
    annotation_index: int,
    verdict: str,
    value: str | None = None,
    span: SpanInput | None = None,
) -> AnnotationVerdict:
    """Set the reviewer's verdict on one model annotation (insert or overwrite).

    A corrected value is kept for `wrong_value`, a corrected span for `wrong_span`; the
    other verdicts clear them, so a reviewer who changes their mind leaves no stale fix.
    `value`/`span` None keeps what was saved (the verdict key, then the correction)."""
    if verdict not in VERDICTS:
        raise InvalidInput(_("Unknown verdict."), code="verdict")
    with transaction.atomic():
        text, annotations = _open_assignment(assignment)
        if not 0 <= annotation_index < len(annotations) or not isinstance(
            annotations[annotation_index], dict
        ):
            raise NotFound(_("No such annotation."), code="annotation")
        current = AnnotationVerdict.objects.filter(
            assignment=assignment, annotation_index=annotation_index
        ).first() or AnnotationVerdict(assignment=assignment, annotation_index=annotation_index)
        current.verdict = verdict
        if verdict == AnnotationVerdict.Verdict.WRONG_VALUE:
            if value is not None:
                current.corrected_value = value.strip()[:VALUE_MAX]
        else:
            current.corrected_value = ""
        if verdict == AnnotationVerdict.Verdict.WRONG_SPAN:
            if span is not None:
                start, end = span_resolve(text=text, span=span)
                if (start, end) == annotation_span(annotations[annotation_index]):
                    raise InvalidInput(
                        _("That is the model's span: choose a different one."), code="same_span"
                    )
                current.corrected_start, current.corrected_end = start, end
        else:
            current.corrected_start = current.corrected_end = None
        current.save()
    return current


def annotation_added_save(
    *, assignment: Assignment, field: str, value: str, span: SpanInput
) -> AddedAnnotation:
    """Record an annotation the model missed. An empty value takes the selected text."""
    if field not in KNOWN_FIELDS:
        raise InvalidInput(_("Choose a field."), code="field")
    with transaction.atomic():
        text, _annotations = _open_assignment(assignment)
        start, end = span_resolve(text=text, span=span)
        value = (value or "").strip()[:VALUE_MAX] or text[start:end][:VALUE_MAX]
        return AddedAnnotation.objects.create(
            assignment=assignment, field=field, value=value, start=start, end=end
        )


def annotation_added_delete(*, assignment: Assignment, added_id: int) -> None:
    with transaction.atomic():
        _open_assignment(assignment)
        deleted, _kinds = AddedAnnotation.objects.filter(
            assignment=assignment, pk=added_id
        ).delete()
    if not deleted:
        raise NotFound(_("No such added annotation."), code="added")


def audit_assignment_submit(*, assignment: Assignment) -> Assignment:
    """Submit once every annotation of the report has a verdict (still editable after,
    while the study is open, like a rating)."""
    with transaction.atomic():
        _text, annotations = _open_assignment(assignment)
        judged = set(
            AnnotationVerdict.objects.filter(assignment=assignment).values_list(
                "annotation_index", flat=True
            )
        )
        missing = [i for i, a in enumerate(annotations) if isinstance(a, dict) and i not in judged]
        if missing:
            raise InvalidInput(
                _("Give a verdict on every annotation before submitting (%(n)d left).")
                % {"n": len(missing)},
                code="incomplete",
            )
        if assignment.status != Assignment.Status.SUBMITTED:
            now = timezone.now()
            Assignment.objects.filter(pk=assignment.pk).update(
                status=Assignment.Status.SUBMITTED, submitted_at=now, updated_at=now
            )
            assignment.status, assignment.submitted_at = Assignment.Status.SUBMITTED, now
    return assignment


def annotation_adjudicate(
    *,
    study: Study,
    report: Report,
    annotation_index: int,
    verdict: str,
    value: str = "",
    span: SpanInput | None = None,
    actor: User | None,
) -> AnnotationAdjudication:
    """The coordinator's decision on one model annotation; it replaces the majority in the
    verified dataset. Audited (who decided what, on which report)."""
    if study.kind != Study.Kind.ANNOTATION_AUDIT:
        raise NotFound(_("Not an annotation audit."), code="not_audit")
    if verdict not in VERDICTS:
        raise InvalidInput(_("Unknown verdict."), code="verdict")
    if not 0 <= annotation_index < len(report.annotations or []):
        raise NotFound(_("No such annotation."), code="annotation")
    start = end = None
    if verdict == AnnotationVerdict.Verdict.WRONG_SPAN:
        if span is None:
            raise InvalidInput(_("A wrong span needs the right one."), code="span")
        start, end = span_resolve(text=report.text, span=span)
    if verdict == AnnotationVerdict.Verdict.WRONG_VALUE and not value.strip():
        raise InvalidInput(_("A wrong value needs the right one."), code="value")
    with transaction.atomic():
        decision, _created = AnnotationAdjudication.objects.update_or_create(
            study=study,
            report=report,
            annotation_index=annotation_index,
            defaults={
                "verdict": verdict,
                "value": value.strip()[:VALUE_MAX]
                if verdict == AnnotationVerdict.Verdict.WRONG_VALUE
                else "",
                "start": start,
                "end": end,
                "decided_by": actor,
            },
        )
        audit_log(
            actor=actor,
            action="audit.adjudicate",
            study=study,
            target=report.code,
            details={"annotation": annotation_index, "verdict": verdict},
        )
    return decision


def added_adjudicate(
    *,
    study: Study,
    report: Report,
    field: str,
    start: int,
    end: int,
    accepted: bool,
    value: str = "",
    actor: User | None,
) -> AddedAdjudication:
    """The coordinator accepts or rejects an annotation the reviewers added (named by its
    field and a span one of the report's submitted reviewers gave it); an accepted one is a
    label of the verified dataset with this span and value (empty: the reviewers' most
    common value). Audited like the decisions on the model's annotations."""
    if study.kind != Study.Kind.ANNOTATION_AUDIT:
        raise NotFound(_("Not an annotation audit."), code="not_audit")
    if not AddedAnnotation.objects.filter(
        assignment__study=study,
        assignment__report=report,
        assignment__status=Assignment.Status.SUBMITTED,
        field=field,
        start=start,
        end=end,
    ).exists():
        raise NotFound(_("No reviewer added this annotation."), code="added")
    with transaction.atomic():
        decision, _created = AddedAdjudication.objects.update_or_create(
            study=study,
            report=report,
            field=field,
            start=start,
            end=end,
            defaults={
                "accepted": accepted,
                "value": value.strip()[:VALUE_MAX] if accepted else "",
                "decided_by": actor,
            },
        )
        audit_log(
            actor=actor,
            action="audit.adjudicate_added",
            study=study,
            target=report.code,
            details={"field": field, "start": start, "end": end, "accepted": accepted},
        )
    return decision
