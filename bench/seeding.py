"""Seeding a rated study fast, for the results and export benchmarks.

`rated_study_seed(reports=100_000, raters=2)` builds a study through the real services
(study_create, study_reports_add, study_reviewers_set, study_open: the same allocation and
queues as production), marks every assignment submitted with one UPDATE, and loads the
ratings with PostgreSQL COPY (1.2 M rows in well under a minute, the scale trigger of
review/migrations/0002 still checking each row). Django must already be set up
(`harness.django_setup`).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import numpy as np

# A short report body: its text is not what these benchmarks read.
REPORT_TEXT = (
    "Motif d'hospitalisation :\nBilan d'un adénocarcinome colique de stade {stage}.\n\n"
    "Évolution :\nSéjour sans complication. Sortie à domicile.\n\nRéférence {i}."
)


@dataclass(frozen=True)
class SeededStudy:
    study_id: int
    study_code: str
    coordinator_session: str
    n_reports: int
    n_ratings: int
    seconds: float


def _unique_codes(count: int, prefix: str, length: int) -> list[str]:
    # Report codes are 6 random characters: at 100,000 reports a few would collide, which
    # the unique index would reject in the middle of a bulk insert.
    from review.models import CODE_ALPHABET

    codes: set[str] = set()
    while len(codes) < count:
        codes.add(prefix + "".join(secrets.choice(CODE_ALPHABET) for _ in range(length)))
    return sorted(codes, key=lambda _c: secrets.randbits(32))


def session_create(user) -> str:
    """A signed-in session for `user` in the store the server reads (SESSION_ENGINE: the
    cache when there is Redis, else the database), without password hashing."""
    from importlib import import_module

    from django.conf import settings

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "review.permissions.RoleReadingModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return str(session.session_key)


def coordinator_session_create(username: str = "bench-coordinator") -> tuple[object, str]:
    """A coordinator and a logged-in session key for it (no password hashing)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create(username=username, password="!unusable")
    user.groups.add(Group.objects.get(name="coordinator"))
    return user, session_create(user)


def rated_study_seed(*, reports: int, raters: int, seed: int = 8) -> SeededStudy:
    """A study of `reports` reports (half synthetic, over two batches and two prompt
    versions) × `raters` reviewers, every assignment submitted with all six domains rated."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.utils import timezone

    from review import services
    from review.models import Assignment, Report, content_hash

    started = time.monotonic()
    user_model = get_user_model()
    coordinator, session_key = coordinator_session_create()
    reviewers = user_model.objects.bulk_create(
        user_model(username=f"bench-reviewer-{i:02d}", password="!unusable") for i in range(raters)
    )
    reviewer_group = Group.objects.get(name="reviewer")
    user_model.groups.through.objects.bulk_create(
        user_model.groups.through(user_id=user.pk, group_id=reviewer_group.pk) for user in reviewers
    )
    codes = _unique_codes(reports, "R-", 6)
    objects = []
    for i in range(reports):
        text = REPORT_TEXT.format(stage=["I", "II", "III", "IV"][i % 4], i=i)
        synthetic = i % 2 == 1
        provenance = (
            {
                "kind": "generation",
                "batch": "b1" if i % 4 == 1 else "b2",
                "model": "mistral-large-latest",
                "prompt_version": "v1" if i % 3 == 0 else "v2",
            }
            if synthetic
            else {"kind": "import"}
        )
        objects.append(
            Report(
                code=codes[i],
                text=text,
                source=Report.Source.SYNTHETIC if synthetic else Report.Source.REAL,
                content_hash=content_hash(text),
                provenance=provenance,
            )
        )
    created = Report.objects.bulk_create(objects, batch_size=5000)
    study = services.study_create(
        name="Benchmark study", created_by=coordinator, raters_per_report=raters, seed=seed
    )
    services.study_reports_add(study=study, reports=created)
    services.study_reviewers_set(study=study, reviewers=reviewers)
    services.study_open(study=study, actor=coordinator)
    now = timezone.now()
    Assignment.objects.filter(study=study).update(
        status=Assignment.Status.SUBMITTED, submitted_at=now, active_ms=75000
    )
    domain_ids = list(study.domains.order_by("order").values_list("pk", flat=True))
    assignment_rows = np.array(
        list(Assignment.objects.filter(study=study).values_list("pk", "report_id")),
        dtype=np.int64,
    )
    # Scores: a per-report quality, synthetic a little lower, plus per-rating noise.
    rng = np.random.default_rng(seed)
    report_ids = np.array([r.pk for r in created], dtype=np.int64)
    quality = dict(
        zip(
            report_ids.tolist(),
            (rng.normal(8, 1, len(report_ids)) - 0.4 * (np.arange(len(report_ids)) % 2)).tolist(),
            strict=True,
        )
    )
    base = np.array([quality[r] for r in assignment_rows[:, 1].tolist()])
    noise = rng.normal(0, 1, (len(assignment_rows), len(domain_ids)))
    scores = np.clip(np.round(base[:, None] + noise), 1, 10).astype(int)
    stamp = now.isoformat()
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.copy(
            "COPY review_rating (assignment_id, domain_id, score, updated_at) FROM STDIN"
        ) as copy,
    ):
        for row, (assignment_id, _report) in enumerate(assignment_rows.tolist()):
            for column, domain_id in enumerate(domain_ids):
                copy.write_row((assignment_id, domain_id, int(scores[row, column]), stamp))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    n_ratings = len(assignment_rows) * len(domain_ids)
    seconds = time.monotonic() - started
    print(
        f"Seeded {reports} reports x {raters} raters x {len(domain_ids)} domains = "
        f"{n_ratings} ratings in {seconds:.1f}s",
        flush=True,
    )
    return SeededStudy(
        study_id=study.pk,
        study_code=study.code,
        coordinator_session=session_key,
        n_reports=reports,
        n_ratings=n_ratings,
        seconds=seconds,
    )
