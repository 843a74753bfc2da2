"""The OpenAPI schema documents the error answers every endpoint can give, not only its
success: integrators (and the schemathesis fuzz test) rely on the schema being truthful.

- 400 everywhere: the input boundary refuses NUL and lone surrogates in any query
  parameter, list endpoints refuse a limit or offset out of range, writes get validation
  errors per field or a service's {detail, code};
- 401 everywhere (with WWW-Authenticate: Token) without valid credentials, 403 for a user
  without the right role;
- 404 where the path names an object;
- 409 on writes to a named object (a state change the object's state forbids);
- 413 and 415 on writes: a body above API_MAX_JSON_BYTES, a body that is not JSON.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ERROR = inline_serializer(
    "Error",
    fields={
        "detail": serializers.CharField(),
        "code": serializers.CharField(required=False),
    },
)
ERROR_RESPONSES = {
    "400": OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="Invalid input: {field: [messages]} for a malformed request, "
        "or {detail, code} for a request the service refused.",
    ),
    "401": OpenApiResponse(ERROR, description="No valid credentials (WWW-Authenticate: Token)."),
    "403": OpenApiResponse(ERROR, description="Not allowed for this role."),
    "404": OpenApiResponse(ERROR, description="No such object (or not yours)."),
    "409": OpenApiResponse(ERROR, description="The object's state forbids this change."),
    "413": OpenApiResponse(ERROR, description="The request body is too large."),
    "415": OpenApiResponse(ERROR, description="The request body is not JSON."),
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class ErrorDocumentingAutoSchema(AutoSchema):
    def _error_codes(self) -> list[str]:
        names_object = "{" in self.path
        codes = ["400", "401", "403"]
        if names_object:
            codes.append("404")
        if self.method in WRITE_METHODS:
            codes.extend(["413", "415"])
            if names_object:
                codes.append("409")
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    ERROR_RESPONSES[code], code, direction=direction
                )
        return responses
