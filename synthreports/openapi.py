"""The OpenAPI schema documents the error answers every endpoint can give, not only its
success: integrators (and the schemathesis fuzz test) rely on the schema being truthful.

- 403 everywhere: every endpoint needs an authenticated user with the right role (an
  anonymous or badly authenticated request gets 403 too, since session authentication
  comes first and sends no WWW-Authenticate challenge);
- 404 where the path names an object;
- 400 on writes (validation errors per field, or a service's {detail, code});
- 409 on writes to a named object (a state change the object's state forbids).
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
    "403": OpenApiResponse(ERROR, description="Not authenticated, or not allowed for this role."),
    "404": OpenApiResponse(ERROR, description="No such object (or not yours)."),
    "409": OpenApiResponse(ERROR, description="The object's state forbids this change."),
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class ErrorDocumentingAutoSchema(AutoSchema):
    def _error_codes(self) -> list[str]:
        names_object = "{" in self.path
        codes = ["403"]
        if names_object:
            codes.append("404")
        if self.method in WRITE_METHODS:
            codes.append("400")
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
