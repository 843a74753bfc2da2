"""The coordinator's leak audit page (runs the whole audit; writes nothing), and the
decision to accept a length or section difference, recorded in the audit trail."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from review import services
from review.blinding.audit import blinding_audit
from review.exceptions import ServiceError
from review.models import Study
from review.permissions import AuthenticatedRequest, coordinator_required

# The page answers in a few seconds even for large studies; the command has no cap.
PAGE_MAX_REPORTS_PER_REVIEWER = 60
# 100: the fewest permutations with which p < 0.01 (the leak threshold) can be reached.
PAGE_PERMUTATIONS = 100


@coordinator_required
@require_http_methods(["GET", "POST"])
def study_blinding_audit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=pk)
    error = ""
    if request.method == "POST":
        try:
            services.blinding_surface_accept(
                study=study,
                cue=request.POST.get("cue", ""),
                reason=request.POST.get("reason", ""),
                actor=request.user,
            )
        except ServiceError as exc:
            error = exc.message
        else:
            return redirect("review:blinding_audit", pk=study.pk)
    result = blinding_audit(
        study=study,
        permutations=PAGE_PERMUTATIONS,
        max_reports_per_reviewer=PAGE_MAX_REPORTS_PER_REVIEWER,
    )
    statistics = [
        (name, f"{value:.3g}" if isinstance(value, float) else value)
        for name, value in sorted(result.statistics.items())
    ]
    acceptable = [cue.name for cue in result.surface if cue.separates]
    return render(
        request,
        "review/blinding_audit.html",
        {
            "study": study,
            "result": result,
            "statistics": statistics,
            "acceptable": acceptable,
            "error": error,
        },
        status=400 if error else 200,
    )
