"""Import to "ready to rate" in one process: for comparing two checkouts in alternation.

Imports 2,000 English reports of 2,500 characters (the peer comparison's texts) as one
JSONL upload (`report_import_commit`: parse, de-identification, duplicate checks, insert),
adds them to a study of 16 reviewers x 3 and opens it, and prints the wall seconds of each
step and the process's CPU. The side-by-side runs (bench/peer/) measure the same steps over
HTTP against Label Studio; this one compares two versions of our code on the same machine.

Each checkout needs its own database, migrated by its own code, and each run must start in
the checkout it measures (Celery puts the working directory first on sys.path):

    createdb sr_ready_old; createdb sr_ready_new
    git worktree add /tmp/old <commit>
    PG=postgres://postgres@127.0.0.1:5432 PY=$PWD/.venv/bin/python B=$PWD/bench
    (cd /tmp/old && DATABASE_URL=$PG/sr_ready_old REPO=/tmp/old $PY $B/import_ready.py migrate)
    DATABASE_URL=$PG/sr_ready_new $PY bench/import_ready.py migrate
    for i in 1 2 3 4; do
      (cd /tmp/old && DATABASE_URL=$PG/sr_ready_old REPO=/tmp/old $PY $B/import_ready.py)
      DATABASE_URL=$PG/sr_ready_new $PY bench/import_ready.py
    done

Every run empties the study and report tables of its database first.

On a machine whose speed drifts (round eight's: the same loop 0.44 to 0.86 s from one run to
the next), count instructions instead, deterministic to 0.01 %: with BENCH_CALLGRIND=1 the
script switches valgrind's instrumentation on only around the three timed steps,

    BENCH_CALLGRIND=1 DATABASE_URL=$PG/sr_ready_new valgrind --tool=callgrind \
      --instr-atstart=no --callgrind-out-file=/tmp/cg.new $PY bench/import_ready.py
    grep ^totals: /tmp/cg.new

(about 90 s a run; the Python process only, not PostgreSQL's; SHA-256 runs there without the
CPU's SHA instructions, so hashing weighs several times what it does outside valgrind).
"""

from __future__ import annotations

import gc
import json
import os
import random
import sys
import time
from pathlib import Path

REPO = Path(os.environ.get("REPO", Path(__file__).resolve().parent.parent)).resolve()
sys.path[:0] = [str(REPO), str(REPO / "bench" / "peer")]
os.environ.setdefault("SECRET_KEY", "bench-import-ready")
os.environ.setdefault("ALLOWED_HOSTS", "*")
os.environ["DJANGO_SETTINGS_MODULE"] = "synthreports.settings"

import django  # noqa: E402

django.setup()

from bench.harness import callgrind_instrument  # noqa: E402

REPORTS = 2000
REVIEWERS = 16


def main() -> int:
    from django.core.management import call_command

    if sys.argv[1:] == ["migrate"]:
        call_command("migrate", verbosity=0)
        return 0
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from peer_side_by_side import make_report

    from review import services
    from review.imports.parsing import ImportOptions
    from review.imports.services import report_import_commit
    from review.models import Report

    users = get_user_model()
    coordinator, _ = users.objects.get_or_create(username="bench-ready-coordinator")
    reviewer_group = Group.objects.get(name="reviewer")
    reviewers = []
    for number in range(REVIEWERS):
        reviewer, _ = users.objects.get_or_create(username=f"bench-ready-reviewer-{number:02d}")
        reviewer.groups.add(reviewer_group)
        reviewers.append(reviewer)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE review_rating, review_assignment, review_studyreport, review_studyreviewer,"
            " review_domain, review_study, review_report, review_reportimport,"
            " review_auditevent CASCADE"
        )
    # What a web process loads at start (synthreports/wsgi.py) before its first request:
    # without it the opening paid the accent lexicons' 0.5 s, which a server never does.
    from synthreports.warmup import warm_up

    warm_up()
    # And what gunicorn.conf.py's pre_fork does next: what the process loaded so far is out
    # of the garbage collector's reach. Without it a full collection (~0.15 s over Django,
    # pandas, SciPy) landed in one step or another of a run, at random.
    gc.freeze()
    rng = random.Random(7)
    # A fresh suffix per run: the duplicate check would refuse the texts of the run before.
    suffix = str(time.time_ns())
    body = "".join(
        json.dumps({"text": f"{make_report(rng)} {suffix}"}) + "\n" for _ in range(REPORTS)
    ).encode()
    callgrind_instrument(on=True)
    started, cpu_started = time.perf_counter(), time.process_time()
    report_import = report_import_commit(
        data=body,
        file_name="reports.jsonl",
        created_by=coordinator,
        options=ImportOptions(file_format="jsonl", language="en"),
    )
    imported = time.perf_counter()
    study = services.study_create(name="ready", created_by=coordinator, raters_per_report=3, seed=8)
    services.study_reviewers_set(study=study, reviewers=reviewers)
    reports = list(Report.objects.filter(report_import=report_import).only("pk", "code"))
    services.study_reports_add(study=study, reports=reports)
    added = time.perf_counter()
    services.study_open(study=study, actor=coordinator)
    opened, cpu_ended = time.perf_counter(), time.process_time()
    callgrind_instrument(on=False)
    total = opened - started
    print(
        f"{REPO.name}: import {imported - started:.2f} s, add {added - imported:.2f} s, "
        f"open {opened - added:.2f} s, total {total:.2f} s wall ({REPORTS / total:.0f}/s), "
        f"Python CPU {cpu_ended - cpu_started:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
