"""A study as one self-contained JSON bundle (`study.json`), and its restore.

`export_study` writes the bundle beside the CSV files; `import_study` reads it back into
any database, empty or not. The bundle holds everything the results are computed from:

- the study's settings: kind (rating or annotation audit), scale, seed, margin, reviewer
  instructions (English and French), attention checks, reminder interval, house style;
- its domains (labels, anchors, worked examples, translations);
- the panel (pseudonyms and login names);
- the reports (text, source, annotations, provenance, tags, import records), each with its
  role in the study (member or calibration item, with the reference scores);
- the assignments (kind, display code, timings, reading time, comment), with their ratings
  and, in an annotation audit, the reviewers' verdicts and the annotations they added;
- the coordinator's adjudications (of model annotations and of added ones), the LLM
  judge's scores, the "cannot assess" records and the reminders sent.

Not in it: generation batches (a synthetic report's provenance — batch, model, prompt
version — travels inside the report), the audit trail, the configuration history and the
cached computations (recomputed from the rest).

Version 1 bundles (written before the fields above that postdate them) still restore:
what they lack takes the model's default (a rating study, no verdicts, no reminders…).
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
    AddedAdjudication,
    AddedAnnotation,
    AnnotationAdjudication,
    AnnotationVerdict,
    Assignment,
    CannotAssess,
    Domain,
    JudgeRating,
    Rating,
    Reminder,
    Report,
    ReportImport,
    Study,
    StudyReport,
    StudyReviewer,
    Tag,
    content_hash,
)
from review.search_index import reports_search_index
from review.services import audit_log

BUNDLE_FORMAT = "synthreports-study"
BUNDLE_VERSION = 2
# The versions `study_restore` reads: 1 lacks the parts listed in V2_PARTS and the fields
# in the *_V2 tuples, which then take the model's defaults.
READABLE_VERSIONS = (1, 2)

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
# Added in version 2, with their value for a version-1 bundle (the model's defaults).
STUDY_FIELDS_V2: dict[str, Any] = {
    "kind": Study.Kind.RATING.value,
    "instructions": "",
    "instructions_fr": "",
    "attention_checks": 0,
    "reminder_every_days": None,
    "house_style": {},
}
DOMAIN_FIELDS = ("key", "label", "help_text", "anchor_low", "anchor_high", "translations", "order")
DOMAIN_FIELDS_V2: dict[str, Any] = {"example_low": "", "example_mid": "", "example_high": ""}
MEMBERSHIP_FIELDS_V2: dict[str, Any] = {
    "role": StudyReport.Role.MEMBER.value,
    "reference_scores": {},
}
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
ASSIGNMENT_FIELDS_V2: dict[str, Any] = {
    "kind": Assignment.Kind.REGULAR.value,
    "display_code": "",
    "reading_visit_ms": 0,
}
ASSIGNMENT_TIMES_V2 = ("reading_visit_at",)
VERDICT_FIELDS = (
    "annotation_index",
    "verdict",
    "corrected_value",
    "corrected_start",
    "corrected_end",
)
ADDED_FIELDS = ("field", "value", "start", "end")
ADJUDICATION_FIELDS = ("annotation_index", "verdict", "value", "start", "end")
ADDED_ADJUDICATION_FIELDS = ("field", "start", "end", "accepted", "value")
JUDGE_FIELDS = ("model", "score")
CANNOT_ASSESS_FIELDS = ("reason", "note")
REMINDER_FIELDS = ("kind", "remaining")
# Study-level lists a version-2 bundle must hold (empty in a study that has none).
V2_PARTS = (
    "added_annotations",
    "adjudications",
    "added_adjudications",
    "judge_ratings",
    "cannot_assess",
    "reminders",
)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise InvalidInput(_("Bad date in the bundle: %(v)s") % {"v": value}, code="bad_date")
    return parsed


def _parse_required_time(value: Any) -> datetime:
    parsed = _parse_time(value)
    if parsed is None:
        raise InvalidInput(_("Bad date in the bundle: %(v)s") % {"v": value}, code="bad_date")
    return parsed


def _username(user: User | None) -> str | None:
    return user.get_username() if user is not None else None


def study_bundle(*, study: Study) -> dict[str, Any]:
    """Everything needed to rebuild `study` and recompute its results, as JSON values."""
    memberships = {
        m.report_id: m for m in StudyReport.objects.filter(study=study).select_related("report")
    }
    reports = sorted((m.report for m in memberships.values()), key=lambda r: r.code)
    tags: dict[int, list[str]] = {}
    for report_id, name in (
        Report.tags.through.objects.filter(report_id__in=memberships)
        .order_by("tag__name")
        .values_list("report_id", "tag__name")
    ):
        tags.setdefault(report_id, []).append(name)
    import_ids = sorted({r.report_import_id for r in reports if r.report_import_id})
    imports = ReportImport.objects.filter(pk__in=import_ids).select_related("created_by")
    panel = study.panel.select_related("reviewer").order_by("pseudonym")
    pseudonym_of = {seat.reviewer_id: seat.pseudonym for seat in panel}
    ratings: dict[int, dict[str, int]] = {}
    for assignment_id, key, score in Rating.objects.filter(assignment__study=study).values_list(
        "assignment_id", "domain__key", "score"
    ):
        ratings.setdefault(assignment_id, {})[key] = score
    verdicts: dict[int, list[dict[str, Any]]] = {}
    for verdict in AnnotationVerdict.objects.filter(assignment__study=study).order_by(
        "assignment_id", "annotation_index"
    ):
        verdicts.setdefault(verdict.assignment_id, []).append(
            {field: getattr(verdict, field) for field in VERDICT_FIELDS}
        )
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
            **{field: getattr(study, field) for field in STUDY_FIELDS_V2},
            "created_by": _username(study.created_by),
            "created_at": _time(study.created_at),
            "opened_at": _time(study.opened_at),
            "closed_at": _time(study.closed_at),
        },
        "domains": [
            {field: getattr(domain, field) for field in (*DOMAIN_FIELDS, *DOMAIN_FIELDS_V2)}
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
                "tags": tags.get(report.pk, []),
                **{field: getattr(memberships[report.pk], field) for field in MEMBERSHIP_FIELDS_V2},
            }
            for report in reports
        ],
        "assignments": [
            {
                **{field: getattr(assignment, field) for field in ASSIGNMENT_FIELDS},
                **{field: getattr(assignment, field) for field in ASSIGNMENT_FIELDS_V2},
                **{
                    field: _time(getattr(assignment, field))
                    for field in (*ASSIGNMENT_TIMES, *ASSIGNMENT_TIMES_V2)
                },
                "reviewer": pseudonym_of[assignment.reviewer_id],
                "report": assignment.report.code,
                "ratings": ratings.get(assignment.pk, {}),
                "verdicts": verdicts.get(assignment.pk, []),
            }
            for assignment in assignments
        ],
        # In the order they were added (the verified dataset breaks ties between equally
        # common values of an addition by that order), not per assignment.
        "added_annotations": [
            {
                "assignment": added.assignment.code,
                **{field: getattr(added, field) for field in ADDED_FIELDS},
                "created_at": _time(added.created_at),
            }
            for added in AddedAnnotation.objects.filter(assignment__study=study)
            .select_related("assignment")
            .order_by("id")
        ],
        "adjudications": [
            {
                "report": row.report.code,
                **{field: getattr(row, field) for field in ADJUDICATION_FIELDS},
                "decided_by": _username(row.decided_by),
                "decided_at": _time(row.decided_at),
            }
            for row in AnnotationAdjudication.objects.filter(study=study)
            .select_related("report", "decided_by")
            .order_by("report__code", "annotation_index")
        ],
        "added_adjudications": [
            {
                "report": row.report.code,
                **{field: getattr(row, field) for field in ADDED_ADJUDICATION_FIELDS},
                "decided_by": _username(row.decided_by),
                "decided_at": _time(row.decided_at),
            }
            for row in AddedAdjudication.objects.filter(study=study)
            .select_related("report", "decided_by")
            .order_by("report__code", "field", "start", "end")
        ],
        "judge_ratings": [
            {
                "report": row.report.code,
                "domain": row.domain.key,
                **{field: getattr(row, field) for field in JUDGE_FIELDS},
                "created_at": _time(row.created_at),
            }
            for row in JudgeRating.objects.filter(study=study)
            .select_related("report", "domain")
            .order_by("report__code", "domain__key", "model")
        ],
        # Login names, not pseudonyms: a reviewer taken off the panel keeps these records.
        "cannot_assess": [
            {
                "report": row.report.code,
                "reviewer": row.reviewer.get_username(),
                **{field: getattr(row, field) for field in CANNOT_ASSESS_FIELDS},
                "reassigned_to": _username(row.reassigned_to),
                "created_at": _time(row.created_at),
            }
            for row in CannotAssess.objects.filter(study=study)
            .select_related("report", "reviewer", "reassigned_to")
            .order_by("created_at", "id")
        ],
        "reminders": [
            {
                "reviewer": row.reviewer.get_username(),
                **{field: getattr(row, field) for field in REMINDER_FIELDS},
                "sent_at": _time(row.sent_at),
            }
            for row in Reminder.objects.filter(study=study)
            .select_related("reviewer")
            .order_by("sent_at", "id")
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
    """Refuse, before anything is written, a file that is not a bundle this code reads."""
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise InvalidInput(_("This is not a study bundle (study.json)."), code="not_a_bundle")
    version = bundle.get("version")
    # `True == 1` in Python: a boolean is not a version.
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        raise InvalidInput(
            _(
                "Unsupported bundle version %(v)s: this version of synthreports reads "
                "versions %(readable)s. Nothing was imported."
            )
            % {
                "v": version,
                "readable": ", ".join(str(v) for v in READABLE_VERSIONS),
            },
            code="bundle_version",
        )
    parts = ["study", "domains", "panel", "report_imports", "reports", "assignments"]
    if version >= 2:
        parts += V2_PARTS
    for key in parts:
        if key not in bundle:
            raise InvalidInput(_("The bundle lacks '%(k)s'.") % {"k": key}, code="bundle_part")


def _v2(row: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """The version-2 fields of `row`, each defaulted when a version-1 bundle lacks it."""
    return {field: row.get(field, default) for field, default in defaults.items()}


def study_restore(*, bundle: dict[str, Any], actor: User | None = None) -> Study:
    """Rebuild a study from its bundle, all or nothing.

    Refused when a study with the same code exists, when a report's text does not match
    its content hash (a damaged bundle), or when a report code exists here with another
    text. A report already present with the same code and text is reused (its tags
    unchanged).
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
            if row.get("tags"):
                report.tags.set(Tag.objects.get_or_create(name=name)[0] for name in row["tags"])
            reports[row["code"]] = report
        # A restore is a rare command: its reports are searchable as soon as it commits.
        reports_search_index(report_ids=[report.pk for report in reports.values()])
        study = Study.objects.create(
            **{field: spec[field] for field in STUDY_FIELDS},
            **_v2(spec, STUDY_FIELDS_V2),
            created_by=_user_for(spec["created_by"], reviewer=False)
            if spec["created_by"]
            else None,
            opened_at=_parse_time(spec["opened_at"]),
            closed_at=_parse_time(spec["closed_at"]),
        )
        Study.objects.filter(pk=study.pk).update(created_at=_parse_time(spec["created_at"]))
        domains = {
            row["key"]: Domain.objects.create(
                study=study,
                **{field: row[field] for field in DOMAIN_FIELDS},
                **_v2(row, DOMAIN_FIELDS_V2),
            )
            for row in bundle["domains"]
        }
        StudyReport.objects.bulk_create(
            StudyReport(study=study, report=reports[row["code"]], **_v2(row, MEMBERSHIP_FIELDS_V2))
            for row in bundle["reports"]
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
        verdicts: list[AnnotationVerdict] = []
        assignment_of: dict[str, Assignment] = {}
        for row in bundle["assignments"]:
            assignment = Assignment.objects.create(
                study=study,
                reviewer=reviewer_of[row["reviewer"]],
                report=reports[row["report"]],
                **{field: row[field] for field in ASSIGNMENT_FIELDS if field != "active_ms"},
                # Bundles written before reading time was kept in ms carry whole seconds.
                active_ms=row.get("active_ms", 1000 * row.get("active_seconds", 0)),
                **_v2(row, ASSIGNMENT_FIELDS_V2),
                **{field: _parse_time(row[field]) for field in ASSIGNMENT_TIMES},
                **{field: _parse_time(row.get(field)) for field in ASSIGNMENT_TIMES_V2},
            )
            assignment_of[assignment.code] = assignment
            ratings.extend(
                Rating(assignment=assignment, domain=domains[key], score=score)
                for key, score in row["ratings"].items()
            )
            verdicts.extend(
                AnnotationVerdict(
                    assignment=assignment, **{field: v[field] for field in VERDICT_FIELDS}
                )
                for v in row.get("verdicts", [])
            )
        Rating.objects.bulk_create(ratings, batch_size=2000)
        AnnotationVerdict.objects.bulk_create(verdicts, batch_size=2000)
        _restore_audit_records(
            bundle=bundle, study=study, reports=reports, assignments=assignment_of, domains=domains
        )
        audit_log(
            actor=actor,
            action="import.study",
            study=study,
            target=study.code,
            details={
                "reports": len(reports),
                "assignments": len(bundle["assignments"]),
                "ratings": len(ratings),
                "verdicts": len(verdicts),
                "added_annotations": len(bundle.get("added_annotations", [])),
            },
        )
    return study


def _restore_audit_records(
    *,
    bundle: dict[str, Any],
    study: Study,
    reports: dict[str, Report],
    assignments: dict[str, Assignment],
    domains: dict[str, Domain],
) -> None:
    """The study-level lists of a version-2 bundle (none in a version-1 one). Times set by
    the database on insert (auto_now, auto_now_add) are put back with an update."""
    for row in bundle.get("added_annotations", []):
        # One insert at a time, in the bundle's order: the ids keep the order of addition.
        added = AddedAnnotation.objects.create(
            assignment=assignments[row["assignment"]],
            **{field: row[field] for field in ADDED_FIELDS},
        )
        AddedAnnotation.objects.filter(pk=added.pk).update(
            created_at=_parse_time(row["created_at"])
        )
    decisions: tuple[tuple[type[AnnotationAdjudication | AddedAdjudication], str, tuple], ...] = (
        (AnnotationAdjudication, "adjudications", ADJUDICATION_FIELDS),
        (AddedAdjudication, "added_adjudications", ADDED_ADJUDICATION_FIELDS),
    )
    for model, key, fields in decisions:
        for row in bundle.get(key, []):
            decision = model.objects.create(
                study=study,
                report=reports[row["report"]],
                **{field: row[field] for field in fields},
                decided_by=(
                    _user_for(row["decided_by"], reviewer=False) if row["decided_by"] else None
                ),
            )
            # The creation stamps now: the coordinator's own time is put back.
            model.objects.filter(pk=decision.pk).update(decided_at=_parse_time(row["decided_at"]))
    for row in bundle.get("judge_ratings", []):
        judge = JudgeRating.objects.create(
            study=study,
            report=reports[row["report"]],
            domain=domains[row["domain"]],
            **{field: row[field] for field in JUDGE_FIELDS},
        )
        JudgeRating.objects.filter(pk=judge.pk).update(created_at=_parse_time(row["created_at"]))
    for row in bundle.get("cannot_assess", []):
        record = CannotAssess.objects.create(
            study=study,
            report=reports[row["report"]],
            reviewer=_user_for(row["reviewer"], reviewer=True),
            **{field: row[field] for field in CANNOT_ASSESS_FIELDS},
            reassigned_to=_user_for(row["reassigned_to"], reviewer=True)
            if row["reassigned_to"]
            else None,
        )
        CannotAssess.objects.filter(pk=record.pk).update(created_at=_parse_time(row["created_at"]))
    Reminder.objects.bulk_create(
        Reminder(
            study=study,
            reviewer=_user_for(row["reviewer"], reviewer=True),
            **{field: row[field] for field in REMINDER_FIELDS},
            sent_at=_parse_required_time(row["sent_at"]),
        )
        for row in bundle.get("reminders", [])
    )
