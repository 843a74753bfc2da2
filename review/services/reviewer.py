"""Writes behind the reviewer's guidance and safety features: reading time in milliseconds
(the one service that counts it), undo of a first score, "cannot assess" with reassignment,
text size, study instructions, calibration items and attention checks.

In `review.services` (same rules: keyword-only, `InvalidInput`/`Conflict` and
nothing written on bad input).
"""

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, F, Max, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from review.exceptions import Conflict, InvalidInput
from review.models import (
    Assignment,
    CannotAssess,
    Domain,
    Rating,
    Report,
    ReviewerPreference,
    Study,
    StudyReport,
)
from review.services.audit import audit_log
from review.services.locks import READING_MS_MAX_PER_VISIT, assignment_lock, assignment_require_open

# ASCII digits only ("²" and other Unicode digits are refused), at most 12 of them.
_WHOLE_MS = re.compile(r"[0-9]{1,12}")


def reading_ms_parse(value: str | None) -> int | None:
    """The page's `active_ms` field: a whole number of milliseconds, else None."""
    if value is None or not _WHOLE_MS.fullmatch(value.strip()):
        return None
    return int(value.strip())


def assignment_reading_time_add(
    *, assignment: Assignment, visit_ms: int, now: datetime | None = None
) -> int:
    """The rule reading time is counted by (the rating page's one-statement score save,
    services.score_save_in_one_statement, applies the same rule in its SQL). `visit_ms` is
    what the rating page measured since it was served (visible, focused, not idle for 60 s;
    sent with every save, undo and submit, by a beat at most once a minute while nothing
    else carried it, and on leaving the page): a running total, so a lost or reordered
    request loses nothing and a repeated one counts once.

    The visit counts at most the wall time since the server served the page
    (`reading_visit_at`, set by services.assignment_open) and READING_MS_MAX_PER_VISIT; only
    the part not yet counted is added to `active_ms`. One UPDATE, conditional on the visit
    the caller read: a new opening of the page meanwhile starts a new visit, and the old
    page's figures are dropped. Returns the milliseconds added."""
    visit_at = assignment.reading_visit_at
    if assignment.study.status != Study.Status.OPEN or visit_ms <= 0 or visit_at is None:
        return 0
    now = now or timezone.now()
    wall_ms = max(0, int((now - visit_at).total_seconds() * 1000))
    counted = min(visit_ms, wall_ms, READING_MS_MAX_PER_VISIT)
    # Under the row lock the UPDATE takes, the second of two concurrent saves sees the
    # first's reading_visit_ms: each millisecond of a visit is added once.
    updated = Assignment.objects.filter(pk=assignment.pk, reading_visit_at=visit_at).update(
        active_ms=F("active_ms") + Greatest(Value(counted) - F("reading_visit_ms"), Value(0)),
        reading_visit_ms=Greatest(F("reading_visit_ms"), Value(counted)),
    )
    if not updated:
        return 0
    added = max(0, counted - assignment.reading_visit_ms)
    assignment.active_ms += added
    assignment.reading_visit_ms = max(assignment.reading_visit_ms, counted)
    return added


def rating_clear(*, assignment: Assignment, domain_key: str) -> None:
    """Remove a score (undo of a first score). Refused once the report is submitted: a
    submitted report keeps a score in every domain."""
    assignment_require_open(assignment=assignment)
    if assignment.status == Assignment.Status.SUBMITTED:
        raise Conflict(
            _("A submitted report keeps a score in every domain; choose another score."),
            code="submitted_needs_score",
        )
    if not Domain.objects.filter(study_id=assignment.study_id, key=domain_key).exists():
        raise InvalidInput(_("This domain is not part of the study."), code="unknown_domain")
    with transaction.atomic():
        # Under the locks a submit takes: a submit in flight is waited for, and its report
        # keeps every score (checked above on the caller's copy, read before the submit).
        if assignment_lock(assignment=assignment).status == Assignment.Status.SUBMITTED:
            raise Conflict(
                _("A submitted report keeps a score in every domain; choose another score."),
                code="submitted_needs_score",
            )
        Rating.objects.filter(assignment=assignment, domain__key=domain_key).delete()


