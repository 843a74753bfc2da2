"""A study's life: created as a draft, its reports and settings, opened (allocation,
queues, the house style fixed), closed and reopened."""

import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from review.allocation import allocate_reviewers, interleave_by_source, queue_with_checks
from review.conventions import conventions_build
from review.copy_insert import rows_insert
from review.exceptions import Conflict, InvalidInput
from review.models import (
    Assignment,
    Domain,
    Report,
    Study,
    StudyReport,
    report_code_new,
)
from review.protocol import DEFAULT_DOMAINS
from review.services.audit import audit_log


def _domains_create_default(*, study: Study) -> None:
    # With their first history row each (bulk_create sends no post_save signal).
    bulk_create_with_history(
        [
            Domain(
                study=study,
                key=spec.key,
                label=spec.label,
                help_text=spec.help_text,
                anchor_low=spec.anchor_low,
                anchor_high=spec.anchor_high,
                translations={
                    "fr": {
                        "label": spec.label_fr,
                        "help_text": spec.help_text_fr,
                        "anchor_low": spec.anchor_low_fr,
                        "anchor_high": spec.anchor_high_fr,
                    }
                },
                order=index,
            )
            for index, spec in enumerate(DEFAULT_DOMAINS)
        ],
        Domain,
    )


def study_reminder_schedule_set(*, study: Study, every_days: int | None, actor: User) -> Study:
    """Turn the study's scheduled reminders off (None) or on every `every_days` days (1 to
    365); audited with the old and new value. Closed studies send none and keep theirs."""
    if every_days is not None and not 1 <= every_days <= 365:
        raise InvalidInput(
            _("Reminders are sent every 1 to 365 days, or never."), code="reminder_days_invalid"
        )
    if study.status == Study.Status.CLOSED:
        raise Conflict(_("The study is closed."), code="study_closed")
    previous = study.reminder_every_days
    study.reminder_every_days = every_days
    study.save(update_fields=["reminder_every_days"])
    audit_log(
        actor=actor,
        action="study.reminder_schedule",
        study=study,
        target=study.code,
        details={"from": previous, "to": every_days},
    )
    return study


def study_create(
    *,
    name: str,
    created_by: User | None,
    description: str = "",
    raters_per_report: int = 2,
    scale_min: int = 1,
    scale_max: int = 10,
    seed: int | None = None,
    noninferiority_margin: float = 1.0,
    kind: str = Study.Kind.RATING,
) -> Study:
    """A draft study: a rating study with the six domains of the reference protocol, or an
    annotation audit (no domains: reviewers judge annotations, review/audit_study/)."""
    if kind not in Study.Kind.values:
        raise InvalidInput(_("Unknown study kind."), code="kind")
    if not name.strip():
        raise InvalidInput(_("A study needs a name."), code="name_required")
    if raters_per_report < 1:
        raise InvalidInput(_("Each report needs at least one rater."), code="raters")
    if not 0 <= scale_min < scale_max <= 100:
        raise InvalidInput(
            _("The scale must go from a lower to a higher score, within 0–100."), code="scale"
        )
    if noninferiority_margin <= 0:
        raise InvalidInput(_("The non-inferiority margin must be positive."), code="margin")
    with transaction.atomic():
        study = Study.objects.create(
            name=name.strip(),
            description=description,
            raters_per_report=raters_per_report,
            scale_min=scale_min,
            scale_max=scale_max,
            seed=seed if seed is not None else secrets.randbelow(2**31),
            noninferiority_margin=noninferiority_margin,
            created_by=created_by,
            kind=kind,
        )
        if kind == Study.Kind.RATING:
            _domains_create_default(study=study)
        audit_log(actor=created_by, action="study.create", study=study, target=study.code)
    return study


def study_require_draft(*, study: Study) -> None:
    if study.status != Study.Status.DRAFT:
        raise Conflict(
            _("This can only be changed while the study is a draft."), code="study_not_draft"
        )


def study_lock(*, study: Study) -> Study:
    """The study's row, locked until the transaction ends, with its current status. Inside
    `transaction.atomic()`; a check on the caller's copy could be stale (a study opened or
    closed by another coordinator in between)."""
    return Study.objects.select_for_update().get(pk=study.pk)


def study_reports_add(*, study: Study, reports: Iterable[Report]) -> int:
    """Add reports to a draft study; reports already in it are ignored. Returns the count added."""
    return study_report_ids_add(study=study, report_ids=[report.pk for report in reports])


