"""A study as one self-contained JSON bundle (`study.json`), and its restore.

`export_study` writes the bundle beside the CSV files; `import_study` reads it back into
any database, empty or not. The bundle holds everything the results are computed from:
the study's settings, domains, panel (pseudonyms and login names), reports (text,
source, annotations, provenance, import records), assignments with their timings,
comments and ratings. Generation batches are not part of it: a synthetic report's
provenance (batch, model, prompt version) travels inside the report.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from review.exceptions import Conflict, InvalidInput
from review.models import (
    Assignment,
    Domain,
    Rating,
    Report,
    ReportImport,
    Study,
    StudyReport,
    StudyReviewer,
    content_hash,
)
from review.services import audit_log

BUNDLE_FORMAT = "synthreports-study"
BUNDLE_VERSION = 1

STUDY_FIELDS = (
    "code",
    "name",
    "description",
    "status",
    "raters_per_report",
    "scale_min",
    "scale_max",
    "seed",
    "noninferiority_margin",
)
DOMAIN_FIELDS = ("key", "label", "help_text", "anchor_low", "anchor_high", "translations", "order")
REPORT_FIELDS = (
    "code",
    "text",
    "original_text",
    "source",
    "language",
    "annotations",
    "external_id",
    "metadata",
    "provenance",
    "content_hash",
)
IMPORT_FIELDS = (
    "file_name",
    "file_hash",
    "file_format",
    "encoding",
    "report_count",
    "options",
)
ASSIGNMENT_FIELDS = ("code", "position", "status", "active_ms", "comment")
ASSIGNMENT_TIMES = ("first_opened_at", "submitted_at")


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise InvalidInput(_("Bad date in the bundle: %(v)s") % {"v": value}, code="bad_date")
    return parsed


def study_bundle(*, study: Study) -> dict[str, Any]:
    """Everything needed to rebuild `study` and recompute its results, as JSON values."""
    reports = list(Report.objects.filter(memberships__study=study).order_by("code"))
    import_ids = sorted({r.report_import_id for r in reports if r.report_import_id})
    imports = ReportImport.objects.filter(pk__in=import_ids).select_related("created_by")
    panel = study.panel.select_related("reviewer").order_by("pseudonym")
    pseudonym_of = {seat.reviewer_id: seat.pseudonym for seat in panel}
    ratings: dict[int, dict[str, int]] = {}
    for assignment_id, key, score in Rating.objects.filter(assignment__study=study).values_list(
        "assignment_id", "domain__key", "score"
    ):
        ratings.setdefault(assignment_id, {})[key] = score
    # Ordered by pseudonym, not by user id: ids differ from one database to another.
    assignments = sorted(
        study.assignments.select_related("report"),
        key=lambda a: (pseudonym_of[a.reviewer_id], a.position),
    )
    return {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "study": {
            **{field: getattr(study, field) for field in STUDY_FIELDS},
            "created_by": study.created_by.get_username() if study.created_by else None,
            "created_at": _time(study.created_at),
            "opened_at": _time(study.opened_at),
            "closed_at": _time(study.closed_at),
        },
        "domains": [
            {field: getattr(domain, field) for field in DOMAIN_FIELDS}
            for domain in study.domains.order_by("order", "id")
        ],
        "panel": [
            {
                "pseudonym": seat.pseudonym,
                "username": seat.reviewer.get_username(),
                "active": seat.active,
            }
            for seat in panel
        ],
        "report_imports": [
            {
                "id": report_import.pk,
                **{field: getattr(report_import, field) for field in IMPORT_FIELDS},
                "created_by": report_import.created_by.get_username(),
                "created_at": _time(report_import.created_at),
            }
            for report_import in imports
        ],
        "reports": [
            {
                **{field: getattr(report, field) for field in REPORT_FIELDS},
                "report_import": report.report_import_id,
                "created_at": _time(report.created_at),
            }
            for report in reports
        ],
        "assignments": [
            {
                **{field: getattr(assignment, field) for field in ASSIGNMENT_FIELDS},
                **{field: _time(getattr(assignment, field)) for field in ASSIGNMENT_TIMES},
                "reviewer": pseudonym_of[assignment.reviewer_id],
                "report": assignment.report.code,
                "ratings": ratings.get(assignment.pk, {}),
            }
            for assignment in assignments
        ],
    }


def _user_for(username: str, *, reviewer: bool) -> User:
    """The account with this login name, or a new inactive one (no usable password) that
    an administrator activates after the restore."""
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        if reviewer:
            group = Group.objects.filter(name="reviewer").first()
            if group is not None:
                user.groups.add(group)
    return user


def _require(bundle: Any) -> None:
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise InvalidInput(_("This is not a study bundle (study.json)."), code="not_a_bundle")
    if bundle.get("version") != BUNDLE_VERSION:
        raise InvalidInput(
            _("Unsupported bundle version %(v)s.") % {"v": bundle.get("version")},
            code="bundle_version",
        )
    for key in ("study", "domains", "panel", "report_imports", "reports", "assignments"):
        if key not in bundle:
            raise InvalidInput(_("The bundle lacks '%(k)s'.") % {"k": key}, code="bundle_part")


def study_restore(*, bundle: dict[str, Any], actor: User | None = None) -> Study:
    """Rebuild a study from its bundle, all or nothing.

    Refused when a study with the same code exists, when a report's text does not match
    its content hash (a damaged bundle), or when a report code exists here with another
    text. A report already present with the same code and text is reused.
    """
    _require(bundle)
    spec = bundle["study"]
    if Study.objects.filter(code=spec["code"]).exists():
        raise Conflict(
            _("A study with code %(c)s already exists.") % {"c": spec["code"]},
            code="study_exists",
        )
    for row in bundle["reports"]:
        if content_hash(row["text"]) != row["content_hash"]:
            raise InvalidInput(
                _("Report %(c)s: its text does not match its content hash.") % {"c": row["code"]},
                code="report_damaged",
            )
    with transaction.atomic():
        imports: dict[int, ReportImport] = {}
        for row in bundle["report_imports"]:
            report_import = ReportImport.objects.create(
                **{field: row[field] for field in IMPORT_FIELDS},
                created_by=_user_for(row["created_by"], reviewer=False),
            )
            ReportImport.objects.filter(pk=report_import.pk).update(
                created_at=_parse_time(row["created_at"])
            )
            imports[row["id"]] = report_import
        existing = {
            r.code: r
            for r in Report.objects.filter(code__in=[r["code"] for r in bundle["reports"]])
        }
        reports: dict[str, Report] = {}
        for row in bundle["reports"]:
            present = existing.get(row["code"])
            if present is not None:
                if present.content_hash != row["content_hash"]:
                    raise Conflict(
                        _("Report %(c)s exists here with another text.") % {"c": row["code"]},
                        code="report_conflict",
                    )
                reports[row["code"]] = present
                continue
            report = Report(
                **{field: row[field] for field in REPORT_FIELDS},
                report_import=imports.get(row["report_import"]) if row["report_import"] else None,
            )
            report.save()
            Report.objects.filter(pk=report.pk).update(created_at=_parse_time(row["created_at"]))
            reports[row["code"]] = report
        study = Study.objects.create(
            **{field: spec[field] for field in STUDY_FIELDS},
            created_by=_user_for(spec["created_by"], reviewer=False)
            if spec["created_by"]
            else None,
            opened_at=_parse_time(spec["opened_at"]),
            closed_at=_parse_time(spec["closed_at"]),
        )
        Study.objects.filter(pk=study.pk).update(created_at=_parse_time(spec["created_at"]))
        domains = {
            row["key"]: Domain.objects.create(
                study=study, **{field: row[field] for field in DOMAIN_FIELDS}
            )
            for row in bundle["domains"]
        }
        StudyReport.objects.bulk_create(
            StudyReport(study=study, report=report) for report in reports.values()
        )
        reviewer_of: dict[str, User] = {}
        for row in bundle["panel"]:
            reviewer_of[row["pseudonym"]] = _user_for(row["username"], reviewer=True)
            StudyReviewer.objects.create(
                study=study,
                reviewer=reviewer_of[row["pseudonym"]],
                pseudonym=row["pseudonym"],
                active=row["active"],
            )
        ratings: list[Rating] = []
        for row in bundle["assignments"]:
            assignment = Assignment.objects.create(
                study=study,
                reviewer=reviewer_of[row["reviewer"]],
                report=reports[row["report"]],
                **{field: row[field] for field in ASSIGNMENT_FIELDS if field != "active_ms"},
                # Bundles written before reading time was kept in ms carry whole seconds.
                active_ms=row.get("active_ms", 1000 * row.get("active_seconds", 0)),
                **{field: _parse_time(row[field]) for field in ASSIGNMENT_TIMES},
            )
            ratings.extend(
                Rating(assignment=assignment, domain=domains[key], score=score)
                for key, score in row["ratings"].items()
            )
        Rating.objects.bulk_create(ratings, batch_size=2000)
        audit_log(
            actor=actor,
            action="import.study",
            study=study,
            target=study.code,
            details={
                "reports": len(reports),
                "assignments": len(bundle["assignments"]),
                "ratings": len(ratings),
            },
        )
    return study
