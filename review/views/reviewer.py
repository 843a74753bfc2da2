"""The reviewer's pages: home, the rating page and its htmx endpoints.

Every read goes through the blinded selectors; templates never receive a Report.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from review import selectors, services
from review.computations import computations_schedule
from review.exceptions import Conflict, NotFound, ServiceError
from review.models import Assignment, CannotAssess, ReviewerPreference, Study
from review.permissions import (
    AuthenticatedRequest,
    reviewer_required,
    user_is_coordinator,
    user_is_reviewer,
)
from review.services import reviewer as services_reviewer
from review.views.domain_rows import domain_row_html

# What rate.js sends as the submit's "answer" (a form without the script gets a redirect).
NEXT_PAGE_ANSWER = "next-page"

# Lazy: translated per request, in the reviewer's language, not once at import.
DATABASE_RETRY_MESSAGE = gettext_lazy(
    "The score could not be saved (database unavailable). Please click again."
)


@login_required
@require_GET
def home(request: AuthenticatedRequest) -> HttpResponse:
    if user_is_coordinator(request.user) and not user_is_reviewer(request.user):
        return redirect("review:study_list")
    studies = selectors.reviewer_studies(reviewer=request.user)
    return render(request, "review/home.html", {"studies": studies})


@reviewer_required
@require_GET
def study_continue(request: AuthenticatedRequest, study_code: str) -> HttpResponse:
    code = selectors.queue_next_for_reviewer(reviewer=request.user, study_code=study_code)
    if code is None:
        messages.success(request, _("You have rated every report of this study. Thank you!"))
        return redirect("review:home")
    return redirect("review:rate", code=code)


def _rate_context(request: AuthenticatedRequest, code: str, **extra) -> dict:
    assignment = selectors.reviewer_assignment(
        reviewer=request.user, code=code, language=get_language()
    )
    # After an incomplete submit the first unscored domain is marked, focused and scrolled
    # to by rate.js, next to the message.
    missing = next((d.key for d in assignment.domains if d.score is None), None)
    missing_first = missing if extra.get("submit_error") else None
    return {
        "a": assignment,
        "domain_rows": [
            domain_row_html(
                domain=domain,
                assignment_code=assignment.code,
                scale=assignment.scale,
                study_open=assignment.scores_editable,
                missing=domain.key == missing_first,
            )
            for domain in assignment.domains
        ],
        "cannot_assess_reasons": CannotAssess.Reason.choices,
        "text_sizes": ReviewerPreference.TextSize.choices,
        **extra,
    }


@reviewer_required
@require_GET
def rate(request: AuthenticatedRequest, code: str) -> HttpResponse:
    return _rate_page(request, code=code)


def _rate_page(request: AuthenticatedRequest, *, code: str) -> HttpResponse:
    """The rating page of `code`, opening its visit: the page's GET, and the answer to a
    submit that asked for the next report's page."""
    # The usual opening (their report, open rating study) in one statement; else below.
    if services.assignment_open_by_code(reviewer_id=request.user.pk, code=code):
        return render(request, "review/rate.html", _rate_context(request, code))
    assignment = selectors.assignment_for_reviewer_update(reviewer=request.user, code=code)
    if assignment.study.kind == Study.Kind.ANNOTATION_AUDIT:
        # The queue and "continue" name assignments whatever the study's kind.
        return redirect("review:audit", code=code)
    services.assignment_open(assignment=assignment)
    return render(request, "review/rate.html", _rate_context(request, code))


