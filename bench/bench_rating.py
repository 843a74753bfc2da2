"""Benchmark 1, the rating flow: logged-in reviewers open their next report, save scores
one by one (htmx) and submit, against gunicorn + PostgreSQL on 127.0.0.1.

Study: 10,000 reports (half real, half synthetic) x 3 reviewers, a panel of 64 reviewers so
each concurrent virtual reviewer has their own queue (~470 reports). Load is driven from
this process with asyncio + aiohttp (gunicorn runs in its own processes): the load shares the
2 cores with the server, and httpx's async client spent ~2.7 ms of CPU per request here
(20 % of a core at 16 reviewers, queueing responses behind each other) against ~1 ms for
aiohttp — a browser's own cost is not what the targets are about. Each virtual reviewer
does what a physician's browser does: resume from the home page once (GET
/s/<study>/continue/ -> GET /r/<code>/), then loops: 6 x save (htmx POST
/r/<code>/score/<domain>/), submit (POST /r/<code>/submit/ with the form's fields, its radio
buttons included, as the browser posts it; it redirects straight to the
next report) and open next (GET of that redirect, /r/<next>/).

Two load models, both recorded:
- "paced": a think time between actions (BENCH_THINK_MS, default 250 ms mean, uniform
  0.5x-1.5x) — far quicker than a physician, who reads for tens of seconds and clicks a
  score every second or two, but keeps 64 reviewers a heavy load (~100+ requests/s).
  The targets apply to this model: concurrent reviewers are people, not a tight loop.
- "saturated": no think time at all, to show the server's ceiling (requests/s) and how
  latency grows once it is reached.

    .venv/bin/python bench/bench_rating.py          # BENCH_SECONDS=20 per level by default
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import string
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bench import harness
from bench.recording import record

REPORTS = int(os.environ.get("BENCH_REPORTS", "10000"))
RATERS_PER_REPORT = 3
REVIEWERS = 64
LEVELS = [int(n) for n in os.environ.get("BENCH_LEVELS", "1,16,64").split(",")]
SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
WARMUP_SECONDS = 3.0
THINK_MS = float(os.environ.get("BENCH_THINK_MS", "250"))
MODES = os.environ.get("BENCH_MODES", "paced,saturated").split(",")
TARGETS_MS = {"save": 30.0, "open_next": 50.0}
OPERATIONS = ("open_next", "save", "submit", "resume")

SECTIONS = [
    (
        "Motif d'hospitalisation",
        "Bilan et prise en charge d'un adénocarcinome {site} de stade {stage}.",
    ),
    (
        "Antécédents",
        "Hypertension artérielle traitée. Diabète de type 2 sous metformine. {n} ans.",
    ),
    (
        "Histoire de la maladie",
        "Découverte sur un scanner réalisé pour altération de l'état général avec perte de "
        "{kg} kg en trois mois. Biopsie confirmant le diagnostic histologique.",
    ),
    (
        "Examen clinique",
        "Patient en bon état général, OMS {oms}. Pas d'adénopathie palpable. Abdomen souple, "
        "dépressible et indolore. Auscultation cardio-pulmonaire normale.",
    ),
    (
        "Examens complémentaires",
        "TEP-scanner : hypermétabolisme de la lésion primitive, sans localisation secondaire. "
        "Bilan biologique : fonction rénale normale, CRP à {crp} mg/L.",
    ),
    (
        "Évolution",
        "Discussion en réunion de concertation pluridisciplinaire : chirurgie puis "
        "chimiothérapie adjuvante proposées. Bonne tolérance de l'hospitalisation.",
    ),
    (
        "Conclusion",
        "Sortie à domicile. Consultation d'annonce et rendez-vous de chirurgie programmés. "
        "Courrier adressé au médecin traitant.",
    ),
]
SITES = ["du côlon", "du rectum", "pulmonaire", "gastrique", "pancréatique", "de la prostate"]


def report_text(rng: random.Random) -> str:
    values = {
        "site": rng.choice(SITES),
        "stage": rng.choice(["I", "II", "III", "IV"]),
        "n": rng.randint(40, 90),
        "kg": rng.randint(2, 12),
        "oms": rng.randint(0, 2),
        "crp": rng.randint(1, 80),
    }
    return "\n\n".join(f"{title} :\n{body.format(**values)}" for title, body in SECTIONS)


def seed_study() -> tuple[str, list[str]]:
    """The study and one session per reviewer, created directly (no password hashing)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection

    from bench.seeding import session_create
    from review import services
    from review.models import Report, content_hash

    user_model = get_user_model()
    started = time.monotonic()
    coordinator = user_model.objects.create(username="bench-coordinator")
    coordinator.groups.add(Group.objects.get(name="coordinator"))
    reviewers = user_model.objects.bulk_create(
        user_model(username=f"bench-reviewer-{i:02d}", password="!unusable")
        for i in range(REVIEWERS)
    )
    reviewer_group = Group.objects.get(name="reviewer")
    user_model.groups.through.objects.bulk_create(
        user_model.groups.through(user_id=user.pk, group_id=reviewer_group.pk) for user in reviewers
    )
    rng = random.Random(8)
    reports = []
    for i in range(REPORTS):
        text = report_text(rng) + f"\n\nRéférence interne {i}."
        reports.append(
            Report(
                text=text,
                source=Report.Source.REAL if i % 2 else Report.Source.SYNTHETIC,
                content_hash=content_hash(text),
            )
        )
    reports = Report.objects.bulk_create(reports, batch_size=2000)
    study = services.study_create(
        name="Benchmark study", created_by=coordinator, raters_per_report=RATERS_PER_REPORT, seed=8
    )
    services.study_reports_add(study=study, reports=reports)
    services.study_reviewers_set(study=study, reviewers=reviewers)
    services.study_open(study=study, actor=coordinator)
    sessions = [session_create(user) for user in reviewers]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"Seeded {REPORTS} reports x {RATERS_PER_REPORT} raters, {REVIEWERS} reviewers "
        f"in {time.monotonic() - started:.1f}s",
        flush=True,
    )
    return study.code, sessions


