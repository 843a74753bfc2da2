"""The reviewer's API: their queue, one blinded assignment, saving ratings, submitting.

Every response is a blinded dataclass from `review.selectors` mapped field by field: the
text is already normalised there, so these serializers hold no presentation logic and no
Report ever reaches them.
"""

import re

from django.db import transaction
from django.utils.translation import get_language
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from review import selectors, services
from review.computations import computations_schedule
from review.models import Assignment
from review.permissions import IsReviewer, request_user
from synthreports.openapi import ERROR_RESPONSES
from synthreports.pagination import BoundedLimitOffsetPagination
from synthreports.serializer_fields import StrictCharField, StrictIntegerField


class QueueEntrySerializer(serializers.Serializer):
    code = serializers.CharField()
    report_code = serializers.CharField()
    position = serializers.IntegerField()
    status = serializers.CharField()


def _str(value: object) -> str | None:
    # What serializers.CharField answers, None kept as null as Serializer does.
    return None if value is None else str(value)


def _int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


class BlindedDomainSerializer(serializers.Serializer):
    key = serializers.CharField()
    # The protocol's field names happen to shadow attributes of DRF's Field class.
    label = serializers.CharField()  # type: ignore[assignment]
    help_text = serializers.CharField()  # type: ignore[assignment]
    anchor_low = serializers.CharField()
    anchor_high = serializers.CharField()
    score = serializers.IntegerField(allow_null=True)

    def to_representation(self, instance: selectors.BlindedDomain) -> dict:
        # See BlindedAssignmentSerializer.to_representation.
        return _domain_data(instance)


def _domain_data(domain: selectors.BlindedDomain) -> dict:
    return {
        "key": _str(domain.key),
        "label": _str(domain.label),
        "help_text": _str(domain.help_text),
        "anchor_low": _str(domain.anchor_low),
        "anchor_high": _str(domain.anchor_high),
        "score": _int(domain.score),
    }


class BlindedAssignmentSerializer(serializers.Serializer):
    code = serializers.CharField()
    report_code = serializers.CharField()
    study_code = serializers.CharField()
    study_name = serializers.CharField()
    study_open = serializers.BooleanField()
    status = serializers.CharField()
    position = serializers.IntegerField()
    queue_length = serializers.IntegerField()
    text = serializers.CharField(read_only=True)  # never sent by a client
    domains = BlindedDomainSerializer(many=True)
    scale_min = serializers.IntegerField()
    scale_max = serializers.IntegerField()
    comment = serializers.CharField(allow_blank=True)

    def to_representation(self, instance: selectors.BlindedAssignment) -> dict:
        """The fields declared above, in their order, as DRF's generic representation
        gives them, without its per-answer deep copy of every field object (~0.5 ms of the
        CPU of `next`, the API's most requested answer: issue 21). The declarations stay
        the schema; tests/review/api/test_reviewer_next.py holds the two to the same output."""
        return {
            "code": _str(instance.code),
            "report_code": _str(instance.report_code),
            "study_code": _str(instance.study_code),
            "study_name": _str(instance.study_name),
            "study_open": bool(instance.study_open),
            "status": _str(instance.status),
            "position": _int(instance.position),
            "queue_length": _int(instance.queue_length),
            "text": _str(instance.text),
            "domains": [_domain_data(domain) for domain in instance.domains],
            "scale_min": _int(instance.scale_min),
            "scale_max": _int(instance.scale_max),
            "comment": _str(instance.comment),
        }


class RatingsPutSerializer(serializers.Serializer):
    scores = serializers.DictField(child=StrictIntegerField(), allow_empty=True)
    comment = StrictCharField(required=False, allow_blank=True, max_length=5000)


class SubmitSerializer(serializers.Serializer):
    """The submit's optional body: the scores (and comment) to save with it, all or nothing."""

    scores = serializers.DictField(child=StrictIntegerField(), required=False, allow_empty=True)
    comment = StrictCharField(required=False, allow_blank=True, max_length=5000)


