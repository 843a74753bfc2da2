"""One input boundary for every request, before any view or the session machinery sees it.

Refused with a 400 naming the field, and nothing done:
- NUL characters and lone UTF-16 surrogates in the path, query parameters (names and
  values), url-encoded form fields and JSON keys and values. PostgreSQL cannot store either
  in text (a NUL ends a C string; a lone surrogate is not UTF-8), so letting them through
  turned into 500s deep inside the ORM, with the offending value in the error context.
- JSON nested deeper than JSON_MAX_DEPTH (Python's parser recurses, and 10,000 levels
  exhaust its stack).

API requests (/api/) get JSON answers, including a 413 for a body above the API's limit,
instead of Django's HTML "Bad Request (400)". Multipart bodies above Django's
DATA_UPLOAD_MAX_MEMORY_SIZE (file uploads) are left to their views, which check the
declared size before reading them.
"""

import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

logger = logging.getLogger("synthreports.input_boundary")

# NUL, and the surrogate range, which valid UTF-8 never decodes to: only a JSON escape
# such as "\ud800" or a broken decoder produces them.
FORBIDDEN_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


class InputRefused(Exception):
    def __init__(self, field: str, message: str, *, status: int = 400, code: str = "invalid"):
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status
        self.code = code


def _check_text(field: str, value: str) -> None:
    if FORBIDDEN_CHARACTERS.search(value):
        raise InputRefused(
            field,
            _("%(field)s contains a NUL character or an invalid (lone surrogate) character.")
            % {"field": field},
            code="invalid_characters",
        )


def _check_pairs(kind: str, pairs: Iterable[tuple[str, list[str]]]) -> None:
    for name, values in pairs:
        _check_text(
            f"{kind} name {name!r}" if not FORBIDDEN_CHARACTERS.search(name) else kind, name
        )
        for value in values:
            _check_text(f"{kind} {name!r}", value)


def _walk_json(document: Any, max_depth: int) -> None:
    """Depth and characters of every key and value, iteratively (no recursion to exhaust)."""
    stack: list[tuple[str, Any, int]] = [("", document, 1)]
    while stack:
        where, value, depth = stack.pop()
        if isinstance(value, dict | list) and depth > max_depth:
            raise InputRefused(
                where or "body",
                _("The JSON body is nested deeper than %(n)d levels.") % {"n": max_depth},
                code="json_too_deep",
            )
        if isinstance(value, dict):
            for key, item in value.items():
                path = f"{where}.{key}" if where else str(key)
                _check_text(
                    f"JSON key {path!r}" if not FORBIDDEN_CHARACTERS.search(key) else "JSON key",
                    key,
                )
                stack.append((path, item, depth + 1))
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", item, depth + 1) for i, item in enumerate(value))
        elif isinstance(value, str):
            _check_text(f"JSON field {where!r}" if where else "JSON body", value)


def _is_json(request: HttpRequest) -> bool:
    content_type = request.content_type or ""
    return content_type == "application/json" or content_type.endswith("+json")


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _check_request(request: HttpRequest) -> None:
    _check_text("path", request.path_info)
    _check_pairs("query parameter", request.GET.lists())
    is_api = request.path_info.startswith("/api/")
    declared = _declared_length(request)
    if _is_json(request):
        if is_api and declared > settings.API_MAX_JSON_BYTES:
            raise InputRefused(
                "body",
                _("The JSON body is larger than %(n)d bytes.") % {"n": settings.API_MAX_JSON_BYTES},
                status=413,
                code="body_too_large",
            )
        if not declared:
            return
        try:
            document = json.loads(request.body)
        except RecursionError:
            raise InputRefused(
                "body",
                _("The JSON body is nested deeper than %(n)d levels.")
                % {"n": settings.JSON_MAX_DEPTH},
                code="json_too_deep",
            ) from None
        except ValueError:
            return  # Malformed JSON: the parser of the view says so, in its own words.
        _walk_json(document, settings.JSON_MAX_DEPTH)
    elif request.content_type == "application/x-www-form-urlencoded":
        if is_api and declared > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            raise InputRefused(
                "body", _("The request body is too large."), status=413, code="body_too_large"
            )
        _check_pairs("form field", request.POST.lists())
    elif (
        request.content_type == "multipart/form-data"
        and request.method == "POST"
        and declared <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    ):
        # Parsed here as the view (and the CSRF check) would parse it anyway; bodies above
        # the limit are left to the views that take large uploads, which refuse them by
        # their declared size before reading.
        _check_pairs("form field", request.POST.lists())
        for name, upload in request.FILES.items():
            _check_text(f"file name of {name!r}", getattr(upload, "name", "") or "")
    elif (
        is_api
        and declared > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        and not (request.content_type or "").startswith("multipart/")
    ):
        raise InputRefused(
            "body", _("The request body is too large."), status=413, code="body_too_large"
        )


def _refusal(request: HttpRequest, refused: InputRefused) -> HttpResponse:
    response: HttpResponse
    if request.path_info.startswith("/api/") or _is_json(request):
        response = JsonResponse(
            {"detail": refused.message, "code": refused.code, "field": refused.field},
            status=refused.status,
        )
    else:
        response = HttpResponse(
            refused.message, status=refused.status, content_type="text/plain; charset=utf-8"
        )
    # Django would log "Bad Request: <path>", and the refused path is hostile input that may
    # carry anything (a patient's name pasted into a URL): log what was refused, not it.
    response._has_been_logged = True  # type: ignore[attr-defined]
    logger.warning(
        "Input refused: %s %s (%s in %s)",
        request.method,
        "<path withheld>" if refused.field == "path" else request.path_info,
        refused.code,
        refused.field.split(" ")[0]
        if FORBIDDEN_CHARACTERS.search(refused.field)
        else refused.field,
    )
    return response


class InputBoundaryMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            _check_request(request)
        except InputRefused as refused:
            return _refusal(request, refused)
        return self.get_response(request)
