"""REST API of the review app (/api/v1/).

Reviewer endpoints serialise the blinded dataclasses from `review.selectors`, never a
Report; coordinator endpoints see sources and provenance. Both call the same services as
the pages.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from review import selectors, services
from review.exceptions import ServiceError
from review.models import Report, Study


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        return Response({"detail": exc.message, "code": exc.code}, status=exc.status_code)
    return drf_exception_handler(exc, context)


class IsReviewer(BasePermission):
    message = "Only reviewers can use this endpoint."

    def has_permission(self, request, view):
        return selectors.user_is_reviewer(request.user)


class IsCoordinator(BasePermission):
    message = "Only coordinators can use this endpoint."

    def has_permission(self, request, view):
        return selectors.user_is_coordinator(request.user)


def _user(request: Request) -> User:
    """The authenticated user (the permission classes have already refused anonymous)."""
    user = request.user
    assert isinstance(user, User)
    return user


# --- reviewer side -------------------------------------------------------------------


class QueueEntrySerializer(serializers.Serializer):
    code = serializers.CharField()
    report_code = serializers.CharField()
    position = serializers.IntegerField()
    status = serializers.CharField()


class BlindedDomainSerializer(serializers.Serializer):
    key = serializers.CharField()
    # The protocol's field names happen to shadow attributes of DRF's Field class.
    label = serializers.CharField()  # type: ignore[assignment]
    help_text = serializers.CharField()  # type: ignore[assignment]
    anchor_low = serializers.CharField()
    anchor_high = serializers.CharField()
    score = serializers.IntegerField(allow_null=True)


class BlindedAssignmentSerializer(serializers.Serializer):
    code = serializers.CharField()
    report_code = serializers.CharField()
    study_code = serializers.CharField()
    study_name = serializers.CharField()
    study_open = serializers.BooleanField()
    status = serializers.CharField()
    position = serializers.IntegerField()
    queue_length = serializers.IntegerField()
    text = serializers.SerializerMethodField()
    domains = BlindedDomainSerializer(many=True)
    scale_min = serializers.IntegerField()
    scale_max = serializers.IntegerField()
    comment = serializers.CharField(allow_blank=True)

    def get_text(self, assignment) -> str:
        from review.presentation import normalise_text

        return normalise_text(assignment.text)


class RatingsPutSerializer(serializers.Serializer):
    scores = serializers.DictField(child=serializers.IntegerField(), allow_empty=True)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class MyQueueView(APIView):
    permission_classes = [IsAuthenticated, IsReviewer]

    @extend_schema(responses=QueueEntrySerializer(many=True))
    def get(self, request: Request) -> Response:
        entries = selectors.reviewer_queue(
            reviewer=_user(request), study_code=request.query_params.get("study") or None
        )
        return Response(QueueEntrySerializer(entries, many=True).data)


class MyAssignmentView(APIView):
    permission_classes = [IsAuthenticated, IsReviewer]

    @extend_schema(responses=BlindedAssignmentSerializer)
    def get(self, request: Request, code: str) -> Response:
        assignment = selectors.reviewer_assignment(
            reviewer=_user(request), code=code, language=get_language()
        )
        return Response(BlindedAssignmentSerializer(assignment).data)


class MyRatingsView(APIView):
    permission_classes = [IsAuthenticated, IsReviewer]

    @extend_schema(request=RatingsPutSerializer, responses=BlindedAssignmentSerializer)
    def put(self, request: Request, code: str) -> Response:
        assignment = selectors.assignment_for_reviewer_update(reviewer=_user(request), code=code)
        payload = RatingsPutSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.assignment_ratings_put(
            assignment=assignment,
            scores=payload.validated_data["scores"],
            comment=payload.validated_data.get("comment"),
        )
        blinded = selectors.reviewer_assignment(
            reviewer=_user(request), code=code, language=get_language()
        )
        return Response(BlindedAssignmentSerializer(blinded).data)


class MySubmitView(APIView):
    permission_classes = [IsAuthenticated, IsReviewer]

    @extend_schema(request=None, responses=BlindedAssignmentSerializer)
    def post(self, request: Request, code: str) -> Response:
        assignment = selectors.assignment_for_reviewer_update(reviewer=_user(request), code=code)
        services.assignment_submit(assignment=assignment)
        blinded = selectors.reviewer_assignment(
            reviewer=_user(request), code=code, language=get_language()
        )
        return Response(BlindedAssignmentSerializer(blinded).data)


# --- coordinator side ----------------------------------------------------------------


class ReportSerializer(serializers.ModelSerializer):
    report_import: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )

    class Meta:
        model = Report
        fields = [
            "code",
            "source",
            "language",
            "text",
            "external_id",
            "metadata",
            "annotations",
            "provenance",
            "report_import",
            "content_hash",
            "created_at",
        ]
        read_only_fields = fields


class StudySerializer(serializers.ModelSerializer):
    report_count = serializers.SerializerMethodField()
    reviewers = serializers.SlugRelatedField(
        many=True,
        slug_field="username",
        queryset=get_user_model().objects.all(),
        required=False,
        write_only=True,
    )

    class Meta:
        model = Study
        fields = [
            "id",
            "code",
            "name",
            "description",
            "status",
            "raters_per_report",
            "scale_min",
            "scale_max",
            "seed",
            "noninferiority_margin",
            "created_at",
            "opened_at",
            "closed_at",
            "report_count",
            "reviewers",
        ]
        read_only_fields = ["id", "code", "status", "created_at", "opened_at", "closed_at"]
        extra_kwargs = {"seed": {"required": False, "min_value": 0, "max_value": 2**31 - 1}}

    def get_report_count(self, study) -> int:
        return study.memberships.count()


class ReportCodesSerializer(serializers.Serializer):
    report_codes = serializers.ListField(child=serializers.CharField(), allow_empty=False)


class ReviewerProgressSerializer(serializers.Serializer):
    pseudonym = serializers.CharField()
    username = serializers.CharField()
    active = serializers.BooleanField()
    total = serializers.IntegerField()
    submitted = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    active_seconds = serializers.IntegerField()


class StudyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [IsAuthenticated, IsCoordinator]
    serializer_class = StudySerializer
    queryset = Study.objects.order_by("-created_at")

    def perform_create(self, serializer):
        data = serializer.validated_data
        study = services.study_create(
            name=data["name"],
            description=data.get("description", ""),
            raters_per_report=data.get("raters_per_report", 2),
            scale_min=data.get("scale_min", 1),
            scale_max=data.get("scale_max", 10),
            seed=data.get("seed"),
            noninferiority_margin=data.get("noninferiority_margin", 1.0),
            created_by=_user(self.request),
        )
        if data.get("reviewers"):
            services.study_reviewers_set(
                study=study, reviewers=data["reviewers"], actor=_user(self.request)
            )
        serializer.instance = study

    def create(self, request, *args, **kwargs):
        from django.db import transaction

        with transaction.atomic():
            return super().create(request, *args, **kwargs)

    @extend_schema(request=ReportCodesSerializer, responses=StudySerializer)
    @action(detail=True, methods=["post"], url_path="add-reports")
    def add_reports(self, request, pk=None):
        study = self.get_object()
        payload = ReportCodesSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        codes = set(payload.validated_data["report_codes"])
        reports = list(Report.objects.filter(code__in=codes))
        unknown = sorted(codes - {report.code for report in reports})
        if unknown:
            raise ValidationError({"report_codes": [f"Unknown report codes: {', '.join(unknown)}"]})
        services.study_reports_add(study=study, reports=reports)
        return Response(StudySerializer(study).data)

    @extend_schema(request=None, responses=StudySerializer)
    @action(detail=True, methods=["post"])
    def open(self, request, pk=None):
        study = services.study_open(study=self.get_object(), actor=request.user)
        return Response(StudySerializer(study).data)

    @extend_schema(request=None, responses=StudySerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        study = services.study_close(study=self.get_object(), actor=request.user)
        return Response(StudySerializer(study).data)

    @extend_schema(
        responses=inline_serializer(
            "StudyProgress",
            fields={
                "status": serializers.CharField(),
                "reviewers": ReviewerProgressSerializer(many=True),
            },
        )
    )
    @action(detail=True, methods=["get"])
    def progress(self, request, pk=None):
        study = self.get_object()
        rows = selectors.study_progress(study=study)
        return Response(
            {"status": study.status, "reviewers": ReviewerProgressSerializer(rows, many=True).data},
            status=status.HTTP_200_OK,
        )


class ReportViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAuthenticated, IsCoordinator]
    serializer_class = ReportSerializer
    lookup_field = "code"

    def get_queryset(self):
        reports = Report.objects.order_by("-created_at", "-id")
        source = self.request.query_params.get("source")
        if source in Report.Source.values:
            reports = reports.filter(source=source)
        return reports

    def retrieve(self, request, *args, **kwargs):
        report = get_object_or_404(Report, code=kwargs["code"])
        services.audit_log(actor=request.user, action="report.unblinded_view", target=report.code)
        return Response(ReportSerializer(report).data)
