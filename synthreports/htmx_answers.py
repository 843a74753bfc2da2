"""Clear answers to htmx requests that cannot be served, instead of a page swapped into a
fragment of another: an expired session gets HX-Redirect to the login page (with a
message, and `next` set to the page the reviewer was on, not the htmx endpoint), a failed
CSRF check a short inline message."""

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.csrf import csrf_failure as django_csrf_failure


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


class HtmxLoginRedirectMiddleware:
    """After the session and htmx middleware: turns login_required's redirect of an htmx
    request (which htmx would follow and swap the login page into a score row) into an
    HX-Redirect of the whole page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        login_url = resolve_url(settings.LOGIN_URL)
        if not (
            _is_htmx(request)
            and response.status_code == 302
            # login_required's redirect (with ?next=), not a view sending to the login page
            and response.get("Location", "").startswith(f"{login_url}?next=")
            and not request.user.is_authenticated
        ):
            return response
        # The page the reviewer was on (same origin only: django-htmx checks it).
        htmx = getattr(request, "htmx", None)
        current = getattr(htmx, "current_url_abs_path", None) or "/"
        messages.warning(
            request,
            _("Your session has expired: sign in again. Your last change was not saved."),
        )
        answer = HttpResponse(status=401)
        answer["HX-Redirect"] = f"{login_url}?{urlencode({'next': current})}"
        return answer


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: for htmx, a message appended to the element being updated (the
    usual cause is a page left open across a new login in another tab); otherwise
    Django's page."""
    if not _is_htmx(request):
        return django_csrf_failure(request, reason)
    response = HttpResponse(
        format_html(
            '<p class="error" role="alert">{}</p>',
            _(
                "This page is out of date (its security token expired, for instance after "
                "signing in again in another tab). Reload the page and try again; your last "
                "change was not saved."
            ),
        ),
        status=403,
    )
    response["HX-Reswap"] = "beforeend"
    return response
