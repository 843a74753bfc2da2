"""The coordinator's leak audit page (runs the whole audit; writes nothing), and the
decision to accept a length or section difference, recorded in the audit trail."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from review import services
from review.computations import computation_read
from review.exceptions import ServiceError
from review.models import Study, StudyComputation
from review.permissions import AuthenticatedRequest, coordinator_required


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
    # Computed in the background (seconds to minutes): the page shows the last audit with
    # its age, and schedules a new one when the study changed since (or after a decision).
    stored = computation_read(study=study, kind=StudyComputation.Kind.LEAK_AUDIT)
    if stored is None:
        return render(
            request,
            "review/blinding_audit.html",
            {"study": study, "computing": True, "error": error},
            status=400 if error else 200,
        )
    result = stored.value
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
            "computed": stored,
        },
        status=400 if error else 200,
    )
