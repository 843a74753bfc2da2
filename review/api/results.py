"""GET /api/v1/studies/{id}/results/: the study's figures as JSON (coordinators only)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from review.models import Study
from review.permissions import IsCoordinator
from review.results import study_results
from review.services import audit_log
from review.stats.notes import NOTE_LABELS


class StudyResultsView(APIView):
    permission_classes = [IsAuthenticated, IsCoordinator]

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        description="Descriptives, real vs synthetic comparison, agreement, reviewer offsets, "
        "AI-authorship detection and breakdown by batch/model/prompt version; NaN is null. "
        "Each `note` holds codes joined by ';', explained in `note_labels`.",
    )
    def get(self, request: Request, pk: int) -> Response:
        study = get_object_or_404(Study, pk=pk)
        results = study_results(study=study, with_plots=False)
        audit_log(actor=request.user, action="export.results_api", study=study, target=study.code)
        return Response(
            {
                "study": study.code,
                "domain_labels": results.domain_labels,
                # Notes are codes ("a;b"); their English sentences, once, for integrators.
                "note_labels": NOTE_LABELS,
                **results.figures,
            }
        )