@dataclass(frozen=True)
class Answer:
    status: int
    location: str
    text: str


class Tally:
    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.first_errors: list[str] = []
        self.client_cpu_percent = 0.0
        self.requests = 0
        # Virtual reviewers who rated the last report of their queue (sent home): they stop.
        self.finished = 0

    def error(self, operation: str, detail: str) -> None:
        self.errors[operation] += 1
        if len(self.first_errors) < 5:
            self.first_errors.append(f"{operation}: {detail}")


async def reviewer_loop(
    *,
    base_url: str,
    session_key: str,
    study_code: str,
    domains: list[str],
    stop_at: float,
    think_ms: float,
    tally: Tally,
    rng: random.Random,
) -> None:
    csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    async with aiohttp.ClientSession(
        base_url=base_url,
        cookies={"sessionid": session_key, "csrftoken": csrf},
        # The default jar keeps no cookie for a bare IP address such as 127.0.0.1.
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        headers={"X-CSRFToken": csrf},
        timeout=aiohttp.ClientTimeout(total=30),
        # One kept-alive connection per reviewer, as a browser tab; it expires on the client
        # before the server's keep-alive closes it.
        connector=aiohttp.TCPConnector(limit=1, keepalive_timeout=harness.GUNICORN_KEEP_ALIVE / 2),
    ) as client:

        async def think() -> None:
            if think_ms:
                await asyncio.sleep(think_ms * rng.uniform(0.5, 1.5) / 1000)

        async def timed(
            operation: str, method: str, url: str, expect: int, **kwargs
        ) -> tuple[Answer | None, float]:
            """One request, timed until its whole body has arrived."""
            started = time.perf_counter()
            tally.requests += 1
            try:
                async with client.request(method, url, allow_redirects=False, **kwargs) as raw:
                    response = Answer(raw.status, raw.headers.get("Location", ""), await raw.text())
            except (aiohttp.ClientError, TimeoutError) as exc:
                tally.error(operation, f"{type(exc).__name__} {url}")
                return None, 0.0
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != expect:
                tally.error(operation, f"{response.status} {method} {url}")
                return None, elapsed
            return response, elapsed

        async def open_page(operation: str, location: str, already_ms: float) -> str | None:
            """GET a rating page; the assignment code when it is one, else None."""
            page, elapsed = await timed(operation, "GET", location, 200)
            if page is None:
                return None
            if 'id="submit-form"' not in page.text:
                tally.error(operation, f"unexpected page at {location}")
                return None
            tally.samples[operation].append(already_ms + elapsed)
            return location.rstrip("/").split("/")[-1]

        code = None
        while time.monotonic() < stop_at:
            if code is None:
                # From the home page: "Continue" redirects to the first unrated report.
                redirect, first = await timed("resume", "GET", f"/s/{study_code}/continue/", 302)
                if redirect is not None and redirect.location == "/":
                    tally.finished += 1
                    return
                if redirect is not None:
                    code = await open_page("resume", redirect.location, first)
                if code is None:
                    await think()
                    continue
            # The form's fields, as the browser posts them with the submit: the radio
            # buttons (the scores saved one by one), the comment, the reading time.
            form = {"comment": "", "active_ms": "30000"}
            for domain in domains:
                if time.monotonic() >= stop_at:
                    return
                await think()
                form[f"score-{domain}"] = str(rng.randint(1, 10))
                saved, elapsed = await timed(
                    "save",
                    "POST",
                    f"/r/{code}/score/{domain}/",
                    200,
                    data={f"score-{domain}": form[f"score-{domain}"]},
                    headers={"HX-Request": "true"},
                )
                if saved is not None:
                    if "saved:" in saved.text:
                        tally.samples["save"].append(elapsed)
                    else:
                        tally.error("save", "score not shown as saved")
            if time.monotonic() >= stop_at:
                return
            await think()
            submitted, elapsed = await timed("submit", "POST", f"/r/{code}/submit/", 302, data=form)
            code = None
            if submitted is not None:
                tally.samples["submit"].append(elapsed)
                # Submit redirects straight to the next report, as the browser follows it.
                location = submitted.location
                if location == "/":
                    tally.finished += 1
                    return
                if location.startswith("/r/"):
                    code = await open_page("open_next", location, 0.0)


