"""The coordinator's page for what reviewers are told and checked with: study instructions
(Markdown, English and French), per-domain examples of a lowest, middle and highest score,
calibration items with reference scores, attention checks, and the results of both, plus
the reports reviewers could not assess."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from review import selectors_queue
from review.exceptions import ServiceError
from review.models import Study, StudyReport
from review.permissions import AuthenticatedRequest, coordinator_required
from review.services import reviewer as services_reviewer

EXAMPLE_FIELDS = ("example_low", "example_mid", "example_high")


@coordinator_required
@require_http_methods(["GET", "POST"])
def study_guidance(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    study = get_object_or_404(Study, pk=pk)
    domains = list(study.domains.order_by("order", "id"))
    if request.method == "POST":
        try:
            attention = int(request.POST.get("attention_checks", study.attention_checks))
        except ValueError:
            attention = -1  # refused by the service with its message
        examples = {
            domain.key: {
                name: request.POST.get(f"{domain.key}-{name}", "")
                for field in EXAMPLE_FIELDS
                for name in (field, f"fr:{field}")
            }
            for domain in domains
        }
        try:
            with transaction.atomic():
                services_reviewer.study_guidance_update(
                    study=study,
                    instructions=request.POST.get("instructions", ""),
                    instructions_fr=request.POST.get("instructions_fr", ""),
                    attention_checks=attention,
                    examples=examples,
                )
                if study.status == Study.Status.DRAFT and "calibration" in request.POST:
                    items = services_reviewer.calibration_items_parse(
                        study=study, text=request.POST["calibration"]
                    )
                    services_reviewer.study_calibration_set(study=study, items=items)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Guidance saved."))
            return redirect("review:study_guidance", pk=study.pk)
    calibration_lines = "\n".join(
        " ".join([code, *(str(scores.get(domain.key, "")) for domain in domains)])
        for code, scores in StudyReport.objects.filter(
            study=study, role=StudyReport.Role.CALIBRATION
        )
        .order_by("report__code")
        .values_list("report__code", "reference_scores")
    )
    rows = [
        {
            "domain": domain,
            "fields": [
                (
                    field,
                    getattr(domain, field),
                    domain.translations.get("fr", {}).get(field, ""),
                )
                for field in EXAMPLE_FIELDS
            ],
        }
        for domain in domains
    ]
    context = {
        "study": study,
        "rows": rows,
        "calibration_lines": calibration_lines,
        "calibration_agreement": selectors_queue.study_calibration_agreement(study=study),
        "test_retest": selectors_queue.study_test_retest(study=study),
        "flags": selectors_queue.study_cannot_assess(study=study),
        "middle": (study.scale_min + study.scale_max) // 2,
    }
    return render(request, "review/study_guidance.html", context)
