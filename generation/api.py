"""REST API of the generation app (coordinators only): launch batches and follow them."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from generation import selectors, services
from generation.backends import BACKEND_NAMES
from generation.models import Batch, ProviderJob
from review.permissions import IsCoordinator
from synthreports.serializer_fields import (
    StrictBooleanField,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
)


class BatchLaunchSerializer(serializers.Serializer):
    # Shape only: the bounds and the look-ups (frame, prompt, model, backend configured) are
    # checked once, in services.batch_launch, for the page, the API and the CLI alike.
    # The bounds are in the schema too (integrators and the fuzz test rely on it).
    count = StrictIntegerField(
        min_value=1,
        max_value=settings.GENERATION_MAX_BATCH_SIZE,
        help_text="Number of reports (1..GENERATION_MAX_BATCH_SIZE).",
    )
    frame = StrictCharField(
        required=False, allow_blank=True, help_text="Frame name or name@version; default frame."
    )
    prompt = StrictCharField(
        required=False, allow_blank=True, help_text="Prompt label (name-vN) or name; latest."
    )
    backend = serializers.ChoiceField(choices=BACKEND_NAMES, required=False)
    model = StrictCharField(required=False, allow_blank=True)
    temperature = StrictFloatField(required=False, min_value=0, max_value=2, default=0.7)
    seed = StrictIntegerField(required=False, allow_null=True, min_value=0, max_value=2**31 - 1)
    language = serializers.ChoiceField(choices=["fr", "en"], default="fr")
    site_filter = StrictCharField(required=False, allow_blank=True, default="")
    name = StrictCharField(required=False, allow_blank=True, max_length=120, default="")
    mode = serializers.ChoiceField(choices=["direct", "batch_api"], default="direct")
    critique = StrictBooleanField(
        default=True, help_text="Two-pass prompts: checker, LLM judge and revisions."
    )
    judge_backend = StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=32,
        help_text="A backend of the registry with a language model; empty: the writer's.",
    )
    judge_model = StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=100,
        help_text="A model of the judge's backend; empty: the writer's model (same backend) "
        "or the judge backend's first model.",
    )
    max_revisions = StrictIntegerField(
        required=False, min_value=0, help_text="At most GENERATION_MAX_REVISIONS."
    )


class BatchProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    pending = serializers.IntegerField()
    running = serializers.IntegerField()
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField()
    flagged = serializers.IntegerField()
    tokens_in = serializers.IntegerField()
    tokens_out = serializers.IntegerField()
    cost_eur = serializers.FloatField()
    per_minute = serializers.FloatField(allow_null=True)
    eta_seconds = serializers.IntegerField(allow_null=True)
    finished = serializers.BooleanField()
    conform = serializers.IntegerField()
    not_conform = serializers.IntegerField()
    judge_unavailable = serializers.IntegerField()


class FailureSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    attempts = serializers.IntegerField()
    error = serializers.CharField()


class ProviderJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProviderJob
        fields = [
            "job_id",
            "stage",
            "round",
            "lines",
            "status",
            "submitted_at",
            "finished_at",
            "outcome",
        ]
        read_only_fields = fields


class BatchSerializer(serializers.ModelSerializer):
    frame = serializers.CharField(source="frame.label")
    prompt = serializers.CharField(source="prompt.label")
    guideline = serializers.CharField(
        source="guideline.label",
        allow_null=True,
        default=None,
        help_text="Clinical knowledge base (name@version) the scenarios were drawn with.",
    )
    # Not the model field's choices: "" (the writer's backend) is a value too.
    judge_backend = serializers.CharField(
        read_only=True, help_text="The judge's backend; empty: the writer's."
    )
    progress = serializers.SerializerMethodField()
    failures = serializers.SerializerMethodField()
    # A Batch API batch's jobs at the provider, in order (a two-pass chain has one per step).
    provider_jobs = ProviderJobSerializer(many=True, read_only=True)

    class Meta:
        model = Batch
        fields = [
            "id",
            "name",
            "status",
            "count",
            "backend",
            "model",
            "temperature",
            "seed",
            "language",
            "site_filter",
            "frame",
            "prompt",
            "mode",
            "provider_job_id",
            "provider_status",
            "provider_jobs",
            "critique",
            "judge_backend",
            "judge_model",
            "max_revisions",
            "guideline",
            "created_at",
            "finished_at",
            "progress",
            "failures",
        ]
        read_only_fields = fields

    # Progress and failures are computed per batch: this serializer is used for one batch
    # at a time (detail, launch, cancel), never for a list.
    @extend_schema_field(BatchProgressSerializer)
    def get_progress(self, batch: Batch) -> dict:
        return BatchProgressSerializer(selectors.batch_progress(batch=batch)).data

    @extend_schema_field(FailureSerializer(many=True))
    def get_failures(self, batch: Batch) -> list[dict]:
        return [
            {"index": item.index, "attempts": item.attempts, "error": item.error}
            for item in selectors.batch_failures(batch=batch)
        ]


class RetryFailedSerializer(serializers.Serializer):
    requeued = serializers.IntegerField()
    batch = BatchSerializer()


# Re-read after every action: the services update the rows with conditional UPDATEs, so the
# instance a view holds may be stale.
def _batch(pk: int) -> Batch:
    return get_object_or_404(Batch.objects.select_related("frame", "prompt", "guideline"), pk=pk)


class BatchCreateView(APIView):
    permission_classes = [IsAuthenticated, IsCoordinator]

    @extend_schema(
        request=BatchLaunchSerializer,
        responses={201: BatchSerializer, 200: BatchSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="Any unique string (at most 100 characters): a launch replayed "
                "with the same key returns the batch the first created (200), not a new one.",
            )
        ],
    )
    def post(self, request: Request) -> Response:
        payload = BatchLaunchSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        key = request.headers.get("Idempotency-Key", "").strip()
        # A replay answers 200 with the batch already launched; launching it again is a
        # no-op in the service too, which also settles two replays arriving at once.
        replayed = services.batch_for_idempotency_key(created_by=request.user, key=key)
        if replayed is not None:
            return Response(BatchSerializer(_batch(replayed.pk)).data, status=status.HTTP_200_OK)
        # InvalidInput / Conflict from the service become 400 / 409 in the project's DRF
        # exception handler, with the same message as the page shows.
        batch = services.batch_launch(
            count=data["count"],
            frame=data.get("frame") or None,
            prompt=data.get("prompt") or None,
            backend=data.get("backend") or settings.GENERATION_DEFAULT_BACKEND,
            model=data.get("model") or None,
            temperature=data["temperature"],
            seed=data.get("seed"),
            language=data["language"],
            site_filter=data["site_filter"],
            name=data["name"],
            mode=data["mode"],
            critique=data["critique"],
            judge_backend=data["judge_backend"],
            judge_model=data["judge_model"],
            max_revisions=data.get("max_revisions"),
            created_by=request.user,
            idempotency_key=key,
        )
        return Response(BatchSerializer(_batch(batch.pk)).data, status=status.HTTP_201_CREATED)


class BatchDetailView(APIView):
    permission_classes = [IsAuthenticated, IsCoordinator]

    @extend_schema(responses=BatchSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(BatchSerializer(_batch(pk)).data)


class BatchCancelView(APIView):
    permission_classes = [IsAuthenticated, IsCoordinator]

    @extend_schema(request=None, responses=BatchSerializer)
    def post(self, request: Request, pk: int) -> Response:
        services.batch_cancel(batch=_batch(pk), actor=request.user)
        return Response(BatchSerializer(_batch(pk)).data)


class BatchRetryFailedView(APIView):
    permission_classes = [IsAuthenticated, IsCoordinator]

    @extend_schema(request=None, responses=RetryFailedSerializer)
    def post(self, request: Request, pk: int) -> Response:
        count = services.batch_retry_failed(batch=_batch(pk), actor=request.user)
        return Response({"requeued": count, "batch": BatchSerializer(_batch(pk)).data})
