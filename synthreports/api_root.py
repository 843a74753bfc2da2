"""GET /api/v1/: the API's entry points as absolute links, so an integrator (or a browser)
landing on the root finds the schema, the documentation and every collection."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

# (key, URL name): every collection or entry point an API client starts from.
ROOT_LINKS = (
    ("schema", "api-schema"),
    ("docs", "api-docs"),
    ("my_queue", "api-my-queue"),
    ("studies", "study-list"),
    ("reports", "report-list"),
    ("imports", "api-report-import"),
    ("batches", "api-batch-create"),
)


class ApiRootView(APIView):
    # Like the schema, the root describes endpoints, not data: it answers before login.
    permission_classes = [AllowAny]

    @extend_schema(
        responses=inline_serializer(
            "ApiRoot", {key: serializers.URLField() for key, _name in ROOT_LINKS}
        ),
        summary="Links to the API's entry points",
    )
    def get(self, request: Request) -> Response:
        return Response({key: reverse(name, request=request) for key, name in ROOT_LINKS})
