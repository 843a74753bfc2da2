"""Reviewer pages around the rating page: "My reports", the study instructions, "cannot
assess", undo of a first score, and the text-size preference.

Reads go through the blinded selectors (review.selectors, review.selectors_queue).
"""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from review import selectors, selectors_queue
from review.exceptions import ServiceError
from review.instructions import instructions_html
from review.models import Assignment
from review.permissions import AuthenticatedRequest, reviewer_required
from review.services import reviewer as services_reviewer
from review.views.reviewer import domain_row_response, reading_time_add


@reviewer_required
@require_GET
def my_reports(request: AuthenticatedRequest, study_code: str) -> HttpResponse:
    status = request.GET.get("status", "")
    queue = selectors_queue.reviewer_queue_page(
        reviewer=request.user, study_code=study_code, status=status
    )
    filters = [("", _("All"), sum(queue.counts.values()))] + [
        (value, label, queue.counts[value]) for value, label in Assignment.Status.choices
    ]
    return render(
        request,
        "review/my_reports.html",
        {"queue": queue, "status": status, "filters": filters},
    )


@reviewer_required
@require_GET
def instructions(request: AuthenticatedRequest, study_code: str) -> HttpResponse:
    guidance = selectors_queue.study_instructions_for_reviewer(
        reviewer=request.user, study_code=study_code, language=get_language()
    )
    return render(
        request,
        "review/instructions.html",
        {"guidance": guidance, "instructions_html": instructions_html(guidance.instructions)},
    )


@reviewer_required
@require_POST
def rate_cannot_assess(request: AuthenticatedRequest, code: str) -> HttpResponse:
    assignment = selectors.assignment_for_reviewer_update(reviewer=request.user, code=code)
    try:
        outcome = services_reviewer.assignment_cannot_assess(
            assignment=assignment,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("review:rate", code=code)
    messages.success(
        request,
        _("Report handed back; it has left your queue.")
        if outcome.reassigned
        else _("Report handed back; it has left your queue (the coordinator will decide)."),
    )
    next_code = selectors.queue_next_for_reviewer(
        reviewer=request.user, study_code=assignment.study.code
    )
    if next_code is None:
        return redirect("review:home")
    return redirect("review:rate", code=next_code)


@reviewer_required
@require_POST
def rate_score_clear(request: AuthenticatedRequest, code: str, domain_key: str) -> HttpResponse:
    """Undo of a domain's first score: the row comes back without a score."""
    assignment = selectors.assignment_for_reviewer_update(reviewer=request.user, code=code)
    error, status = "", 200
    try:
        services_reviewer.rating_clear(assignment=assignment, domain_key=domain_key)
    except ServiceError as exc:
        error, status = exc.message, exc.status_code
    reading_time_add(request, assignment)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("review:rate", code=code)
    domain = selectors.reviewer_domain(
        reviewer=request.user, code=code, domain_key=domain_key, language=get_language()
    )
    return domain_row_response(
        request, assignment=assignment, domain=domain, error=error, status=status
    )


@reviewer_required
@require_POST
def text_size_set(request: AuthenticatedRequest) -> HttpResponse:
    text_size = request.POST.get("text_size", "")
    try:
        services_reviewer.reviewer_text_size_set(user=request.user, text_size=text_size)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        request.session["text_size"] = text_size
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return redirect(target)