class MyQueueView(APIView):
    permission_classes = [IsAuthenticated, IsReviewer]

    @extend_schema(responses=QueueEntrySerializer(many=True))
    def get(self, request: Request) -> Response:
        entries = selectors.reviewer_queue(
            reviewer=request_user(request), study_code=request.query_params.get("study") or None
        )
        return Response(QueueEntrySerializer(entries, many=True).data)


# A study's code ("S-" and letters and digits): documented as such, so that a client (and
# the schema fuzz test) knows a value with other characters is refused.
STUDY_CODE_SCHEMA = {"type": "string", "pattern": "^[A-Za-z0-9-]{1,16}$"}
_STUDY_CODE = re.compile(STUDY_CODE_SCHEMA["pattern"])


def _study_code(request: Request, *, required: bool) -> str | None:
    """The `study` query parameter, refused (400) when given but not a study code."""
    code = request.query_params.get("study")
    if code is None and not required:
        return None
    if not code:
        raise ValidationError({"study": ["This parameter is required."]})
    if not _STUDY_CODE.fullmatch(code):
        raise ValidationError({"study": ["Not a study code."]})
    return code


STUDY_PARAMETER = OpenApiParameter(
    "study", STUDY_CODE_SCHEMA, required=True, description="The study's code."
)


class MyQueuePageView(ListAPIView):
    """The reviewer's queue a page at a time (`limit`, `offset`), optionally one study's and
    one status's: an integrator with a long queue need not fetch it whole."""

    permission_classes = [IsAuthenticated, IsReviewer]
    pagination_class = BoundedLimitOffsetPagination
    serializer_class = QueueEntrySerializer

    def get_queryset(self):
        status = self.request.query_params.get("status") or ""
        if status and status not in Assignment.Status.values:
            raise ValidationError({"status": [f"One of: {', '.join(Assignment.Status.values)}."]})
        return selectors.reviewer_queue_rows(
            reviewer=request_user(self.request),
            study_code=_study_code(self.request, required=False),
            status=status,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("study", STUDY_CODE_SCHEMA, description="Only this study's."),
            OpenApiParameter(
                "status", OpenApiTypes.STR, enum=list(Assignment.Status.values), description=""
            ),
        ]
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        paginator = self.paginator
        assert paginator is not None
        page: list | None = paginator.paginate_queryset(self.get_queryset(), request, view=self)
        entries = selectors.queue_entries(page or [])
        return paginator.get_paginated_response(QueueEntrySerializer(entries, many=True).data)


class MyNextView(APIView):
    """The reviewer's next unsubmitted assignment of a study, with its blinded text and
    domains, in one request: what the rating page shows. 204 when every one is submitted."""

    permission_classes = [IsAuthenticated, IsReviewer]

    @extend_schema(
        parameters=[STUDY_PARAMETER],
        responses={
            200: BlindedAssignmentSerializer,
            204: OpenApiResponse(description="Every assignment of the study is submitted."),
            404: ERROR_RESPONSES["404"],
        },
    )
    def get(self, request: Request) -> Response:
        study_code = _study_code(request, required=True)
        assert study_code is not None
        blinded = selectors.reviewer_next_assignment(
            reviewer=request_user(request), study_code=study_code, language=get_language()
        )
        if blinded is None:
            return Response(status=204)
        return Response(BlindedAssignmentSerializer(blinded).data)


class MyAssignmentView(APIView):
    permission_classes = [IsAuthenticated, IsReviewer]

    @extend_schema(responses=BlindedAssignmentSerializer)
    def get(self, request: Request, code: str) -> Response:
        assignment = selectors.reviewer_assignment(
            reviewer=request_user(request), code=code, language=get_language()
        )
        return Response(BlindedAssignmentSerializer(assignment).data)


# RFC 7240: a client that sends "Prefer: return=minimal" with a PUT of scores or a submit
# does not want the assignment echoed back (its text and domains: two more queries and the
# largest part of the response), and gets 204 with "Preference-Applied: return=minimal".
PREFER_PARAMETER = OpenApiParameter(
    "Prefer",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    # Not an enum: RFC 7240 has a server ignore the preferences it does not know.
    description="return=minimal: answer 204 without the assignment (RFC 7240); any other "
    "preference is ignored.",
)
_MINIMAL_RESPONSE = OpenApiResponse(
    description="Done; the assignment is not echoed (Prefer: return=minimal)."
)


