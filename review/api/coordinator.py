"""The coordinator's API: studies (create, add reports, open, close, progress) and reports
with their source and provenance. Imports and results have their own modules.
"""

from django.contrib.auth import get_user_model
from django.db import models, transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from review import selectors, services
from review.blinding.wording import study_source_words
from review.models import Report, Study
from review.permissions import IsCoordinator, request_user
from synthreports.serializer_fields import StrictCharField, StrictFloatField, StrictIntegerField


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
    # Words of the name or description that could tell reviewers the sources: the API's
    # counterpart of the warning the study page shows.
    source_words = serializers.SerializerMethodField()
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
            "source_words",
            "reviewers",
        ]
        read_only_fields = ["id", "code", "status", "created_at", "opened_at", "closed_at"]
        # The bounds the services and the database enforce, in the schema too. scale_min
        # below scale_max and a positive margin are checked by the service (400).
        extra_kwargs = {
            "seed": {"required": False, "min_value": 0, "max_value": 2**31 - 1},
            "raters_per_report": {"min_value": 1, "max_value": 100},
            "scale_min": {"min_value": 0, "max_value": 99},
            "scale_max": {"min_value": 1, "max_value": 100},
            "noninferiority_margin": {
                "min_value": 0,
                "help_text": "Greater than 0, in points of the scale.",
            },
        }

    # JSON types as the schema says: 0 is not a name, "2" is not a number.
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
        models.FloatField: StrictFloatField,
    }

    def get_report_count(self, study) -> int:
        return study.memberships.count()

    def get_source_words(self, study) -> list[str]:
        return study_source_words(name=study.name, description=study.description)


class ReportCodesSerializer(serializers.Serializer):
    report_codes = serializers.ListField(child=StrictCharField(), allow_empty=False)


class ReviewerProgressSerializer(serializers.Serializer):
    pseudonym = serializers.CharField()
    username = serializers.CharField()
    active = serializers.BooleanField()
    total = serializers.IntegerField()
    submitted = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    active_ms = serializers.IntegerField()


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
            created_by=request_user(self.request),
        )
        if data.get("reviewers"):
            services.study_reviewers_set(
                study=study, reviewers=data["reviewers"], actor=request_user(self.request)
            )
        serializer.instance = study

    def create(self, request, *args, **kwargs):
        # The study and its panel are created together or not at all.
        with transaction.atomic():
            return super().create(request, *args, **kwargs)

    @extend_schema(request=ReportCodesSerializer, responses=StudySerializer)
    @action(detail=True, methods=["post"], url_path="add-reports")
    def add_reports(self, request, pk=None):
        study = self.get_object()
        payload = ReportCodesSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        codes = set(payload.validated_data["report_codes"])
        # Only what the check and the insert read: loading 2,000 whole reports (texts,
        # provenance) cost more than adding them.
        report_ids = Report.objects.ids_by_code(codes)
        unknown = sorted(codes - report_ids.keys())
        if unknown:
            raise ValidationError({"report_codes": [f"Unknown report codes: {', '.join(unknown)}"]})
        services.study_report_ids_add(study=study, report_ids=report_ids.values())
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

    def list(self, request, *args, **kwargs):
        # A page of reports with their sources: audited, naming every report on it. The
        # page size is bounded (API_MAX_PAGE_SIZE), so no single read returns them all.
        response = super().list(request, *args, **kwargs)
        selectors.report_list_unblinded(
            actor=request.user,
            codes=[row["code"] for row in response.data["results"]],
            where="api",
        )
        return response

    def retrieve(self, request, *args, **kwargs):
        # Not the viewset's get_object: reading one report unblinds it, and the selector
        # records that in the audit trail.
        report = selectors.report_for_coordinator(code=kwargs["code"], actor=request.user)
        return Response(ReportSerializer(report).data)