@dataclass(frozen=True)
class CannotAssessOutcome:
    flag: CannotAssess
    reassigned: bool


def assignment_cannot_assess(
    *, assignment: Assignment, reason: str, note: str = ""
) -> CannotAssessOutcome:
    """The reviewer hands a report back. Their assignment of it (and any attention-check
    repeat of it) is deleted with its scores, so it counts nowhere in the statistics; a
    regular report goes to the least-loaded active panel reviewer who has neither it nor
    a flag on it. Calibration items and repeats are not passed on (every reviewer has their
    own)."""
    if reason not in CannotAssess.Reason.values:
        raise InvalidInput(_("Choose why the report cannot be assessed."), code="reason")
    note = note.strip()
    if len(note) > 500:
        raise InvalidInput(_("The details are limited to 500 characters."), code="note_long")
    assignment_require_open(assignment=assignment)
    if assignment.status == Assignment.Status.SUBMITTED:
        raise Conflict(
            _("This report is already submitted; change its scores instead."),
            code="already_submitted",
        )
    with transaction.atomic():
        # The study row is the lock every reassignment of this study takes.
        study = Study.objects.select_for_update().get(pk=assignment.study_id)
        report_id = assignment.report_id
        reviewer = assignment.reviewer
        target_id = None
        if assignment.kind == Assignment.Kind.REGULAR:
            target_id = _replacement_reviewer(study=study, report_id=report_id, leaving=reviewer)
        Assignment.objects.filter(study=study, reviewer=reviewer, report_id=report_id).delete()
        if target_id is not None:
            top = Assignment.objects.filter(study=study, reviewer_id=target_id).aggregate(
                top=Max("position")
            )["top"]
            Assignment.objects.create(
                study=study, reviewer_id=target_id, report_id=report_id, position=(top or 0) + 1
            )
        flag = CannotAssess.objects.create(
            study=study,
            report_id=report_id,
            reviewer=reviewer,
            reason=reason,
            note=note,
            reassigned_to_id=target_id,
        )
        audit_log(
            actor=reviewer,
            action="assignment.cannot_assess",
            study=study,
            target=assignment.code,
            details={"reason": reason, "reassigned": target_id is not None},
        )
    return CannotAssessOutcome(flag=flag, reassigned=target_id is not None)


def _replacement_reviewer(*, study: Study, report_id: int, leaving: User) -> int | None:
    excluded = set(
        Assignment.objects.filter(study=study, report_id=report_id).values_list(
            "reviewer_id", flat=True
        )
    ) | set(
        CannotAssess.objects.filter(study=study, report_id=report_id).values_list(
            "reviewer_id", flat=True
        )
    )
    excluded.add(leaving.pk)
    candidates = [
        reviewer_id
        for reviewer_id in study.panel.filter(active=True)
        .order_by("reviewer_id")
        .values_list("reviewer_id", flat=True)
        if reviewer_id not in excluded
    ]
    if not candidates:
        return None
    load = dict(
        Assignment.objects.filter(study=study, reviewer_id__in=candidates)
        .values("reviewer_id")
        .annotate(n=Count("id"))
        .values_list("reviewer_id", "n")
    )
    # Ties broken by a seeded draw so that the same study hands reports on the same way.
    rng = random.Random(study.seed * 7919 + report_id)
    return min(candidates, key=lambda rid: (load.get(rid, 0), rng.random()))


def reviewer_text_size_set(*, user: User, text_size: str) -> ReviewerPreference:
    if text_size not in ReviewerPreference.TextSize.values:
        raise InvalidInput(_("Choose one of the offered text sizes."), code="text_size")
    preference, _created = ReviewerPreference.objects.update_or_create(
        user=user, defaults={"text_size": text_size}
    )
    return preference


