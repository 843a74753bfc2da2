"""Benchmark 3, the export: `ratings.csv` of a study with 1.2 M ratings (100,000 reports x 2
reviewers x 6 domains, every assignment submitted), streamed over HTTP by gunicorn (the
production entry point, DEBUG off) to a coordinator's session, read by httpx from this
process.

Target: the whole file in <= 20 s, with the server's memory flat: the peak resident memory
of gunicorn (master + workers, summed, sampled every 0.1 s) during the download is compared
with its memory just before. Two downloads in a row: the second shows whether anything is
kept from the first.

    .venv/bin/python bench/bench_export.py                 # BENCH_EXPORT_REPORTS=100000
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench import harness
from bench.recording import record

REPORTS = int(os.environ.get("BENCH_EXPORT_REPORTS", "100000"))
RATERS = 2
DOWNLOADS = 2
TARGET_SECONDS = 20.0
# "Flat": the download may not grow the server by more than this, whatever its size.
FLAT_MB = 100.0


def download(client: httpx.Client, url: str) -> dict[str, float | int]:
    started = time.perf_counter()
    first_byte = None
    size = 0
    lines = 0
    with client.stream("GET", url) as response:
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        for chunk in response.iter_bytes():
            if first_byte is None:
                first_byte = time.perf_counter() - started
            size += len(chunk)
            lines += chunk.count(b"\n")
    return {
        "seconds": time.perf_counter() - started,
        "first_byte_s": first_byte or 0.0,
        "bytes": size,
        "lines": lines,
    }


def main() -> int:
    with harness.bench_database(f"{harness.BENCH_DATABASE}_export") as database_url:
        env = harness.server_environment(database_url)
        harness.migrate(env)
        harness.django_setup(env)
        from bench.seeding import rated_study_seed

        seeded = rated_study_seed(reports=REPORTS, raters=RATERS)
        from django.db import connections

        connections.close_all()
        url = f"/coordinate/results/{seeded.study_id}/ratings.csv"
        rows = []
        workers, threads = harness.gunicorn_sizing()
        with (
            harness.gunicorn_server(env=env) as server,
            httpx.Client(
                base_url=server.base_url,
                cookies={"sessionid": seeded.coordinator_session},
                timeout=120,
            ) as client,
        ):
            # A request to every worker before "before" (sessions, connections, caches).
            for _ in range(workers * 2):
                client.get("/coordinate/studies/").raise_for_status()
            for run in range(1, DOWNLOADS + 1):
                time.sleep(1)
                before = server.rss_bytes()
                with harness.RssSampler(server.rss_bytes) as memory:
                    outcome = download(client, url)
                after = server.rss_bytes()
                print(f"download {run}: {outcome}", flush=True)
                rows.append(
                    {
                        "download": run,
                        "ratings": seeded.n_ratings,
                        "lines": outcome["lines"],
                        "mb": outcome["bytes"] / 1e6,
                        "first_byte_s": outcome["first_byte_s"],
                        "seconds": outcome["seconds"],
                        "ratings_per_s": seeded.n_ratings / outcome["seconds"],
                        "rss_before_mb": before / 2**20,
                        "peak_rss_mb": memory.peak_bytes / 2**20,
                        "growth_mb": (memory.peak_bytes - before) / 2**20,
                        "rss_after_mb": after / 2**20,
                    }
                )
        if any(row["lines"] != seeded.n_ratings + 1 for row in rows):
            raise RuntimeError(f"expected {seeded.n_ratings + 1} lines: {rows}")
        worst = max(row["seconds"] for row in rows)
        growth = max(row["growth_mb"] for row in rows)
        notes = (
            f"Study of {REPORTS:,} reports × {RATERS} reviewers × 6 domains, all submitted "
            f"({seeded.n_ratings:,} ratings, seeded in {seeded.seconds:.0f} s with COPY). "
            f"GET {url.replace(str(seeded.study_id), '<pk>')} with a coordinator session, "
            f"gunicorn {workers} workers × {threads} threads, "
            "DEBUG off, body read by httpx in this process (header + one line per rating, "
            "checked). RSS = gunicorn master + workers summed; growth = peak during the "
            "download − RSS just before it.\n"
            f"- slowest download {worst:.1f} s (target ≤ {TARGET_SECONDS:g} s): "
            f"{'met' if worst <= TARGET_SECONDS else 'MISSED'}\n"
            f"- server memory growth ≤ {growth:.0f} MB during a "
            f"{rows[0]['mb']:.0f} MB download (flat = under {FLAT_MB:g} MB): "
            f"{'met' if growth <= FLAT_MB else 'MISSED'}\n"
        )
        record(
            title="Export: ratings.csv over HTTP (bench_export)",
            rows=rows,
            command=".venv/bin/python bench/bench_export.py",
            notes=notes,
            database_url=database_url,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
