"""Pages of an annotation audit: the reviewer's page and its htmx endpoints, the
coordinator's results, exports and adjudication. Thin: parse, call one service or
selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from review import exports, selectors, services
from review.audit_study import dataset
from review.audit_study import selectors as audit_selectors
from review.audit_study import services as audit_services
from review.audit_study.results import AuditData, audit_data, audit_results, audit_tables
from review.exceptions import NotFound, ServiceError
from review.models import AnnotationVerdict, Report, Study
from review.permissions import AuthenticatedRequest, coordinator_required, reviewer_required

VERDICT_CHOICES = AnnotationVerdict.Verdict.choices


def _span(request) -> audit_services.SpanInput:
    return audit_services.SpanInput(
        start=request.POST.get("start"),
        end=request.POST.get("end"),
        text=request.POST.get("selected", ""),
    )


@reviewer_required
@require_GET
def audit_page(request: AuthenticatedRequest, code: str) -> HttpResponse:
    page = audit_selectors.audit_page_for_reviewer(reviewer=request.user, code=code)
    if page.study_open and not page.is_submitted:
        services.assignment_open(
            assignment=selectors.assignment_for_reviewer_update(reviewer=request.user, code=code)
        )
    return render(
        request, "review/audit_study/audit.html", {"a": page, "verdicts": VERDICT_CHOICES}
    )


def _answer(
    request: AuthenticatedRequest, code: str, partial: str, error: str, status: int, **extra
):
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("review:audit", code=code)
    page = audit_selectors.audit_page_for_reviewer(reviewer=request.user, code=code)
    context = {
        "a": page,
        "verdicts": VERDICT_CHOICES,
        "error": error,
        "oob_text": partial == "added-list",
        **extra,
    }
    return render(request, f"review/audit_study/audit.html#{partial}", context, status=status)


@reviewer_required
@require_POST
def audit_verdict(request: AuthenticatedRequest, code: str, index: int) -> HttpResponse:
    assignment = selectors.assignment_for_reviewer_update(reviewer=request.user, code=code)
    error, status = "", 200
    try:
        audit_services.annotation_verdict_save(
            assignment=assignment,
            annotation_index=index,
            verdict=request.POST.get("verdict", ""),
            value=request.POST.get("value"),
            span=_span(request) if request.POST.get("start") else None,
        )
    except NotFound:
        raise Http404 from None
    except ServiceError as exc:
        error, status = exc.message, exc.status_code
    if request.htmx:
        page = audit_selectors.audit_page_for_reviewer(reviewer=request.user, code=code)
        item = next((i for i in page.items if i.index == index), None)
        context = {"a": page, "item": item, "verdicts": VERDICT_CHOICES, "error": error}
        return render(request, "review/audit_study/audit.html#audit-item", context, status=status)
    return _answer(request, code, "audit-item", error, status)


@reviewer_required
@require_POST
def audit_add(request: AuthenticatedRequest, code: str) -> HttpResponse:
    assignment = selectors.assignment_for_reviewer_update(reviewer=request.user, code=code)
    error, status = "", 200
    try:
        audit_services.annotation_added_save(
            assignment=assignment,
            field=request.POST.get("field", "").strip(),
            value=request.POST.get("value", ""),
            span=_span(request),
        )
    except NotFound:
        raise Http404 from None
    except ServiceError as exc:
        error, status = exc.message, exc.status_code
    return _answer(request, code, "added-list", error, status, add_error=error)


@reviewer_required
@require_POST
def audit_added_delete(request: AuthenticatedRequest, code: str, added_id: int) -> HttpResponse:
    assignment = selectors.assignment_for_reviewer_update(reviewer=request.user, code=code)
    try:
        audit_services.annotation_added_delete(assignment=assignment, added_id=added_id)
    except NotFound:
        raise Http404 from None
    except ServiceError as exc:
        return _answer(request, code, "added-list", exc.message, exc.status_code)
    return _answer(request, code, "added-list", "", 200)


@reviewer_required
@require_POST
def audit_submit(request: AuthenticatedRequest, code: str) -> HttpResponse:
    assignment = selectors.assignment_for_reviewer_update(reviewer=request.user, code=code)
    try:
        audit_services.audit_assignment_submit(assignment=assignment)
    except NotFound:
        raise Http404 from None
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("review:audit", code=code)
    next_code = selectors.queue_next_for_reviewer(
        reviewer=request.user, study_code=assignment.study.code
    )
    if next_code is None:
        messages.success(request, _("You have audited every report of this study. Thank you!"))
        return redirect("review:home")
    return redirect("review:audit", code=next_code)


# --- coordinator ----------------------------------------------------------------------------


def _audit_study(pk: int) -> Study:
    return get_object_or_404(Study, pk=pk, kind=Study.Kind.ANNOTATION_AUDIT)


@coordinator_required
@require_GET
def audit_results_page(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    study = _audit_study(pk)
    data = audit_data(study=study)
    results = audit_results(data=data)
    # Both kinds: an addition without a strict majority is as undecided for the verified
    # dataset as a model annotation without a majority verdict.
    unresolved = dataset.unresolved_of(data)
    context = {
        "study": study,
        "results": results,
        "progress": audit_selectors.audit_progress(study=study),
        "unresolved": unresolved.total,
        "unresolved_annotations": unresolved.annotations,
        "unresolved_additions": unresolved.additions,
        "tables": sorted(audit_tables(results, data)),
    }
    return render(request, "review/audit_study/results.html", context)


@coordinator_required
@require_GET
def audit_export_csv(request: AuthenticatedRequest, pk: int, name: str) -> StreamingHttpResponse:
    study = _audit_study(pk)
    data = audit_data(study=study)
    tables = audit_tables(audit_results(data=data), data)
    if name not in tables:
        raise Http404
    header, rows = tables[name]
    services.audit_log(actor=request.user, action=f"export.{name}", study=study, target=study.code)
    response = StreamingHttpResponse(
        exports.text_chunks(exports.csv_lines(header, rows)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{study.code}-{name}.csv"'
    return response


def _card(study: Study, data: AuditData) -> str:
    return dataset.verified_card(name=study.name, data=data, results=audit_results(data=data))


@coordinator_required
@require_GET
def audit_verified_jsonl(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    study = _audit_study(pk)
    data = audit_data(study=study)
    services.audit_log(
        actor=request.user, action="export.verified_jsonl", study=study, target=study.code
    )
    response = HttpResponse(
        "".join(dataset.verified_lines(data)), content_type="application/x-ndjson"
    )
    response["Content-Disposition"] = f'attachment; filename="{study.code}-verified.jsonl"'
    return response


@coordinator_required
@require_GET
def audit_verified_archive(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    study = _audit_study(pk)
    data = audit_data(study=study)
    services.audit_log(
        actor=request.user, action="export.verified_archive", study=study, target=study.code
    )
    response = HttpResponse(
        dataset.verified_archive(data, card=_card(study, data)), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="{study.code}-verified.zip"'
    return response


@coordinator_required
@require_GET
def audit_verified_card(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    study = _audit_study(pk)
    data = audit_data(study=study)
    return HttpResponse(_card(study, data), content_type="text/markdown; charset=utf-8")


def _model_adjudicate(request: AuthenticatedRequest, study: Study, report: Report) -> None:
    audit_services.annotation_adjudicate(
        study=study,
        report=report,
        annotation_index=int(request.POST.get("annotation", "-1")),
        verdict=request.POST.get("verdict", ""),
        value=request.POST.get("value", ""),
        span=_span(request) if request.POST.get("start") else None,
        actor=request.user,
    )


@coordinator_required
@require_http_methods(["GET", "POST"])
def audit_adjudication(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The annotations the reviewers disagree on (no strict majority, or already decided by
    the coordinator), one form each."""
    study = _audit_study(pk)
    error = ""
    if request.method == "POST":
        decided = get_object_or_404(
            Report, code=request.POST.get("report", ""), memberships__study=study
        )
        try:
            if request.POST.get("kind") == "added":
                audit_services.added_adjudicate(
                    study=study,
                    report=decided,
                    field=request.POST.get("field", ""),
                    start=int(request.POST.get("start", "-1")),
                    end=int(request.POST.get("end", "-1")),
                    accepted=request.POST.get("accepted") == "1",
                    value=request.POST.get("value", ""),
                    actor=request.user,
                )
            else:
                _model_adjudicate(request, study, decided)
        except NotFound:
            raise Http404 from None
        except (ServiceError, ValueError) as exc:
            error = getattr(exc, "message", str(exc))
        else:
            messages.success(request, _("Decision saved."))
            return redirect("review:audit_adjudication", pk=study.pk)
    data = audit_data(study=study)
    cases = []
    added_cases = []
    for report in data.reports:
        for group in dataset.report_addition_groups(report):
            if group.decision == dataset.MAJORITY:
                continue
            decided_value = next(
                (
                    d.value
                    for d in report.added_decisions
                    if (d.field, d.start, d.end)
                    in {(a.field, a.start, a.end) for a in group.additions}
                ),
                "",
            )
            added_cases.append(
                {
                    "report": report.code,
                    "group": group,
                    "value": decided_value,
                    "text": report.text[group.start : group.end],
                    "context": report.text[max(0, group.start - 80) : group.end + 80],
                }
            )
    for report in data.reports:
        for adjudication in dataset.report_adjudications(report):
            if adjudication.decision == dataset.MAJORITY:
                continue
            annotation = report.annotations[adjudication.annotation]
            span = audit_selectors.annotation_span(annotation)
            cases.append(
                {
                    "report": report.code,
                    "adjudication": adjudication,
                    "annotation": annotation,
                    "text": report.text[span[0] : span[1]] if span else "",
                    "context": report.text[
                        max(0, (span or (0, 0))[0] - 80) : (span or (0, 0))[1] + 80
                    ],
                    "verdicts": report.verdicts.get(adjudication.annotation, []),
                }
            )
    context = {
        "study": study,
        "cases": cases,
        "added_cases": added_cases,
        "verdicts": VERDICT_CHOICES,
        "error": error,
    }
    return render(
        request, "review/audit_study/adjudication.html", context, status=400 if error else 200
    )
