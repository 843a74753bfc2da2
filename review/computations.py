"""A study's expensive figures, computed in the background and served from their stored copy.

The results (statistics and plots), the LLM judge's comparison, the surface cues and the
leak audit take from a second to minutes to compute on a large study. No page computes
them while a coordinator waits: `computations_schedule` sends the
`review.study_computations_refresh` task (debounced per study: one message for a burst of
submitted ratings), the task stores each value in `StudyComputation` with a fingerprint of
what it was computed from, and the pages read the stored value with its age
(`computation_read`). A page whose stored value is stale (fingerprint changed) shows it,
says it is being updated, and schedules the refresh itself, so a lost message only delays.

Works with Redis (production) and with the demo's file-system broker and SQLite: the
debounce key lives in the configured cache, the values in the database.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from review.models import Assignment, AuditEvent, JudgeRating, Study, StudyComputation
from synthreports.celery import task_send

REFRESH_TASK = "review.study_computations_refresh"
Kind = StudyComputation.Kind
# What a submitted rating changes; the leak audit (seconds to minutes, independent of the
# ratings) is refreshed when its own page asks for it.
RATING_KINDS = (Kind.RESULTS, Kind.JUDGE, Kind.SURFACE)
# The leak audit page's sizes: it answers in a few seconds even for large studies; the
# `audit_blinding` command has no cap. 100 permutations: the fewest with which p < 0.01
# (the leak threshold) can be reached.
LEAK_AUDIT_MAX_REPORTS_PER_REVIEWER = 60
LEAK_AUDIT_PERMUTATIONS = 100


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


# --- fingerprints: one small aggregate query each -------------------------------------------


def _results_fingerprint(study: Study) -> str:
    # Imported here: review.results loads pandas and the statistics engine, which a page that
    # only reads a stored value does not need.
    from review.results import RESULTS_VERSION, study_ratings_fingerprint

    return ":".join(
        str(part)
        for part in (
            RESULTS_VERSION,
            study_ratings_fingerprint(study=study),
            study.scale_min,
            study.scale_max,
            study.noninferiority_margin,
            study.seed,
            settings.STATS_BOOTSTRAP_RESAMPLES,
        )
    )


def _members_fingerprint(study: Study) -> str:
    members = study.memberships.aggregate(n=Count("id"), last=Max("id"))
    return f"{members['n']}:{members['last']}"


def _judge_fingerprint(study: Study) -> str:
    judged = JudgeRating.objects.filter(study=study).aggregate(n=Count("id"), last=Max("id"))
    return f"{_results_fingerprint(study)}|{judged['n']}:{judged['last']}"


def _leak_audit_fingerprint(study: Study) -> str:
    queues = Assignment.objects.filter(study=study).aggregate(n=Count("id"), last=Max("id"))
    decisions = AuditEvent.objects.filter(study=study, action__startswith="blinding.").count()
    return (
        f"{_members_fingerprint(study)}|{queues['n']}:{queues['last']}|{decisions}|{study.status}"
    )


FINGERPRINTS = {
    Kind.RESULTS: _results_fingerprint,
    Kind.JUDGE: _judge_fingerprint,
    Kind.SURFACE: _members_fingerprint,
    Kind.LEAK_AUDIT: _leak_audit_fingerprint,
}


def computation_fingerprint(*, study: Study, kind: str) -> str:
    return FINGERPRINTS[Kind(kind)](study)


# --- computing -----------------------------------------------------------------------------


def _compute(study: Study, kind: str, language: str) -> Any:
    if kind == Kind.RESULTS:
        from review.results import study_results

        return study_results(study=study, language=language)
    if kind == Kind.JUDGE:
        from review.judge import judge_results

        return judge_results(study=study)
    if kind == Kind.SURFACE:
        from review.blinding.surface import surface_cues

        return surface_cues(study=study)
    from review.blinding.audit import blinding_audit

    return blinding_audit(
        study=study,
        permutations=LEAK_AUDIT_PERMUTATIONS,
        max_reports_per_reviewer=LEAK_AUDIT_MAX_REPORTS_PER_REVIEWER,
    )


def computations_refresh(*, study: Study, kinds: Iterable[str] = RATING_KINDS) -> list[str]:
    """Compute and store each kind whose stored value is missing or stale. Returns the
    kinds (with language) that were computed. Idempotent: a redelivered message finds the
    fingerprints current and computes nothing."""
    done = []
    for kind in kinds:
        languages = _languages() if kind == Kind.RESULTS else [""]
        fingerprint = computation_fingerprint(study=study, kind=kind)
        stored = dict(
            StudyComputation.objects.filter(
                study=study, kind=kind, language__in=languages
            ).values_list("language", "fingerprint")
        )
        for language in languages:
            if stored.get(language) == fingerprint:
                continue
            started = time.perf_counter()
            value = _compute(study, kind, language)
            StudyComputation.objects.update_or_create(
                study=study,
                kind=kind,
                language=language,
                defaults={
                    "fingerprint": fingerprint,
                    "computed_at": timezone.now(),
                    "seconds": time.perf_counter() - started,
                    "payload": pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL),
                },
            )
            done.append(f"{kind}:{language}" if language else str(kind))
    return done


# --- scheduling ----------------------------------------------------------------------------


def _pending_key(study_id: int, kinds: Iterable[str]) -> str:
    return f"study-computations-pending:{study_id}:{','.join(sorted(kinds))}"


def computations_schedule(*, study_id: int, kinds: Iterable[str] = RATING_KINDS) -> bool:
    """Ask for a refresh of the study's figures, after the current transaction commits.
    Debounced: while one is pending (sent, not yet started) for the same kinds, nothing is
    sent; the task waits RESULTS_REFRESH_DELAY_SECONDS so that a burst of submissions is
    one computation. Returns whether a message was sent (or will be, on commit)."""
    kinds = [str(kind) for kind in kinds]
    delay = settings.RESULTS_REFRESH_DELAY_SECONDS
    # Expires by itself after the delay plus a margin: a message lost with a broker restart
    # does not block the next refresh for longer than that.
    if not cache.add(_pending_key(study_id, kinds), 1, timeout=delay + 120):
        return False

    transaction.on_commit(
        lambda: task_send(
            REFRESH_TASK, kwargs={"study_id": study_id, "kinds": kinds}, countdown=delay
        )
    )
    return True


def computations_pending_clear(*, study_id: int, kinds: Iterable[str]) -> None:
    """Called by the task as it starts: submissions from now on schedule a new refresh."""
    cache.delete(_pending_key(study_id, [str(kind) for kind in kinds]))


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredComputation:
    value: Any
    computed_at: datetime
    seconds: float
    stale: bool

    @property
    def age_seconds(self) -> int:
        return max(0, int((timezone.now() - self.computed_at).total_seconds()))


def computation_read(
    *, study: Study, kind: str, language: str = "", schedule: bool = True
) -> StoredComputation | None:
    """The stored value of one kind, or None if it was never computed. Two queries (the
    current fingerprint, the stored row); a missing or stale value schedules a refresh."""
    if kind != Kind.RESULTS:
        language = ""
    elif language not in _languages():
        language = settings.LANGUAGE_CODE
    fingerprint = computation_fingerprint(study=study, kind=kind)
    row = (
        StudyComputation.objects.filter(study=study, kind=kind, language=language)
        .values_list("fingerprint", "computed_at", "seconds", "payload")
        .first()
    )
    stale = row is None or row[0] != fingerprint
    if stale and schedule:
        computations_schedule(study_id=study.pk, kinds=[kind])
    if row is None:
        return None
    return StoredComputation(
        value=pickle.loads(bytes(row[3])),  # noqa: S301 (written by the refresh task only)
        computed_at=row[1],
        seconds=row[2],
        stale=stale,
    )