@reviewer_required
@require_POST
def rate_score(request: AuthenticatedRequest, code: str, domain_key: str) -> HttpResponse:
    score = request.POST.get(f"score-{domain_key}", request.POST.get("score", ""))
    if request.htmx:
        # The hot path: one statement saves the score and the reading time and returns the
        # domain row; anything unusual (first score, closed study, bad input) goes on below.
        try:
            saved = services.score_save_in_one_statement(
                reviewer_id=request.user.pk,
                code=code,
                domain_key=domain_key,
                score=score,
                client_ms=services_reviewer.reading_ms_parse(request.POST.get("active_ms")) or 0,
            )
        except DatabaseError:
            saved = None
            if not connection.in_atomic_block:
                connection.close_if_unusable_or_obsolete()
        if saved is not None:
            row = domain_row_html(
                domain=selectors.reviewer_domain_saved_row(
                    domain=saved.domain, score=saved.score, language=get_language()
                ),
                assignment_code=code,
                scale=range(saved.scale_min, saved.scale_max + 1),
                study_open=True,
            )
            return HttpResponse(row)
    assignment = selectors.assignment_for_reviewer_update(reviewer=request.user, code=code)
    error, status, rating = "", 200, None
    try:
        rating = services.rating_save(assignment=assignment, domain_key=domain_key, score=score)
        reading_time_add(request, assignment)
    except NotFound:
        raise Http404 from None
    except ServiceError as exc:
        error, status = exc.message, exc.status_code
    except DatabaseError:
        error, status = str(DATABASE_RETRY_MESSAGE), 503
        # A dropped connection stays broken until closed; close it so that the reads
        # below (and the reviewer's next click) reconnect instead of failing with a 500.
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("review:rate", code=code)
    try:
        if rating is not None:
            domain = selectors.reviewer_domain_saved(rating=rating, language=get_language())
        else:
            domain = selectors.reviewer_domain(
                reviewer=request.user, code=code, domain_key=domain_key, language=get_language()
            )
    except DatabaseError:
        # Still no database: keep the row as it is and append the message to it.
        response = render(
            request, "review/rate.html#domain-error", {"error": DATABASE_RETRY_MESSAGE}, status=503
        )
        response["HX-Reswap"] = "beforeend"
        return response
    return domain_row_response(
        request, assignment=assignment, domain=domain, error=error, status=status
    )


def domain_row_response(
    request: AuthenticatedRequest,
    *,
    assignment: Assignment,
    domain: selectors.BlindedDomain,
    error: str,
    status: int,
) -> HttpResponse:
    """The htmx answer to a save or an undo: the domain's row, with the message if any."""
    scale = range(assignment.study.scale_min, assignment.study.scale_max + 1)
    study_open = assignment.study.status == assignment.study.Status.OPEN
    if not error:
        row = domain_row_html(
            domain=domain, assignment_code=assignment.code, scale=scale, study_open=study_open
        )
        return HttpResponse(row, status=status)
    context = {
        "domain": domain,
        "assignment_code": assignment.code,
        "study_open": study_open,
        "scale": list(scale),
        "error": error,
    }
    return render(request, "review/rate.html#domain-row", context, status=status)


@reviewer_required
@require_POST
def rate_comment(request: AuthenticatedRequest, code: str) -> HttpResponse:
    assignment = selectors.assignment_for_reviewer_update(reviewer=request.user, code=code)
    comment = request.POST.get("comment", "")
    try:
        services.assignment_comment_save(assignment=assignment, comment=comment)
    except NotFound:
        raise Http404 from None
    except ServiceError as exc:
        if not request.htmx:
            messages.error(request, exc.message)
            return redirect("review:rate", code=code)
        return render(
            request,
            "review/rate.html#comment-status",
            {"comment_error": exc.message},
            status=exc.status_code,
        )
    if not request.htmx:
        return redirect("review:rate", code=code)
    return render(request, "review/rate.html#comment-status", {"comment_saved": True})


