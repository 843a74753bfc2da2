"""Coordinator pages: compose, open, follow and close studies; browse reports."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from review import selectors, selectors_queue, services
from review.exceptions import ServiceError
from review.forms import DomainFormSet, ReviewerChoiceForm, StudyCreateForm
from review.models import Report, Study
from review.permissions import AuthenticatedRequest, coordinator_required
from review.provenance import provenance_critique


@coordinator_required
@require_GET
def study_list(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "review/study_list.html", {"studies": selectors.study_list()})


@coordinator_required
@require_http_methods(["GET", "POST"])
def study_create(request: AuthenticatedRequest) -> HttpResponse:
    form = StudyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                study = services.study_create(
                    name=data["name"],
                    description=data["description"],
                    raters_per_report=data["raters_per_report"],
                    scale_min=data["scale_min"],
                    scale_max=data["scale_max"],
                    seed=data["seed"],
                    noninferiority_margin=data["noninferiority_margin"],
                    created_by=request.user,
                )
                reports = services.reports_pick_for_study(
                    include_real=data["include_real"],
                    synthetic_count=data["synthetic_count"] or 0,
                    synthetic_batch=data["synthetic_batch"],
                    exclude_flagged=data["exclude_flagged"],
                    seed=study.seed,
                )
                if not reports:
                    raise ServiceError(_("No report matches this selection."), code="no_reports")
                services.study_reports_add(study=study, reports=reports)
                services.study_reviewers_set(
                    study=study, reviewers=list(data["reviewers"]), actor=request.user
                )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Study created as a draft. Check it, then open it."))
            return redirect("review:study_detail", pk=study.pk)
    return render(request, "review/study_form.html", {"form": form})


def _study_detail_context(study: Study) -> dict:
    return {
        "study": study,
        "progress": selectors.study_progress(study=study),
        "source_counts": selectors.study_source_counts(study=study),
        "domains": list(study.domains.all()),
        # Computed here, not in a template tag: it reads every report's text (cached per
        # set of member reports), work a template should not hide.
        "surface": selectors.study_surface_cues(study=study),
    }


@coordinator_required
@require_GET
def study_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=pk)
    if request.htmx and request.GET.get("part") == "progress":
        # Polled every few seconds while the study is open: compute only what it shows.
        progress = selectors.study_progress(study=study)
        return render(
            request, "review/study_detail.html#progress", {"study": study, "progress": progress}
        )
    context = _study_detail_context(study)
    context["reviewer_form"] = ReviewerChoiceForm()
    context["cannot_assess"] = selectors_queue.study_cannot_assess(study=study)
    return render(request, "review/study_detail.html", context)


@coordinator_required
@require_POST
def study_action(request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    study = get_object_or_404(Study, pk=pk)
    try:
        if action == "open":
            services.study_open(study=study, actor=request.user)
            messages.success(request, _("The study is open: reviewers can start rating."))
        elif action == "close":
            services.study_close(study=study, actor=request.user)
            messages.success(request, _("The study is closed: ratings are frozen."))
        elif action == "add-reviewer":
            form = ReviewerChoiceForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Choose a reviewer."))
            else:
                services.study_reviewer_add(
                    study=study, reviewer=form.cleaned_data["reviewer"], actor=request.user
                )
                messages.success(request, _("Reviewer added."))
        elif action == "remove-reviewer":
            reviewer = get_object_or_404(get_user_model(), pk=request.POST.get("reviewer"))
            moved = services.study_reviewer_remove(
                study=study, reviewer=reviewer, actor=request.user
            )
            messages.success(
                request,
                _("Reviewer removed; %(n)d unfinished reports were reassigned.") % {"n": moved},
            )
        else:
            return HttpResponse(_("Unknown action."), status=404)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return render(
            request,
            "review/study_detail.html",
            {**_study_detail_context(study), "reviewer_form": ReviewerChoiceForm()},
            status=exc.status_code,
        )
    return redirect("review:study_detail", pk=study.pk)


@coordinator_required
@require_http_methods(["GET", "POST"])
def study_domains(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=pk)
    initial = [
        {
            "key": d.key,
            "label": d.label,
            "help_text": d.help_text,
            "anchor_low": d.anchor_low,
            "anchor_high": d.anchor_high,
        }
        for d in study.domains.all()
    ]
    formset = DomainFormSet(request.POST or None, initial=initial)
    if request.method == "POST" and formset.is_valid():
        rows = [
            form.cleaned_data
            for form in formset.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            services.domains_update(study=study, rows=rows)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Domains saved."))
            return redirect("review:study_detail", pk=study.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "review/study_domains.html", {"study": study, "formset": formset}, status=status
    )


@coordinator_required
@require_GET
def report_list(request: AuthenticatedRequest) -> HttpResponse:
    source = request.GET.get("source", "")
    if source not in ("", *Report.Source.values):
        source = ""
    reports = selectors.report_list(source=source or None, search=request.GET.get("q", "").strip())
    page = Paginator(reports, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "review/report_list.html",
        {"page": page, "source": source, "q": request.GET.get("q", "")},
    )


@coordinator_required
@require_GET
def report_detail(request: AuthenticatedRequest, code: str) -> HttpResponse:
    report = selectors.report_for_coordinator(code=code, actor=request.user)
    return render(
        request,
        "review/report_detail.html",
        {"report": report, "critique": provenance_critique(report.provenance)},
    )


@coordinator_required
@require_GET
def audit_list(request: AuthenticatedRequest) -> HttpResponse:
    try:
        study_id = int(request.GET.get("study") or 0) or None
    except ValueError:
        study_id = None
    action = request.GET.get("action", "").strip()
    events = selectors.audit_events(study_id=study_id, action=action)
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "review/audit_list.html",
        {"page": page, "action": action, "study_id": study_id or ""},
    )