async def run_level(
    *,
    base_url: str,
    sessions: list[str],
    study_code: str,
    concurrency: int,
    seconds: float,
    think_ms: float,
    first: int = 0,
) -> tuple[Tally, float]:
    from review.protocol import DEFAULT_DOMAINS

    domains = [spec.key for spec in DEFAULT_DOMAINS]
    tally = Tally()
    cpu_started = time.process_time()
    started = time.monotonic()
    stop_at = started + seconds
    await asyncio.gather(
        *(
            reviewer_loop(
                base_url=base_url,
                session_key=sessions[(first + i) % len(sessions)],
                study_code=study_code,
                domains=domains,
                stop_at=stop_at,
                think_ms=think_ms,
                tally=tally,
                rng=random.Random(i),
            )
            for i in range(concurrency)
        )
    )
    elapsed = time.monotonic() - started
    tally.client_cpu_percent = 100 * (time.process_time() - cpu_started) / elapsed
    return tally, elapsed


def target_verdicts(rows: list[dict]) -> list[str]:
    """The issue's targets, judged on the paced load (reviewers are people, not a loop)."""
    verdicts = []
    for row in rows:
        if row["load"] != "paced":
            continue
        limit = TARGETS_MS.get(row["operation"])
        if row["reviewers"] == 16 and limit is not None:
            met = row["p95_ms"] <= limit
            verdicts.append(
                f"{row['operation']} p95 at 16 reviewers = {row['p95_ms']:.1f} ms "
                f"(target ≤ {limit:.0f} ms): {'met' if met else 'MISSED'}"
            )
    errors_at_64 = [
        row["errors"] for row in rows if row["load"] == "paced" and row["reviewers"] == 64
    ]
    if errors_at_64:
        total = sum(errors_at_64)
        verdicts.append(
            f"errors at 64 reviewers = {total} (target 0): {'met' if total == 0 else 'MISSED'}"
        )
    return verdicts


def measure(*, server: harness.Server, sessions: list[str], study_code: str) -> list[dict]:
    # Each level starts with the reviewers the previous ones used least: a single saturated
    # reviewer rates ~500 reports in 20 s, more than one queue of the 10,000-report study.
    next_first = 0

    def level(concurrency: int, seconds: float, think_ms: float) -> tuple[Tally, float]:
        nonlocal next_first
        first, next_first = next_first, (next_first + concurrency) % len(sessions)
        return asyncio.run(
            run_level(
                base_url=server.base_url,
                sessions=sessions,
                study_code=study_code,
                concurrency=concurrency,
                seconds=seconds,
                think_ms=think_ms,
                first=first,
            )
        )

    def server_cpu() -> tuple[float, dict[int, float]]:
        return server.cpu_seconds(), harness.postgres_backend_cpu()

    level(4, WARMUP_SECONDS, 0)  # every worker has loaded its templates and connections
    rows = []
    for mode in MODES:
        for concurrency in LEVELS:
            web_before, database_before = server_cpu()
            tally, elapsed = level(concurrency, SECONDS, THINK_MS if mode == "paced" else 0.0)
            web_after, database_after = server_cpu()
            # Server-side CPU per HTTP request (gunicorn + the PostgreSQL backends): what the
            # work costs, whatever else is competing for the cores meanwhile.
            cpu_seconds = web_after - web_before
            cpu_seconds += harness.cpu_delta_seconds(database_before, database_after)
            cpu_ms = 1000 * cpu_seconds / max(tally.requests, 1)
            for operation in OPERATIONS:
                rows.append(
                    {
                        "load": mode,
                        "reviewers": concurrency,
                        "operation": operation,
                        **harness.latency_summary(tally.samples[operation], seconds=elapsed),
                        "errors": tally.errors[operation],
                        "finished": tally.finished,
                        "server_cpu_ms/req": cpu_ms,
                        "client_cpu_%": tally.client_cpu_percent,
                    }
                )
                print(rows[-1], flush=True)
            for line in tally.first_errors:
                print("  error:", line, flush=True)
    return rows