@reviewer_required
@require_POST
def rate_submit(request: AuthenticatedRequest, code: str) -> HttpResponse:
    comment = request.POST.get("comment")
    scores = {
        key.removeprefix("score-"): value
        for key, value in request.POST.items()
        if key.startswith("score-") and value
    }
    # The usual submit in three statements: the form carries the scores (its radio buttons,
    # which the page has saved one by one), saved again at once as the API's PUT saves them,
    # then the submit's two. Anything else (a score the one statement does not take, a
    # submitted report edited, a domain not scored) takes the path below, which saves,
    # refuses or explains.
    if not scores or services.ratings_put_in_one_statement(
        reviewer_id=request.user.pk, code=code, scores=scores
    ):
        submitted = services.assignment_submit_in_two_statements(
            reviewer_id=request.user.pk,
            code=code,
            comment=comment,
            client_ms=services_reviewer.reading_ms_parse(request.POST.get("active_ms")) or 0,
            with_next=True,
        )
        if submitted is not None:
            computations_schedule(study_id=submitted.study_id)
            return _next_report_at(request, next_code=submitted.next_code)
    assignment = selectors.assignment_for_reviewer_update(reviewer=request.user, code=code)
    reading_time_add(request, assignment)
    try:
        # Without JavaScript the scores arrive with the submit rather than one by one.
        for domain_key, value in scores.items():
            services.rating_save(assignment=assignment, domain_key=domain_key, score=value)
        if comment is not None and comment != assignment.comment:
            services.assignment_comment_save(assignment=assignment, comment=comment)
        services.assignment_submit(assignment=assignment)
        computations_schedule(study_id=assignment.study_id)
    except NotFound:
        raise Http404 from None
    except Conflict as exc:
        if exc.code != "already_submitted":
            messages.error(request, exc.message)
            return redirect("review:rate", code=code)
        # Submitting again after an edit is the normal way on: just go to the next report.
    except ServiceError as exc:
        context = _rate_context(request, code, submit_error=exc.message)
        return render(request, "review/rate.html", context, status=exc.status_code)
    return _next_report(request, study_code=assignment.study.code)


def _next_report(request: AuthenticatedRequest, *, study_code: str) -> HttpResponse:
    next_code = selectors.queue_next_for_reviewer(reviewer=request.user, study_code=study_code)
    return _next_report_at(request, next_code=next_code)


def _next_report_at(request: AuthenticatedRequest, *, next_code: str | None) -> HttpResponse:
    if next_code is None:
        messages.success(request, _("You have rated every report of this study. Thank you!"))
        return redirect("review:home")
    if request.POST.get("answer") == NEXT_PAGE_ANSWER:
        # The page's script asked for the next report in this answer, not by a redirect
        # and a GET: one round trip less per report. It then shows the report's own
        # address (history.replaceState), so a reload is a GET, as after a redirect.
        return _rate_page(request, code=next_code)
    return redirect("review:rate", code=next_code)


@reviewer_required
@require_POST
def rate_heartbeat(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The page's reading time of this visit when no save carried it: a beat at most once a
    minute while the reviewer reads, and one on leaving the page (sendBeacon, a multipart
    form with the CSRF token), so a report read without a save in between is still counted
    (static/js/rate.js)."""
    visit_ms = services_reviewer.reading_ms_parse(request.POST.get("active_ms"))
    if visit_ms is not None and services.reading_time_add_by_code(
        reviewer_id=request.user.pk, code=code, visit_ms=visit_ms
    ):
        return HttpResponse(status=204)  # the usual beat, in one statement
    assignment = selectors.assignment_for_reviewer_update(reviewer=request.user, code=code)
    if visit_ms is None:
        return HttpResponse(_("active_ms must be a whole number of milliseconds"), status=400)
    services_reviewer.assignment_reading_time_add(assignment=assignment, visit_ms=visit_ms)
    return HttpResponse(status=204)


def reading_time_add(request: AuthenticatedRequest, assignment) -> None:
    """The page's reading time of this visit (ms) sent with a save, undo or submit. The
    figure is advisory: a missing or malformed one is ignored, never worth refusing a score."""
    visit_ms = services_reviewer.reading_ms_parse(request.POST.get("active_ms"))
    if visit_ms:
        services_reviewer.assignment_reading_time_add(assignment=assignment, visit_ms=visit_ms)
