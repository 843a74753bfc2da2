"""50 reviewers saving ratings at the same time against a real gunicorn, on 127.0.0.1.

Each reviewer is one thread sending one request at a time (score clicks over htmx, with a
short think time) until the deadline; the loop stops by itself. Afterwards what is stored
must be exactly the last score each reviewer sent per (assignment, domain): nothing lost,
nothing duplicated, and no 5xx on the way.

RELIABILITY_LOAD_SECONDS sets the duration: 15 s in the suite, 60 s for the figure in
bench/RELIABILITY.md (`RELIABILITY_LOAD_SECONDS=60 pytest -s -k concurrent_reviewers`).
"""

import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
import requests
from django.db import connection
from django.test import Client
from django.urls import reverse

from review.models import Assignment, Rating
from tests.celery_workers import ROOT, stop, wait_until
from tests.conftest import make_open_study
from tests.factories import PASSWORD, CoordinatorFactory, ReviewerFactory

pytestmark = pytest.mark.integration

REVIEWERS = 50
DURATION = float(os.environ.get("RELIABILITY_LOAD_SECONDS", "15"))
DOMAINS = (
    "language_quality",
    "medical_consistency",
    "completeness",
    "conciseness",
    "overall_impression",
    "ai_authorship",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _gunicorn(port: int) -> subprocess.Popen:
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
            "GUNICORN_ACCESS_LOG": "",
        }
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "synthreports.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--workers",
            "2",
            "--threads",
            "8",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def test_50_concurrent_reviewers_no_5xx_no_lost_or_duplicate_rating(roles):
    coordinator = CoordinatorFactory()
    reviewers = ReviewerFactory.create_batch(REVIEWERS)
    # 100 reports, 3 raters each: 6 assignments of 6 domains per reviewer.
    study = make_open_study(
        coordinator=coordinator, reviewers=reviewers, n_real=50, n_synthetic=50, k=3, seed=5
    )
    domain_keys = set(study.domains.values_list("key", flat=True))
    assert domain_keys == set(DOMAINS)
    sessions = {}
    for reviewer in reviewers:
        login = Client()
        assert login.login(username=reviewer.username, password=PASSWORD)
        codes = list(
            Assignment.objects.filter(study=study, reviewer=reviewer).values_list("code", flat=True)
        )
        sessions[reviewer.pk] = (login.cookies["sessionid"].value, codes)

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _gunicorn(port)
    sent: dict[tuple[str, str], int] = {}
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    try:
        assert wait_until(lambda: _answers(base + reverse("login")), 60)
        deadline = time.monotonic() + DURATION

        def reviewer_loop(seed: int, session_id: str, codes: list[str]) -> None:
            rng = random.Random(seed)
            http = requests.Session()
            http.cookies.set("sessionid", session_id)
            try:
                page = http.get(base + reverse("review:rate", args=[codes[0]]), timeout=30)
                with lock:
                    statuses[page.status_code] += 1
                token = http.cookies["csrftoken"]
                while time.monotonic() < deadline:
                    code, domain, score = rng.choice(codes), rng.choice(DOMAINS), rng.randint(1, 10)
                    url = base + reverse("review:rate_score", args=[code, domain])
                    started = time.monotonic()
                    response = http.post(
                        url,
                        data={f"score-{domain}": str(score)},
                        headers={"X-CSRFToken": token, "HX-Request": "true"},
                        timeout=30,
                    )
                    elapsed = time.monotonic() - started
                    with lock:
                        statuses[response.status_code] += 1
                        latencies.append(elapsed)
                        if response.status_code == 200:
                            sent[(code, domain)] = score
                    time.sleep(rng.uniform(0.05, 0.2))  # think time: bounded load
            except Exception as exc:  # a thread must report, not die silently
                with lock:
                    errors.append(repr(exc))

        threads = [
            threading.Thread(target=reviewer_loop, args=(pk, session_id, codes), daemon=True)
            for pk, (session_id, codes) in sessions.items()
        ]
        started_at = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=DURATION + 60)
        wall = time.monotonic() - started_at
        assert not any(thread.is_alive() for thread in threads)
    finally:
        stop(server, signal.SIGTERM)

    stored = {
        (code, key): score
        for code, key, score in Rating.objects.filter(assignment__study=study).values_list(
            "assignment__code", "domain__key", "score"
        )
    }
    saves = sum(n for status, n in statuses.items() if status != 200) + len(latencies)
    latencies.sort()
    print(
        f"\nconcurrent reviewers: {REVIEWERS} for {DURATION:.0f} s (wall {wall:.1f} s): "
        f"{len(latencies)} saves, {len(latencies) / wall:.0f}/s, statuses={dict(statuses)}, "
        f"p50={statistics.median(latencies) * 1000:.0f} ms "
        f"p95={latencies[int(len(latencies) * 0.95)] * 1000:.0f} ms, "
        f"distinct (assignment, domain) saved={len(stored)}"
    )
    assert errors == []
    assert [status for status in statuses if status >= 500] == []
    assert set(statuses) == {200}
    assert saves > REVIEWERS
    assert stored == sent
    assert Rating.objects.filter(assignment__study=study).count() == len(sent)
