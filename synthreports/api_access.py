"""Who may read the API's documentation: the schema, its Swagger page and DRF's browsable
pages describe every endpoint and field, coordinator ones included (source, provenance,
batches). A reviewer reading them learns what the blinded views hide, so only coordinators
(and integrators with a coordinator's token) may.

Kept apart from `synthreports.openapi`: DRF imports the content negotiation class named in
settings while its own views module loads, and the schema module imports those views.
"""

from rest_framework.exceptions import PermissionDenied
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import BasePermission

from review.permissions import user_is_coordinator

DOCUMENTATION_REFUSED = "The API documentation is for coordinators."


class SchemaReaders(BasePermission):
    message = DOCUMENTATION_REFUSED

    def has_permission(self, request, view):
        return user_is_coordinator(request.user)


class BrowsableForCoordinators(DefaultContentNegotiation):
    """DRF's browsable HTML pages only for coordinators; anyone else asking for them gets 403
    (the refusal itself is rendered as JSON, the first renderer)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer, media_type = super().select_renderer(request, renderers, format_suffix)
        # By format name: importing BrowsableAPIRenderer here would import DRF's views.
        if renderer.format == "api" and not user_is_coordinator(request.user):
            raise PermissionDenied(DOCUMENTATION_REFUSED)
        return renderer, media_type
