"""Read-only API of an annotation audit (coordinators only): the results per field and
the verified dataset as JSON Lines, the same content as the coordinator's downloads."""

from __future__ import annotations

import math
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from review.audit_study import dataset
from review.audit_study.results import audit_data, audit_results
from review.models import Study
from review.permissions import IsCoordinator
from review.services import audit_log


def _clean(value: Any) -> Any:
    """NaN and infinities as null (strict JSON); numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _audit_study(pk: int) -> Study:
    return get_object_or_404(Study, pk=pk, kind=Study.Kind.ANNOTATION_AUDIT)


class AuditResultsView(APIView):
    permission_classes = [IsAuthenticated, IsCoordinator]

    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        description="An annotation audit's results: per field and overall (`fields`), "
        "precision of values and spans, recall from added annotations, with bootstrap "
        "CIs; agreement on the verdicts (`agreement`). NaN is null.",
    )
    def get(self, request: Request, pk: int) -> Response:
        study = _audit_study(pk)
        results = audit_results(data=audit_data(study=study))
        audit_log(actor=request.user, action="export.audit_api", study=study, target=study.code)
        return Response(
            {
                "study": study.code,
                "fields": _clean(results.metrics),
                "agreement": _clean(dict(results.agreement)),
            }
        )


class AuditVerifiedView(APIView):
    permission_classes = [IsAuthenticated, IsCoordinator]

    @extend_schema(
        responses={(200, "application/x-ndjson"): OpenApiTypes.STR},
        description="The verified dataset of an annotation audit as JSON Lines: one report "
        "a line with the model's annotations, each reviewer's verdicts and additions, the "
        "adjudication and the verified labels (character offsets).",
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        study = _audit_study(pk)
        data = audit_data(study=study)
        audit_log(actor=request.user, action="export.verified_api", study=study, target=study.code)
        return HttpResponse(
            "".join(dataset.verified_lines(data)), content_type="application/x-ndjson"
        )