def study_report_ids_add(*, study: Study, report_ids: Iterable[int]) -> int:
    """`study_reports_add` by the reports' ids: the API's add-reports has the ids of the
    codes it was sent, and a model instance per report cost more than the insert."""
    study_require_draft(study=study)
    with transaction.atomic():
        study_require_draft(study=study_lock(study=study))
        report_ids = set(report_ids)
        existing = set(study.memberships.values_list("report_id", flat=True))
        new_ids = sorted(report_ids - existing)
        rows_insert(
            StudyReport, fields=("study_id", "report_id"), rows=[(study.pk, pk) for pk in new_ids]
        )
    return len(new_ids)


def study_update_settings(
    *,
    study: Study,
    name: str | None = None,
    description: str | None = None,
    noninferiority_margin: float | None = None,
) -> Study:
    if name is not None:
        if not name.strip():
            raise InvalidInput(_("A study needs a name."), code="name_required")
        study.name = name.strip()
    if description is not None:
        study.description = description
    if noninferiority_margin is not None:
        if noninferiority_margin <= 0:
            raise InvalidInput(_("The non-inferiority margin must be positive."), code="margin")
        if noninferiority_margin != study.noninferiority_margin and study_settings_locked(
            study=study
        ):
            raise Conflict(
                _(
                    "The margin is locked: ratings have been submitted. An administrator can "
                    "change it with a recorded reason."
                ),
                code="settings_locked",
            )
        study.noninferiority_margin = noninferiority_margin
    study.save()
    return study


# Read by the statistics: once an assessment is submitted, changing them would rewrite
# results already seen (ICH E9, 1998, section 5.1: the analysis is specified in advance).
LOCKED_STUDY_FIELDS = ("noninferiority_margin", "scale_min", "scale_max")


def study_settings_locked(*, study: Study) -> bool:
    """Margin, scale and domains are fixed once the study has a submitted assessment."""
    return Assignment.objects.filter(study=study, status=Assignment.Status.SUBMITTED).exists()


def study_open(*, study: Study, actor: User | None = None) -> Study:
    """Open a draft study: assign every report to k distinct reviewers, balanced, each
    reviewer getting their own seeded order that interleaves real and synthetic reports
    (after the calibration items, with the study's attention checks).
    A study not ready (no reports, no domains, too few reviewers) is a Conflict (409): the
    request is right, the study's state is not."""
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study.pk)
        study_require_draft(study=study)
        # Calibration items are rated by everyone, outside the allocation (services.reviewer).
        report_rows = list(
            study.memberships.filter(role=StudyReport.Role.MEMBER).values_list(
                "report_id", "report__source"
            )
        )
        calibration = list(
            study.memberships.filter(role=StudyReport.Role.CALIBRATION)
            .order_by("report_id")
            .values_list("report_id", flat=True)
        )
        reviewer_ids = list(
            study.panel.filter(active=True).order_by("pk").values_list("reviewer_id", flat=True)
        )
        if not report_rows:
            raise Conflict(_("Add reports before opening the study."), code="no_reports")
        audit = study.kind == Study.Kind.ANNOTATION_AUDIT
        if not audit and not study.domains.exists():
            raise Conflict(_("The study has no rating domains."), code="no_domains")
        if audit and any(source != Report.Source.SYNTHETIC for _report, source in report_rows):
            # The audit judges the generator's annotations: a real report has none to judge.
            raise Conflict(
                _("An annotation audit takes synthetic reports only."), code="audit_real_report"
            )
        if len(reviewer_ids) < study.raters_per_report:
            raise Conflict(
                _(
                    "Each report needs %(k)d distinct reviewers but the panel has %(m)d. "
                    "Add reviewers or lower the raters per report."
                )
                % {"k": study.raters_per_report, "m": len(reviewer_ids)},
                code="too_few_reviewers",
            )
        source_of = dict(report_rows)
        allocation = allocate_reviewers(
            reports=sorted(source_of),
            reviewers=reviewer_ids,
            raters_per_report=study.raters_per_report,
            seed=study.seed,
        )
        # (study_id, reviewer_id, report_id, position, kind, display_code) per assignment.
        assignments: list[tuple[int, int, int, int, str, str]] = []
        for reviewer_id, report_ids in allocation.items():
            queue = interleave_by_source(
                items=report_ids, source_of=source_of, seed=study.seed * 1_000_003 + reviewer_id
            )
            rows = queue_with_checks(
                queue=queue,
                # Calibration and attention checks are rating-study devices (reference
                # scores, test–retest of a score); an audit has verdicts, not scores.
                calibration=[] if audit else calibration,
                attention_checks=0 if audit else study.attention_checks,
                seed=study.seed * 104_729 + reviewer_id,
            )
            assignments.extend(
                (
                    study.pk,
                    reviewer_id,
                    report_id,
                    position,
                    kind,
                    # A repeat shows a code of its own, or it would give itself away.
                    report_code_new() if kind == Assignment.Kind.ATTENTION else "",
                )
                for position, (report_id, kind) in enumerate(rows, start=1)
            )
        rows_insert(
            Assignment,
            fields=("study_id", "reviewer_id", "report_id", "position", "kind", "display_code"),
            rows=assignments,
        )
        # What reviewers read is fixed with the composition: the corpus's accents and
        # abbreviation forms, the same for every report whatever its source.
        study.house_style = conventions_build(
            reports=list(study.reports.values_list("text", "language", "source"))
        ).to_json()
        study.status = Study.Status.OPEN
        study.opened_at = timezone.now()
        study.save(update_fields=["status", "opened_at", "house_style"])
        audit_log(
            actor=actor,
            action="study.open",
            study=study,
            target=study.code,
            details={"assignments": len(assignments), "reviewers": len(reviewer_ids)},
        )
    return study


