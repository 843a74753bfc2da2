"""POST /api/v1/imports/: real reports from a file, for scripts (coordinators only).

The same preparation and the same all-or-nothing commit as Reports → Import, in one call:
`dry_run=true` answers what the page's preview shows (and stores nothing); otherwise the
reports are imported, or none of them and every problem is listed by line or file.
"""

from pathlib import Path

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from review.imports.forms import ReportImportForm
from review.imports.parsing import (
    ImportLimits,
    ImportOptions,
    ImportProblem,
    upload_too_large_message,
)
from review.imports.services import ImportRejected, report_import_commit, report_import_preview
from review.models import Report
from review.permissions import IsCoordinator, request_user


def _choices(field_name: str) -> list[str]:
    """The values the page's form accepts for one field: one list of options for both."""
    field = ReportImportForm.base_fields[field_name]
    return [str(value) for value, _label in field.choices]  # type: ignore[attr-defined]


class ReportImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A ZIP of .txt files, a CSV or a JSONL file.")
    file_format = serializers.ChoiceField(
        choices=_choices("file_format"),
        required=False,
        default="",
        help_text="txt, csv or jsonl; empty: from the file name.",
    )
    text_column = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=200
    )
    id_column = serializers.CharField(required=False, default="", allow_blank=True, max_length=200)
    encoding = serializers.ChoiceField(
        choices=_choices("encoding"),
        required=False,
        default="",
        help_text="Empty: detect (UTF-8, else Windows-1252/Latin-1).",
    )
    language = serializers.ChoiceField(choices=_choices("language"), default="fr")
    dry_run = serializers.BooleanField(
        default=False, help_text="Prepare and check only: nothing is stored."
    )


class ImportProblemSerializer(serializers.Serializer):
    location = serializers.CharField(help_text='"line 12", "file cr/001.txt" or empty.')
    message = serializers.CharField()


def _problems(problems: list[ImportProblem]) -> list[dict[str, str]]:
    return [{"location": problem.location, "message": problem.message} for problem in problems]


class ReportImportView(APIView):
    permission_classes = [IsAuthenticated, IsCoordinator]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request=ReportImportRequestSerializer,
        responses={
            200: inline_serializer(
                "ReportImportDryRun",
                {
                    "dry_run": serializers.BooleanField(),
                    "file_name": serializers.CharField(),
                    "file_format": serializers.CharField(),
                    "encoding": serializers.CharField(),
                    "count": serializers.IntegerField(),
                    "placeholders_replaced": serializers.IntegerField(),
                    "problems": ImportProblemSerializer(many=True),
                },
            ),
            201: inline_serializer(
                "ReportImportDone",
                {
                    "id": serializers.IntegerField(),
                    "file_name": serializers.CharField(),
                    "file_format": serializers.CharField(),
                    "encoding": serializers.CharField(),
                    "report_count": serializers.IntegerField(),
                    "report_codes": serializers.ListField(child=serializers.CharField()),
                },
            ),
            # Either shape: a schema naming only one would be untrue for the other.
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="{field: [messages]} for a malformed request; or, when the "
                'file has problems, {detail, code: "import_rejected", problems: '
                "[{location, message}, ...]} listing every one (nothing was imported).",
            ),
            413: inline_serializer("ReportImportTooLarge", {"detail": serializers.CharField()}),
        },
        description="Import real reports from one file (all or nothing). The report codes "
        "returned go to POST /api/v1/studies/{id}/add-reports/.",
    )
    def post(self, request: Request) -> Response:
        payload = ReportImportRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fields = dict(payload.validated_data)
        upload = fields.pop("file")
        dry_run = fields.pop("dry_run")
        options = ImportOptions(**fields)
        limits = ImportLimits.from_settings()
        if upload.size > limits.max_upload_bytes:
            return Response(
                {"detail": upload_too_large_message(upload.size, limits)},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        data = upload.read()
        file_name = Path(upload.name or "upload").name[:255]
        if dry_run:
            preview = report_import_preview(
                data=data, file_name=file_name, options=options, limits=limits
            )
            return Response(
                {
                    "dry_run": True,
                    "file_name": preview.file_name,
                    "file_format": preview.file_format,
                    "encoding": preview.encoding,
                    "count": preview.count,
                    "placeholders_replaced": preview.replacement_count,
                    "problems": _problems(preview.problems),
                }
            )
        try:
            report_import = report_import_commit(
                data=data,
                file_name=file_name,
                created_by=request_user(request),
                options=options,
                limits=limits,
            )
        except ImportRejected as exc:
            return Response(
                {"detail": exc.message, "code": exc.code, "problems": _problems(exc.problems)},
                status=exc.status_code,
            )
        codes = list(
            Report.objects.filter(report_import=report_import)
            .order_by("id")
            .values_list("code", flat=True)
        )
        return Response(
            {
                "id": report_import.pk,
                "file_name": report_import.file_name,
                "file_format": report_import.file_format,
                "encoding": report_import.encoding,
                "report_count": report_import.report_count,
                "report_codes": codes,
            },
            status=status.HTTP_201_CREATED,
        )