def view_cpu_costs(*, session_key: str, study_code: str) -> list[dict]:
    """CPU per request of each reviewer view, in this process through Django's test client
    (no network, no other request in flight): best and median of 5 rounds of 40. Contention
    from other work on the machine inflates it much less than the latencies under load."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = session_key
    location = client.get(f"/s/{study_code}/continue/")["Location"]
    code = location.rstrip("/").split("/")[-1]
    views = {
        "home (GET /)": lambda: client.get("/"),
        "continue (GET /s/…/continue/)": lambda: client.get(f"/s/{study_code}/continue/"),
        "rating page (GET /r/…/)": lambda: client.get(location),
        "save (htmx POST /r/…/score/…/)": lambda: client.post(
            f"/r/{code}/score/completeness/",
            {"score-completeness": "5"},
            HTTP_HX_REQUEST="true",
        ),
    }
    rows = []
    for name, request in views.items():
        assert request().status_code in (200, 302), name
        rounds = []
        for _ in range(5):
            started = time.process_time()
            for _ in range(40):
                request()
            rounds.append((time.process_time() - started) / 40 * 1000)
        rounds.sort()
        rows.append({"view": name, "cpu_ms_best": rounds[0], "cpu_ms_median": rounds[2]})
        print(rows[-1], flush=True)
    return rows


def main() -> int:
    with harness.bench_database() as database_url:
        env = harness.server_environment(database_url)
        harness.migrate(env)
        harness.django_setup(env)
        study_code, sessions = seed_study()
        view_rows = view_cpu_costs(session_key=sessions[-1], study_code=study_code)
        with harness.gunicorn_server(env=env) as server:
            rows = measure(server=server, sessions=sessions, study_code=study_code)
        workers, threads = harness.gunicorn_sizing()
        notes = (
            f"Study of {REPORTS} reports x {RATERS_PER_REPORT} raters, {REVIEWERS} reviewers; "
            f"gunicorn {workers} workers x {threads} threads (gthread, gunicorn.conf.py), "
            "DEBUG off, load from a separate asyncio+aiohttp process, "
            f"{SECONDS:.0f} s per level. `paced`: think time {THINK_MS:.0f} ms mean between "
            "actions; `saturated`: none. open_next = GET of the next report's rating page, "
            "which submit redirects to (as the browser follows it); save = one htmx score "
            "POST; submit = POST submit with the form's fields as the browser sends them "
            "(the six scores, comment, reading time; its redirect timed as open_next); "
            "resume = GET "
            "continue + GET the rating page (the home page's Continue button: every reviewer "
            "of the level does it at the same instant at its start). per_s = completed "
            "operations per second; server_cpu_ms/req = CPU of gunicorn and the PostgreSQL "
            "backends per HTTP request in that level (all operations); "
            "client_cpu_% = CPU used by the load generator itself (it shares the cores with "
            "gunicorn and PostgreSQL).\n\n"
            + "\n".join(f"- {line}" for line in target_verdicts(rows))
        )
        record(
            title="Rating flow (bench_rating)",
            rows=rows,
            command="make bench (or .venv/bin/python bench/bench_rating.py)",
            notes=notes,
            database_url=database_url,
        )
        record(
            title="Rating flow: CPU per reviewer view, in-process (bench_rating)",
            rows=view_rows,
            command="make bench (or .venv/bin/python bench/bench_rating.py)",
            notes=(
                "Django test client in the benchmark process against the same database "
                "(Python CPU of the view incl. ORM and templates; PostgreSQL's own work not "
                "included), 5 rounds of 40 requests, best and median round."
            ),
            database_url=database_url,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
