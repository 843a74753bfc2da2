"""Coordinator pages: compose, open, follow and close studies; browse reports."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from review import composition, people, selectors, selectors_queue, services
from review.annotations import annotated_text
from review.blinding.wording import study_source_words
from review.exceptions import InvalidInput, ServiceError
from review.forms import (
    AuditFilterForm,
    CompositionForm,
    DomainForm,
    DomainFormSet,
    ReviewerChoiceForm,
    StudyCreateForm,
)
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
    if request.method == "POST" and request.GET.get("preview"):
        # The composition's counts while the coordinator ticks boxes (htmx), before commit.
        return _composition_preview(request)
    form = StudyCreateForm(request.POST or None)
    counting = request.method == "POST" and "preview" in request.POST  # the no-JS button
    if request.method == "POST" and not counting and form.is_valid():
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
                    kind=data.get("kind") or Study.Kind.RATING,
                )
                reports = composition.reports_select(selection=data["selection"], seed=study.seed)
                services.study_reports_add(study=study, reports=reports)
                services.study_reviewers_set(
                    study=study, reviewers=list(data["reviewers"]), actor=request.user
                )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Study created as a draft. Check it, then open it."))
            words = study_source_words(name=data["name"], description=data["description"])
            if words:
                messages.warning(
                    request,
                    _(
                        "Reviewers see the study's name and description, and these words "
                        "may tell them where reports come from: %(words)s. Consider "
                        "renaming the study before opening it."
                    )
                    % {"words": ", ".join(words)},
                )
            return redirect("review:study_detail", pk=study.pk)
    preview = None
    if request.method == "POST":
        preview = _preview_of(CompositionForm(request.POST), request.POST.get("seed"))
    status = 400 if request.method == "POST" and not counting else 200
    return render(
        request, "review/study_form.html", {"form": form, "preview": preview}, status=status
    )


def _preview_of(form: CompositionForm, seed: str | None) -> composition.CompositionPreview | None:
    if not form.is_valid():
        return None
    # Without a seed yet the random draw is only illustrative: the counts are exact anyway.
    seed_value = int(seed) if seed and seed.isdigit() else 0
    return composition.composition_preview(
        selection=form.cleaned_data["selection"], seed=seed_value
    )


def _composition_preview(request: AuthenticatedRequest) -> HttpResponse:
    form = CompositionForm(request.POST)
    return render(
        request,
        "review/study_form.html#composition",
        {"preview": _preview_of(form, request.POST.get("seed")), "preview_form": form},
    )


def _study_detail_context(study: Study) -> dict:
    domains = list(study.domains.all())
    return {
        "study": study,
        "progress": selectors.study_progress(study=study),
        "source_counts": selectors.study_source_counts(study=study),
        "domains": domains,
        # In the page's language (French labels from the domain editor), as reviewers see them.
        "domain_labels": [domain.localized("label", get_language()) for domain in domains],
        # Computed in the background (review/computations.py), never in a template or
        # while the coordinator waits: it reads every report's text.
        "surface": selectors.study_surface_stored(study=study),
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
        elif action == "reopen":
            services.study_reopen(
                study=study, actor=request.user, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("The study is open again: reviewers can rate."))
        elif action == "reminder-schedule":
            raw = request.POST.get("every_days", "").strip()
            try:
                every_days = int(raw) if raw else None
            except ValueError:
                every_days = -1  # refused by the service with its message
            services.study_reminder_schedule_set(
                study=study, every_days=every_days, actor=request.user
            )
            if study.reminder_every_days:
                messages.success(
                    request,
                    ngettext(
                        "Inactive reviewers will be reminded every %(n)d day.",
                        "Inactive reviewers will be reminded every %(n)d days.",
                        study.reminder_every_days,
                    )
                    % {"n": study.reminder_every_days},
                )
            else:
                messages.success(request, _("No automatic reminder for this study."))
        elif action == "remind":
            sent = people.study_reminders_send(
                study=study, actor=request.user, base_url=request.build_absolute_uri("/")
            )
            messages.success(
                request,
                ngettext(
                    "Reminder sent to %(n)d reviewer.",
                    "Reminders sent to %(n)d reviewers.",
                    sent.sent,
                )
                % {"n": sent.sent},
            )
            if sent.without_email:
                messages.warning(
                    request,
                    ngettext(
                        "%(n)d reviewer with unfinished reports has no e-mail address.",
                        "%(n)d reviewers with unfinished reports have no e-mail address.",
                        sent.without_email,
                    )
                    % {"n": sent.without_email},
                )
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
            reviewer_id = request.POST.get("reviewer", "")
            if not (reviewer_id.isascii() and reviewer_id.isdigit() and len(reviewer_id) < 19):
                raise InvalidInput(_("Choose a reviewer."), code="reviewer")
            reviewer = get_object_or_404(get_user_model(), pk=int(reviewer_id))
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
            **{field: getattr(d, field) for field in DomainForm.ENGLISH},
            **{
                f"{field}_fr": d.translations.get("fr", {}).get(field, "")
                for field in DomainForm.ENGLISH
            },
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
    # The list shows each report's source: audited, as a report's own page is.
    selectors.report_list_unblinded(
        actor=request.user, codes=[report.code for report in page.object_list], where="page"
    )
    return render(
        request,
        "review/report_list.html",
        {"page": page, "source": source, "q": request.GET.get("q", "")},
    )


@coordinator_required
@require_GET
def report_detail(request: AuthenticatedRequest, code: str) -> HttpResponse:
    report = selectors.report_for_coordinator(code=code, actor=request.user)
    provenance = dict(report.provenance or {})
    scenario = provenance.pop("scenario", None)
    return render(
        request,
        "review/report_detail.html",
        {
            "report": report,
            "annotated": annotated_text(report.text, report.annotations),
            "provenance": provenance,
            "scenario": scenario,
            "tags": [tag.name for tag in report.tags.all()],
            "critique": provenance_critique(report.provenance),
        },
    )


@coordinator_required
@require_POST
def report_tags(request: AuthenticatedRequest, code: str) -> HttpResponse:
    report = get_object_or_404(Report, code=code)
    names = request.POST.get("tags", "").replace(",", " ").split()
    try:
        saved = services.report_tags_set(report=report, names=names, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Tags saved: %(tags)s.") % {"tags": ", ".join(saved) or _("none")}
        )
    return redirect("review:report_detail", code=report.code)


@coordinator_required
@require_GET
def audit_list(request: AuthenticatedRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    where = selectors.AuditFilter()
    if form.is_valid():
        data = form.cleaned_data
        where = selectors.AuditFilter(
            study_code=data["study"],
            username=data["user"],
            action=data["action"],
            date_from=data["date_from"],
            date_to=data["date_to"],
        )
    page = Paginator(selectors.audit_events(where=where), 100).get_page(request.GET.get("page"))
    return render(
        request,
        "review/audit_list.html",
        {"page": page, "form": form},
        status=200 if form.is_valid() or not request.GET else 400,
    )