def study_guidance_update(
    *,
    study: Study,
    instructions: str,
    instructions_fr: str,
    attention_checks: int,
    examples: dict[str, dict[str, str]] | None = None,
) -> Study:
    """Study instructions (Markdown, English and French), the number of attention checks
    per reviewer (draft only: the queues are built at opening), and per-domain examples of
    a lowest, middle and highest score ({domain key: {"example_low": …, "fr:example_low": …}})."""
    if len(instructions) > 20000 or len(instructions_fr) > 20000:
        raise InvalidInput(_("Instructions are limited to 20,000 characters."), code="long")
    if not 0 <= attention_checks <= 20:
        raise InvalidInput(_("Attention checks: between 0 and 20 per reviewer."), code="checks")
    if attention_checks != study.attention_checks and study.status != Study.Status.DRAFT:
        raise Conflict(
            _("Attention checks can only be changed while the study is a draft."),
            code="study_not_draft",
        )
    with transaction.atomic():
        # Browsers send a textarea's lines with CRLF; Markdown is stored with LF.
        study.instructions = instructions.replace("\r\n", "\n")
        study.instructions_fr = instructions_fr.replace("\r\n", "\n")
        study.attention_checks = attention_checks
        study.save(update_fields=["instructions", "instructions_fr", "attention_checks"])
        for domain in study.domains.all():
            values = (examples or {}).get(domain.key)
            if not values:
                continue
            translations = dict(domain.translations)
            french = dict(translations.get("fr", {}))
            for field in ("example_low", "example_mid", "example_high"):
                if field in values:
                    setattr(domain, field, values[field].strip())
                if f"fr:{field}" in values:
                    french[field] = values[f"fr:{field}"].strip()
            translations["fr"] = french
            domain.translations = translations
            domain.save()
    return study


@dataclass(frozen=True)
class CalibrationItem:
    report_code: str
    scores: dict[str, int]


def calibration_items_parse(*, study: Study, text: str) -> list[CalibrationItem]:
    """One line per calibration item: a report code, then one score per domain in the
    study's order (e.g. "R-ABC123 9 8 7 6 8 2"). Blank lines are ignored."""
    keys = list(study.domains.order_by("order", "id").values_list("key", flat=True))
    items: list[CalibrationItem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        code, raw = parts[0], parts[1:]
        if len(raw) != len(keys):
            raise InvalidInput(
                _("Line %(n)d: %(k)d scores expected (one per domain), %(m)d given.")
                % {"n": number, "k": len(keys), "m": len(raw)},
                code="calibration_line",
            )
        scores: dict[str, int] = {}
        for key, value in zip(keys, raw, strict=True):
            if not value.isdigit() or not study.scale_min <= int(value) <= study.scale_max:
                raise InvalidInput(
                    _("Line %(n)d: %(value)s is not a score between %(low)d and %(high)d.")
                    % {
                        "n": number,
                        "value": value,
                        "low": study.scale_min,
                        "high": study.scale_max,
                    },
                    code="calibration_score",
                )
            scores[key] = int(value)
        items.append(CalibrationItem(report_code=code, scores=scores))
    return items


def study_calibration_set(*, study: Study, items: Sequence[CalibrationItem]) -> int:
    """Make these reports the draft study's calibration items with their reference scores
    (replacing any earlier ones). A calibration report is not one of the study's rated
    reports. Returns the number of items."""
    if study.status != Study.Status.DRAFT:
        raise Conflict(
            _("This can only be changed while the study is a draft."), code="study_not_draft"
        )
    codes = [item.report_code for item in items]
    if len(set(codes)) != len(codes):
        raise InvalidInput(_("A report appears twice in the calibration items."), code="dupe")
    reports = dict(Report.objects.filter(code__in=codes).values_list("code", "pk"))
    unknown = [code for code in codes if code not in reports]
    if unknown:
        raise InvalidInput(
            _("Unknown report codes: %(codes)s.") % {"codes": ", ".join(unknown)},
            code="unknown_report",
        )
    with transaction.atomic():
        StudyReport.objects.filter(study=study, role=StudyReport.Role.CALIBRATION).delete()
        StudyReport.objects.filter(study=study, report_id__in=reports.values()).delete()
        StudyReport.objects.bulk_create(
            StudyReport(
                study=study,
                report_id=reports[item.report_code],
                role=StudyReport.Role.CALIBRATION,
                reference_scores=item.scores,
            )
            for item in items
        )
    return len(items)
