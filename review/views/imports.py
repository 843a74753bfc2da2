"""Reports → Import (coordinators only): upload, preview, commit.

The uploaded file is kept between preview and commit under MEDIA_ROOT/imports/ with a
random name; the session maps that name to the file's hash and the chosen options, so
the commit only ever reads a file this coordinator uploaded, unchanged, and never a path
sent by the client. The preview's prepared reports are kept beside it, with their hash in
the session too, so the commit stores them rather than preparing the upload again.
"""

import dataclasses
import hashlib
import re
import secrets
import time
from pathlib import Path
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from review.imports.forms import ReportImportForm
from review.imports.parsing import (
    ImportLimits,
    ImportOptions,
    ImportProblem,
    file_sha256,
    upload_too_large_message,
)
from review.imports.services import (
    ImportPreview,
    ImportRejected,
    import_preview_dump,
    import_preview_load,
    report_import_commit,
    report_import_preview,
)
from review.models import ReportImport
from review.permissions import coordinator_required

SESSION_KEY = "report_import_pending"
TOKEN = re.compile(r"[0-9a-f]{32}")
STALE_AFTER_SECONDS = 24 * 3600
# Multipart framing around the file itself.
REQUEST_OVERHEAD_BYTES = 64 * 1024


def _pending_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pending_path(token: str) -> Path:
    if not TOKEN.fullmatch(token):
        raise ValueError("bad token")
    return _pending_dir() / f"{token}.upload"


def _prepared_path(token: str) -> Path:
    """The preview's prepared reports, beside the upload: the confirm commits them."""
    return _pending_path(token).with_suffix(".prepared")


def _pending_cleanup() -> None:
    cutoff = time.time() - STALE_AFTER_SECONDS
    for pattern in ("*.upload", "*.prepared"):
        for path in _pending_dir().glob(pattern):
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)


def _prepared_read(token: str, sha256: str) -> ImportPreview | None:
    """The stored preview when it is the one this session made (its hash is in the
    session), else None: the commit then prepares the upload itself."""
    path = _prepared_path(token)
    if not sha256 or not path.exists():
        return None
    stored = path.read_bytes()
    if hashlib.sha256(stored).hexdigest() != sha256:
        return None
    return import_preview_load(stored)


def _page(request: HttpRequest, context: dict, *, status: int = 200) -> HttpResponse:
    context.setdefault("imports", ReportImport.objects.select_related("created_by")[:20])
    context.setdefault("max_mb", settings.IMPORT_MAX_UPLOAD_BYTES // (1024 * 1024))
    if getattr(request, "htmx", False):
        return render(request, "review/import.html#result", context, status=status)
    return render(request, "review/import.html", context, status=status)


@coordinator_required
@require_http_methods(["GET", "POST"])
def report_import(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request, {"form": ReportImportForm()})
    limits = ImportLimits.from_settings()
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > limits.max_upload_bytes + REQUEST_OVERHEAD_BYTES:
        # Refuse before Django reads the body: nothing of a too-large upload is stored.
        problem = ImportProblem("", upload_too_large_message(declared, limits))
        return _page(request, {"form": ReportImportForm(), "problems": [problem]}, status=413)
    form = ReportImportForm(request.POST, request.FILES)
    if not form.is_valid():
        # Listed as problems too: an htmx answer renders only the result block, not the form.
        problems = [
            ImportProblem("", str(message)) for errors in form.errors.values() for message in errors
        ]
        return _page(request, {"form": form, "problems": problems}, status=400)
    upload = form.cleaned_data["file"]
    if upload.size > limits.max_upload_bytes:
        problem = ImportProblem("", upload_too_large_message(upload.size, limits))
        return _page(request, {"form": form, "problems": [problem]}, status=413)
    data = upload.read()
    options = ImportOptions(
        file_format=form.cleaned_data["file_format"],
        text_column=form.cleaned_data["text_column"],
        id_column=form.cleaned_data["id_column"],
        encoding=form.cleaned_data["encoding"],
        language=form.cleaned_data["language"],
    )
    file_name = Path(upload.name).name[:255]
    preview: ImportPreview = report_import_preview(
        data=data, file_name=file_name, options=options, limits=limits
    )
    context = {"form": form, "preview": preview, "problems": preview.problems}
    if preview.problems:
        return _page(request, context, status=400)
    _pending_cleanup()
    token = secrets.token_hex(16)
    _pending_path(token).write_bytes(data)
    prepared = import_preview_dump(preview)
    _prepared_path(token).write_bytes(prepared)
    pending = request.session.get(SESSION_KEY, {})
    pending[token] = {
        "file_name": file_name,
        "sha256": preview.file_hash,
        "prepared_sha256": hashlib.sha256(prepared).hexdigest(),
        "options": dataclasses.asdict(options),
    }
    # Only the last three previews are kept: abandoned uploads cannot grow the session.
    request.session[SESSION_KEY] = dict(list(pending.items())[-3:])
    context["token"] = token
    return _page(request, context)


@coordinator_required
@require_POST
def report_import_confirm(request: HttpRequest) -> HttpResponse:
    token = request.POST.get("token", "")
    pending = request.session.get(SESSION_KEY, {})
    entry = pending.get(token) if TOKEN.fullmatch(token) else None
    path = _pending_path(token) if entry else None
    if entry is None or path is None or not path.exists():
        problem = ImportProblem("", _("This preview has expired; upload the file again."))
        return _page(request, {"form": ReportImportForm(), "problems": [problem]}, status=400)
    data = path.read_bytes()
    try:
        if file_sha256(data) != entry["sha256"]:
            problem = ImportProblem("", _("The stored upload changed; upload the file again."))
            return _page(request, {"form": ReportImportForm(), "problems": [problem]}, status=400)
        report_import = report_import_commit(
            data=data,
            file_name=entry["file_name"],
            created_by=cast(User, request.user),
            options=ImportOptions(**entry["options"]),
            prepared=_prepared_read(token, entry.get("prepared_sha256", "")),
        )
    except ImportRejected as exc:
        return _page(
            request, {"form": ReportImportForm(), "problems": exc.problems}, status=exc.status_code
        )
    finally:
        # Used or refused, a preview is spent: a second confirm must upload again.
        path.unlink(missing_ok=True)
        _prepared_path(token).unlink(missing_ok=True)
        pending.pop(token, None)
        request.session[SESSION_KEY] = pending
    messages.success(
        request,
        _("%(n)d reports imported from %(name)s.")
        % {"n": report_import.report_count, "name": report_import.file_name},
    )
    return redirect("review:report_import")
