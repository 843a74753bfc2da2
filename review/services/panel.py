"""The study's panel: who reviews, under which pseudonym, and what happens to their
unfinished reports when they drop out."""

import random
import re
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Max
from django.utils.translation import gettext as _

from review.exceptions import Conflict, InvalidInput
from review.models import (
    Assignment,
    Study,
    StudyReviewer,
)
from review.permissions import user_is_coordinator
from review.services.audit import audit_log
from review.services.studies import study_lock, study_require_draft


def study_reviewers_set(
    *, study: Study, reviewers: Sequence[User], actor: User | None = None
) -> None:
    """Set the panel of a draft study; pseudonyms (R1, R2, …) follow a seeded shuffle.
    Audited with the pseudonyms, not the names, as the rest of the study's trail."""
    study_require_draft(study=study)
    reviewers = list(dict.fromkeys(reviewers))
    for reviewer in reviewers:
        _require_panel_eligible(reviewer)
    with transaction.atomic():
        study_require_draft(study=study_lock(study=study))
        study.panel.all().delete()
        order = list(range(1, len(reviewers) + 1))
        random.Random(study.seed).shuffle(order)
        StudyReviewer.objects.bulk_create(
            StudyReviewer(study=study, reviewer=reviewer, pseudonym=f"R{number}")
            for reviewer, number in zip(reviewers, order, strict=True)
        )
        audit_log(
            actor=actor,
            action="panel.set",
            study=study,
            target=study.code,
            details={"reviewers": len(reviewers)},
        )


def _require_panel_eligible(reviewer: User) -> None:
    if not reviewer.has_perm("review.rate"):
        raise InvalidInput(
            _("%(user)s is not a reviewer.") % {"user": reviewer.get_username()},
            code="not_reviewer",
        )
    # A coordinator sees every report's source: on a panel, they would rate unblinded.
    if user_is_coordinator(reviewer):
        raise InvalidInput(
            _("%(user)s is a coordinator and sees every report's source: not on a panel.")
            % {"user": reviewer.get_username()},
            code="coordinator_on_panel",
        )


def _pseudonym_next(study: Study) -> str:
    """R{n} after the highest number in use. The caller holds the study's row lock, so two
    coordinators adding reviewers at once take turns instead of both picking the same n."""
    numbers = [
        int(match.group(1))
        for pseudonym in study.panel.values_list("pseudonym", flat=True)
        if (match := re.fullmatch(r"R(\d+)", pseudonym))
    ]
    return f"R{max(numbers, default=0) + 1}"


def study_reviewer_add(*, study: Study, reviewer: User, actor: User | None = None) -> StudyReviewer:
    """Add a reviewer to the panel (for an open study, they receive reports on drop-outs)."""
    _require_panel_eligible(reviewer)
    with transaction.atomic():
        study = study_lock(study=study)
        if study.status == Study.Status.CLOSED:
            raise Conflict(_("The study is closed."), code="study_closed")
        seat = study.panel.filter(reviewer=reviewer).first()
        if seat is None:
            seat = StudyReviewer.objects.create(
                study=study, reviewer=reviewer, pseudonym=_pseudonym_next(study)
            )
        elif not seat.active:
            seat.active = True
            seat.save(update_fields=["active"])
        audit_log(actor=actor, action="panel.add", study=study, target=seat.pseudonym, details={})
    return seat


def study_reviewer_remove(*, study: Study, reviewer: User, actor: User | None = None) -> int:
    """A reviewer drops out: their submitted ratings stay; every report they had not yet
    submitted goes to the least-loaded active reviewer who does not already have it.
    Returns the number of reports reassigned.

    Never loses a submission made while the removal runs: the study's row lock waits for
    every rating write and submit in flight (they hold a share lock on it, see
    `assignment_lock`) and holds off new ones; each assignment is then locked and
    deleted only if it is still unsubmitted."""
    with transaction.atomic():
        study = study_lock(study=study)
        seat = study.panel.select_for_update().filter(reviewer=reviewer, active=True).first()
        if seat is None:
            raise InvalidInput(_("This reviewer is not on the study's panel."), code="not_panel")
        if study.status == Study.Status.CLOSED:
            raise Conflict(_("The study is closed."), code="study_closed")
        seat.active = False
        seat.save(update_fields=["active"])
        if study.status == Study.Status.DRAFT:
            audit_log(actor=actor, action="panel.remove", study=study, target=seat.pseudonym)
            return 0
        own = study.assignments.filter(reviewer=reviewer)
        unfinished = list(
            own.select_for_update().exclude(status=Assignment.Status.SUBMITTED).order_by("position")
        )
        others = list(
            study.panel.filter(active=True)
            .exclude(reviewer=reviewer)
            .values_list("reviewer_id", flat=True)
        )
        load = dict.fromkeys(others, 0)
        for row in (
            study.assignments.filter(reviewer_id__in=others)
            .values("reviewer_id")
            .annotate(n=Count("id"))
        ):
            load[row["reviewer_id"]] = row["n"]
        has_report = set(
            study.assignments.filter(reviewer_id__in=others).values_list("reviewer_id", "report_id")
        )
        next_position = {
            row["reviewer_id"]: row["top"]
            for row in study.assignments.filter(reviewer_id__in=others)
            .values("reviewer_id")
            .annotate(top=Max("position"))
        }
        rng = random.Random(study.seed + reviewer.pk)
        rng.shuffle(unfinished)
        moved = 0
        for assignment in unfinished:
            candidates = [rid for rid in others if (rid, assignment.report_id) not in has_report]
            if not candidates:
                raise Conflict(
                    _("No other reviewer is free to take report %(code)s; add a reviewer first.")
                    % {"code": assignment.report.code},
                    code="no_replacement",
                )
            # Conditional on the status as well as locked: a submitted row is never deleted.
            _count, deleted = (
                Assignment.objects.filter(pk=assignment.pk)
                .exclude(status=Assignment.Status.SUBMITTED)
                .delete()
            )
            if not deleted.get(Assignment._meta.label):
                continue
            target = min(candidates, key=lambda rid: (load[rid], rng.random()))
            next_position[target] = next_position.get(target, 0) + 1
            Assignment.objects.create(
                study=study,
                reviewer_id=target,
                report_id=assignment.report_id,
                position=next_position[target],
            )
            load[target] += 1
            has_report.add((target, assignment.report_id))
            moved += 1
        audit_log(
            actor=actor,
            action="panel.remove",
            study=study,
            target=seat.pseudonym,
            details={
                "reassigned": moved,
                "kept_submitted": own.filter(status=Assignment.Status.SUBMITTED).count(),
            },
        )
    return moved
