"""REST API of the review app (/api/v1/), one module per side as in `review.views`.

Reviewer endpoints (`reviewer`) serialise the blinded dataclasses from `review.selectors`,
never a Report; coordinator endpoints (`coordinator`, `imports`, `results`) see sources and
provenance. Both call the same services and selectors as the pages. Routes: `urls`.
"""

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from review.exceptions import ServiceError


def exception_handler(exc, context):
    """DRF's handler, plus the services' refusals as {detail, code} with their status: the
    API answers a rule broken in a service exactly as a page would show it."""
    if isinstance(exc, ServiceError):
        return Response({"detail": exc.message, "code": exc.code}, status=exc.status_code)
    return drf_exception_handler(exc, context)
