"""Who may reach which page: reviewers rate, coordinators set up and read results."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from review.selectors import user_is_coordinator, user_is_reviewer


class AuthenticatedRequest(HttpRequest):
    """What views behind the decorators below receive (for type checkers)."""

    user: User
    htmx: HtmxDetails


def coordinator_required(view: Callable) -> Callable:
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not user_is_coordinator(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def reviewer_required(view: Callable) -> Callable:
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not user_is_reviewer(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