def study_close(*, study: Study, actor: User | None = None) -> Study:
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study.pk)
        if study.status != Study.Status.OPEN:
            raise Conflict(_("Only an open study can be closed."), code="study_not_open")
        study.status = Study.Status.CLOSED
        study.closed_at = timezone.now()
        study.save(update_fields=["status", "closed_at"])
        audit_log(actor=actor, action="study.close", study=study, target=study.code)
    return study


def study_reopen(*, study: Study, actor: User | None, reason: str) -> Study:
    """Reopen a closed study (ratings can change again), with the reason in the audit
    trail; its assignments and submitted ratings are kept as they were."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Say why the study is reopened."), code="reason_required")
    if len(reason) > 500:
        raise InvalidInput(_("The reason is limited to 500 characters."), code="reason_long")
    with transaction.atomic():
        study = Study.objects.select_for_update().get(pk=study.pk)
        if study.status != Study.Status.CLOSED:
            raise Conflict(_("Only a closed study can be reopened."), code="study_not_closed")
        closed_at = study.closed_at
        study.status = Study.Status.OPEN
        study.closed_at = None
        study.save(update_fields=["status", "closed_at"])
        audit_log(
            actor=actor,
            action="study.reopen",
            study=study,
            target=study.code,
            details={"reason": reason, "closed_at": closed_at.isoformat() if closed_at else ""},
        )
    return study


def domains_update(*, study: Study, rows: Sequence[dict[str, Any]]) -> None:
    """Replace a draft study's domains by `rows` (key, label, help_text, anchors, and the
    same with a `_fr` suffix for French), in the order given."""
    study_require_draft(study=study)
    keys = [row.get("key", "") for row in rows]
    if not rows:
        raise InvalidInput(_("A study needs at least one domain."), code="no_domains")
    if len(set(keys)) != len(keys) or any(not key for key in keys):
        raise InvalidInput(_("Domain keys must be present and unique."), code="domain_keys")
    with transaction.atomic():
        study_require_draft(study=study_lock(study=study))
        existing = {domain.key: domain for domain in study.domains.all()}
        study.domains.exclude(key__in=keys).delete()
        for order, row in enumerate(rows):
            domain = existing.get(row["key"]) or Domain(study=study, key=row["key"])
            french = dict(domain.translations.get("fr", {}))
            for field in ("label", "help_text", "anchor_low", "anchor_high"):
                if field in row:
                    setattr(domain, field, row[field])
                if f"{field}_fr" in row:
                    french[field] = row[f"{field}_fr"]
            # Empty French fields fall back to English (Domain.localized).
            domain.translations = {
                **domain.translations,
                "fr": {field: value for field, value in french.items() if value},
            }
            if not domain.label:
                raise InvalidInput(_("Every domain needs a label."), code="domain_label")
            domain.order = order
            domain.save()
