"""Responses to signed-in users are never stored by the browser or a proxy.

A reviewer's pages hold report text and their own scores; a shared workstation's back
button, disk cache or an intermediate proxy must not keep them for the next person (nor
let anyone compare what two reviewers were shown). API answers carry the same data and
may be token-authenticated, which the session middleware does not see, so every /api/
answer is covered too.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class ReviewerNoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/api/") or request.user.is_authenticated:
            # no-store, no-cache, must-revalidate, private, max-age=0.
            add_never_cache_headers(response)
        return response