def _minimal_preferred(request: Request) -> bool:
    preferences = request.headers.get("Prefer", "")
    return any(
        token.split(";")[0].strip().replace(" ", "").lower() == "return=minimal"
        for token in preferences.split(",")
    )


def _answer(request: Request, *, reviewer, code: str) -> Response:
    """The assignment as it now stands, unless the client asked for a minimal answer."""
    if _minimal_preferred(request):
        return Response(status=204, headers={"Preference-Applied": "return=minimal"})
    blinded = selectors.reviewer_assignment(reviewer=reviewer, code=code, language=get_language())
    return Response(BlindedAssignmentSerializer(blinded).data)


class MyRatingsView(APIView):
    permission_classes = [IsAuthenticated, IsReviewer]

    @extend_schema(
        request=RatingsPutSerializer,
        parameters=[PREFER_PARAMETER],
        responses={200: BlindedAssignmentSerializer, 204: _MINIMAL_RESPONSE},
    )
    def put(self, request: Request, code: str) -> Response:
        payload = RatingsPutSerializer(data=request.data)
        # The usual PUT (scores only, on a report not yet submitted) in one statement;
        # anything else, refusals included, takes the path below, which says why.
        if not (
            payload.is_valid()
            and payload.validated_data.get("comment") is None
            and services.ratings_put_in_one_statement(
                reviewer_id=request_user(request).pk,
                code=code,
                scores=payload.validated_data["scores"],
            )
        ):
            assignment = selectors.assignment_for_reviewer_update(
                reviewer=request_user(request), code=code
            )
            payload.is_valid(raise_exception=True)
            services.assignment_ratings_put(
                assignment=assignment,
                scores=payload.validated_data["scores"],
                comment=payload.validated_data.get("comment"),
            )
        # Answered with the whole assignment as it now stands, so a client needs no
        # second request to show the saved scores.
        return _answer(request, reviewer=request_user(request), code=code)


class MySubmitView(APIView):
    permission_classes = [IsAuthenticated, IsReviewer]

    @extend_schema(
        request=SubmitSerializer,
        parameters=[PREFER_PARAMETER],
        responses={200: BlindedAssignmentSerializer, 204: _MINIMAL_RESPONSE},
        description="Submit the assignment. Every domain of the study must be scored first "
        "(400, code `incomplete`, naming the missing domains); a second submit is a 409. "
        "The body is optional: `scores` (and `comment`) are saved as the PUT of `ratings/` "
        "saves them, in the same transaction as the submit, so one request rates a report; "
        "if the submit is refused, none of them is saved.",
    )
    def post(self, request: Request, code: str) -> Response:
        payload = SubmitSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        scores = payload.validated_data.get("scores") or {}
        comment = payload.validated_data.get("comment")
        reviewer_id = request_user(request).pk
        if scores:
            submitted = services.assignment_submit_with_scores_in_three_statements(
                reviewer_id=reviewer_id, code=code, scores=scores, comment=comment
            )
        else:
            submitted = services.assignment_submit_in_two_statements(
                reviewer_id=reviewer_id, code=code, comment=comment
            )
        if submitted is not None:
            study_id = submitted.study_id
        else:
            # Not complete, already submitted, closed, not theirs, a score refused: the slow
            # path says which, and its transaction takes the scores back with the refusal.
            assignment = selectors.assignment_for_reviewer_update(
                reviewer=request_user(request), code=code
            )
            with transaction.atomic():
                if scores or comment is not None:
                    services.assignment_ratings_put(
                        assignment=assignment, scores=scores, comment=comment
                    )
                services.assignment_submit(assignment=assignment)
            study_id = assignment.study_id
        computations_schedule(study_id=study_id)
        return _answer(request, reviewer=request_user(request), code=code)
