"""Pagination of every API list: a maximum page size, and limits and offsets parsed strictly.

DRF's LimitOffsetPagination has no maximum by default (`?limit=1000000` returned every
report with its source in one answer) and passes any offset to the database, where one
above 2^63 overflowed PostgreSQL's bigint (a 500)."""

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

# Offsets beyond this are no page of any table this app holds.
MAX_OFFSET = 10**9


def _bounded_int(request, name: str, *, maximum: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10) or int(raw) > maximum:
        raise ValidationError({name: [f"Must be a whole number from 0 to {maximum}."]})
    return int(raw)


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    default_limit: int = int(settings.REST_FRAMEWORK.get("PAGE_SIZE", 100))  # type: ignore[call-overload]
    max_limit: int = settings.API_MAX_PAGE_SIZE

    def get_limit(self, request):
        limit = _bounded_int(request, self.limit_query_param, maximum=MAX_OFFSET)
        if limit is None or limit == 0:
            return self.default_limit
        return min(limit, self.max_limit)

    def get_offset(self, request):
        return _bounded_int(request, self.offset_query_param, maximum=MAX_OFFSET) or 0

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"] = {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}
            if parameter["name"] == self.limit_query_param:
                parameter["description"] = (
                    f"Number of results to return per page (at most {self.max_limit})."
                )
        return parameters
