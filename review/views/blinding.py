"""The coordinator's leak audit page (runs the whole audit; writes nothing)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from review.blinding.audit import blinding_audit
from review.models import Study
from review.permissions import coordinator_required

# The page answers in a few seconds even for large studies; the command has no cap.
PAGE_MAX_REPORTS_PER_REVIEWER = 60
PAGE_PERMUTATIONS = 50


@coordinator_required
@require_GET
def study_blinding_audit(request: HttpRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=pk)
    result = blinding_audit(
        study=study,
        permutations=PAGE_PERMUTATIONS,
        max_reports_per_reviewer=PAGE_MAX_REPORTS_PER_REVIEWER,
    )
    statistics = [
        (name, f"{value:.3g}" if isinstance(value, float) else value)
        for name, value in sorted(result.statistics.items())
    ]
    return render(
        request,
        "review/blinding_audit.html",
        {"study": study, "result": result, "statistics": statistics},
    )
