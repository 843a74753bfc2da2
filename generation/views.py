"""Coordinator pages: launch and follow generation batches, read generated reports, frames."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from generation import catalogue, pipeline, pricing, selectors, services
from generation.forms import BatchLaunchForm, FrameUploadForm, GuidelineUploadForm, StudyJudgeForm
from generation.judge_rater import study_judge_launch
from generation.models import Batch, BatchItem, GuidelineVersion, SamplingFrame
from review.annotations import annotated_text
from review.blinding.style_profile import (
    StyleProfile,
    style_profile_from_import,
    style_profile_from_study,
)
from review.exceptions import ServiceError
from review.models import Study
from review.permissions import coordinator_required
from review.selectors import report_for_coordinator

# htmx stops polling when a response has this status.
HTMX_STOP_POLLING = 286
ROW_CHANGE_MARGIN = timedelta(seconds=5)


@coordinator_required
@require_GET
def batch_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "generation/batch_list.html",
        {
            "batches": selectors.batch_list(),
            "prompt_versions": selectors.prompt_version_comparison(),
        },
    )


def _launch_form(request: HttpRequest, data=None) -> BatchLaunchForm:
    # The default frame and prompts come from a data migration: this read writes nothing.
    form = BatchLaunchForm(data)
    if not form.is_bound:
        form.fields["frame"].initial = SamplingFrame.objects.order_by("name", "-version").first()
    return form


def _max_revisions(data: dict) -> int:
    value = data.get("max_revisions")
    return settings.GENERATION_MAX_REVISIONS if value is None else value


@coordinator_required
@require_http_methods(["GET", "POST"])
def batch_launch(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and request.GET.get("part") == "estimate":
        form = _launch_form(request, request.GET)
        estimate = None
        if form.is_valid():
            data = form.cleaned_data
            prompt = data["prompt"] or selectors.prompt_latest(language=data["language"])
            estimate = pricing.batch_cost_estimate(
                count=data["count"],
                backend=data["backend"],
                model=data["model"] or "",
                two_pass=prompt is not None and prompt.passes == "two_pass",
                critique=data["critique"],
                judge_backend=data["judge_backend"] or "",
                judge_model=data["judge_model"] or "",
                max_revisions=_max_revisions(data),
                batch_api=data["mode"] == Batch.Mode.BATCH_API,
            )
        return render(
            request, "generation/batch_form.html#estimate", {"form": form, "estimate": estimate}
        )
    form = _launch_form(request, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                batch = services.batch_launch(
                    count=data["count"],
                    frame=data["frame"],
                    prompt=data["prompt"],
                    backend=data["backend"],
                    model=data["model"] or None,
                    temperature=data["temperature"] if data["temperature"] is not None else 0.7,
                    seed=data["seed"],
                    language=data["language"],
                    site_filter=data["site_filter"],
                    critique=data["critique"],
                    judge_backend=data["judge_backend"] or "",
                    judge_model=data["judge_model"] or "",
                    max_revisions=_max_revisions(data),
                    mode=data["mode"] or Batch.Mode.DIRECT,
                    name=data["name"].strip(),
                    created_by=request.user,
                    idempotency_key=f"form:{data['launch_token']}" if data["launch_token"] else "",
                    style_profile=_style_profile(data),
                )
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request, _("Batch launched: %(n)d reports queued.") % {"n": batch.count}
                )
                return redirect("generation:batch_detail", pk=batch.pk)
    return render(request, "generation/batch_form.html", {"form": form}, status=status)


def _style_profile(data: dict) -> StyleProfile | None:
    """The style the batch writes in: that of an import's, or a study's, real reports."""
    if data["style_import"]:
        return style_profile_from_import(report_import=data["style_import"])
    if data["style_study"]:
        return style_profile_from_study(study=data["style_study"])
    return None


@coordinator_required
@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_object_or_404(Batch.objects.select_related("frame", "prompt", "guideline"), pk=pk)
    # Taken before reading: a row that moves while this request runs is sent again next time.
    # The margin covers transitions stamped before, but committed after, this read.
    rows_since = int((timezone.now() - ROW_CHANGE_MARGIN).timestamp() * 1000)
    progress = selectors.batch_progress(batch=batch)
    if getattr(request, "htmx", False) and request.GET.get("part") == "progress":
        context: dict = {"batch": batch, "progress": progress, "rows_since": rows_since}
        since = _since(request.GET.get("since", ""))
        if since is not None and not progress.finished:
            # Rows that moved since the previous poll, swapped in place out of band.
            context["changed_items"] = list(selectors.batch_items(batch=batch, changed_since=since))
        if progress.finished and batch.status == Batch.Status.RUNNING:
            # Every item settled, the batch row not yet: the worker marks it in a statement
            # after the item's, or this request read the row before that. This poll is the
            # last one, so the status it swaps in must be the settled one.
            pipeline.batch_finish_if_complete(batch_id=batch.pk)
            batch.refresh_from_db(fields=["status", "finished_at"])
        if progress.finished:
            # The last answer also swaps in (out of band) the status, buttons and items.
            context.update(
                oob=True,
                failures=selectors.batch_failures(batch=batch),
                items=selectors.batch_items(batch=batch),
            )
        response = render(request, "generation/batch_detail.html#progress", context)
        if progress.finished:
            response.status_code = HTMX_STOP_POLLING
        return response
    return render(
        request,
        "generation/batch_detail.html",
        {
            "batch": batch,
            "progress": progress,
            "failures": selectors.batch_failures(batch=batch),
            "items": selectors.batch_items(batch=batch),
            "rows_since": rows_since,
        },
    )


def _since(raw: str) -> datetime | None:
    """The `since` of a poll (milliseconds since the epoch), or None when absent or bad."""
    if not raw.isdigit():
        return None
    try:
        return datetime.fromtimestamp(int(raw) / 1000, tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


@coordinator_required
@require_POST
def batch_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    batch = get_object_or_404(Batch, pk=pk)
    try:
        if action == "cancel":
            skipped = services.batch_cancel(batch=batch, actor=request.user)
            messages.success(request, _("Batch cancelled; %(n)d items skipped.") % {"n": skipped})
        elif action == "retry-failed":
            count = services.batch_retry_failed(batch=batch, actor=request.user)
            messages.success(request, _("%(n)d failed items queued again.") % {"n": count})
        else:
            return HttpResponse(_("Unknown action."), status=404)
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("generation:batch_detail", pk=batch.pk)


@coordinator_required
@require_GET
def item_report(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(
        BatchItem.objects.select_related("batch", "batch__prompt", "batch__frame", "report"), pk=pk
    )
    report = item.report
    if report is not None:
        # The page shows the report's source and provenance: read through the one selector
        # that records the unblinding view in the audit trail.
        report = report_for_coordinator(
            code=report.code,
            actor=request.user,
            details={"via": "generation item", "batch": item.batch_id},
        )
    return render(
        request,
        "generation/item_report.html",
        {
            "item": item,
            "report": report,
            "annotated": annotated_text(report.text, report.annotations) if report else None,
            "scenario": item.scenario,
            "provenance": (
                {k: v for k, v in report.provenance.items() if k != "scenario"} if report else {}
            ),
        },
    )


@coordinator_required
@require_http_methods(["GET", "POST"])
def frame_list(request: HttpRequest) -> HttpResponse:
    form = FrameUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                text = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                form.add_error("file", _("The file is not UTF-8 text."))
            else:
                try:
                    frame = catalogue.frame_create(text=text, created_by=request.user)
                except ServiceError as exc:
                    form.add_error("file", exc.message)
                else:
                    messages.success(request, _("Frame %(f)s saved.") % {"f": frame.label})
                    return redirect("generation:frame_list")
    frames = SamplingFrame.objects.order_by("name", "-version")
    return render(
        request, "generation/frame_list.html", {"frames": frames, "form": form}, status=status
    )


@coordinator_required
@require_GET
def frame_download(request: HttpRequest, pk: int) -> HttpResponse:
    frame = get_object_or_404(SamplingFrame, pk=pk)
    response = HttpResponse(
        json.dumps(frame.data, ensure_ascii=False, indent=1), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{frame.name}-v{frame.version}.json"'
    return response


@coordinator_required
@require_http_methods(["GET", "POST"])
def study_judge(request: HttpRequest, pk: int) -> HttpResponse:
    """Launch the LLM judge on every report of a study (one task per report)."""
    study = get_object_or_404(Study, pk=pk)
    form = StudyJudgeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            count = study_judge_launch(
                study=study,
                model=form.cleaned_data["model"],
                backend=form.cleaned_data["backend"],
                actor=request.user,
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The judge will rate %(n)d reports.") % {"n": count})
            return redirect("review:study_results", pk=study.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "generation/study_judge.html", {"study": study, "form": form}, status=status
    )


@coordinator_required
@require_http_methods(["GET", "POST"])
def guideline_list(request: HttpRequest) -> HttpResponse:
    """The knowledge-base versions: download one to review it, upload a revised version."""
    catalogue.guideline_default_ensure()
    form = GuidelineUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                text = form.cleaned_data["file"].read().decode("utf-8")
            except UnicodeDecodeError:
                form.add_error("file", _("The file is not UTF-8 text."))
            else:
                try:
                    guideline = catalogue.guideline_create(text=text, created_by=request.user)
                except ServiceError as exc:
                    # One line per problem: an oncologist fixes them all in one pass.
                    for line in exc.message.split(" | "):
                        form.add_error("file", line)
                else:
                    messages.success(
                        request, _("Knowledge base %(g)s saved.") % {"g": guideline.label}
                    )
                    return redirect("generation:guideline_list")
    guidelines = GuidelineVersion.objects.order_by("name", "-version")
    return render(
        request,
        "generation/guideline_list.html",
        {"guidelines": guidelines, "form": form},
        status=status,
    )


@coordinator_required
@require_GET
def guideline_download(request: HttpRequest, pk: int) -> HttpResponse:
    guideline = get_object_or_404(GuidelineVersion, pk=pk)
    response = HttpResponse(guideline.text, content_type="application/yaml; charset=utf-8")
    filename = f"{guideline.name}-v{guideline.version}.yaml"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
