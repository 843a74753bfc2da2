"""Shared plumbing for the benchmarks: a throw-away PostgreSQL database, Django set up
in-process for seeding, a gunicorn server started exactly as in production, and latency
summaries.

Everything runs against 127.0.0.1 only, with DEBUG off. A benchmark script typically does:

    with bench_database() as database_url:
        env = server_environment(database_url)
        migrate(env)
        django_setup(env)            # then seed with the ORM / services
        with gunicorn_server(env=env) as server:
            ...drive load against server.base_url, sample server.rss_bytes()...
        record(title=..., rows=..., command=..., database_url=database_url)
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import psutil
import psycopg
from psycopg import sql

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
POSTGRES_SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "sr_bench")
# Redis DB 5 is the one reserved for benchmarks.
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")


def callgrind_instrument(*, on: bool) -> None:
    """Under `valgrind --tool=callgrind --instr-atstart=no` with BENCH_CALLGRIND=1: count
    the instructions from here (on) to here (off). Instruction counts compare two checkouts
    on a machine whose speed drifts (bench/import_ready.py, bench/flow_cpu.py)."""
    if os.environ.get("BENCH_CALLGRIND"):
        state = "on" if on else "off"
        subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=True)


def database_url(name: str = BENCH_DATABASE) -> str:
    return f"{POSTGRES_SERVER_URL}/{name}"


def _admin_connection() -> psycopg.Connection:
    return psycopg.connect(f"{POSTGRES_SERVER_URL}/postgres", autocommit=True)


def database_drop(name: str = BENCH_DATABASE) -> None:
    with _admin_connection() as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@contextlib.contextmanager
def bench_database(name: str = BENCH_DATABASE, *, keep: bool = False) -> Iterator[str]:
    """A fresh, empty database for one benchmark, dropped afterwards (unless keep)."""
    database_drop(name)
    with _admin_connection() as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield database_url(name)
    finally:
        if not keep and not os.environ.get("BENCH_KEEP_DATABASE"):
            database_drop(name)


def server_environment(database_url: str, **extra: str) -> dict[str, str]:
    """The production settings, minus what needs TLS, on 127.0.0.1 (plain HTTP)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        # Plain HTTP on the loopback: cookies must not require TLS to be sent back.
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "STATIC_MANIFEST": "false",
        "AXES_ENABLED": "false",
        "CELERY_BROKER_URL": BENCH_REDIS_URL,
        "REDIS_URL": BENCH_REDIS_URL,
        "LOG_LEVEL": "WARNING",
        "GUNICORN_ACCESS_LOG": "",  # gunicorn.conf.py: no access log
        "PYTHONPATH": str(REPO_ROOT),
    }
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=REPO_ROOT, env=env, check=True)


def migrate(env: dict[str, str]) -> None:
    manage(env, "migrate", "--noinput", "-v", "0")


def django_setup(env: dict[str, str]) -> None:
    """Set Django up in this process against the bench database (for seeding)."""
    os.environ.update({key: value for key, value in env.items() if key != "PYTHONPATH"})
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synthreports.settings")
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import django

    django.setup()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen

    def cpu_seconds(self) -> float:
        """CPU (user + system) used so far by the gunicorn master and its workers."""
        try:
            parent = psutil.Process(self.process.pid)
            return _cpu_seconds([parent, *parent.children(recursive=True)])
        except psutil.NoSuchProcess:
            return 0.0

    def rss_bytes(self) -> int:
        """Resident memory of the gunicorn master and all its workers, summed."""
        try:
            parent = psutil.Process(self.process.pid)
            processes = [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0
        total = 0
        for process in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += process.memory_info().rss
        return total


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def postgres_backend_cpu(database: str = BENCH_DATABASE) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend connected to `database` (the
    server processes running our queries), by pid. Subtract two readings with
    `cpu_delta_seconds`: a backend that ended in between is not counted."""
    with _admin_connection() as connection:
        pids = [
            row[0]
            for row in connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", [database]
            )
        ]
    readings = {}
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            readings[pid] = _cpu_seconds([psutil.Process(pid)])
    return readings


def cpu_delta_seconds(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(max(0.0, seconds - before.get(pid, 0.0)) for pid, seconds in after.items())


# The benchmark server runs gunicorn.conf.py (the shipped configuration: workers, threads,
# keep-alive, preload) from the repository root; BENCH_GUNICORN_WORKERS/THREADS override it
# for experiments, and the figures recorded say which were used.
GUNICORN_WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "0")) or None
GUNICORN_THREADS = int(os.environ.get("BENCH_GUNICORN_THREADS", "0")) or None
# gunicorn.conf.py's keep-alive; clients expire idle connections before it.
GUNICORN_KEEP_ALIVE = 10


def gunicorn_sizing() -> tuple[int, int]:
    """(workers, threads) the benchmark server runs with."""
    config: dict = {"__file__": str(REPO_ROOT / "gunicorn.conf.py")}
    exec((REPO_ROOT / "gunicorn.conf.py").read_text(), config)
    return (GUNICORN_WORKERS or config["workers"], GUNICORN_THREADS or config["threads"])


def gunicorn_command(port: int, *, workers: int | None, threads: int | None) -> list[str]:
    command = [
        PYTHON,
        "-m",
        "gunicorn",
        "synthreports.wsgi:application",
        "--config",
        str(REPO_ROOT / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    if workers:
        command += ["--workers", str(workers)]
    if threads:
        command += ["--threads", str(threads)]
    return command


@contextlib.contextmanager
def gunicorn_server(
    *,
    env: dict[str, str],
    workers: int | None = GUNICORN_WORKERS,
    threads: int | None = GUNICORN_THREADS,
    ready_path: str = "/accounts/login/",
    timeout: float = 30.0,
) -> Iterator[Server]:
    """gunicorn (the production entry point) on a free 127.0.0.1 port, stopped on exit."""
    port = free_port()
    command = gunicorn_command(port, workers=workers, threads=threads)
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with status {process.returncode}")
            try:
                if httpx.get(base_url + ready_path, timeout=2).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer on {base_url} within {timeout}s")
            time.sleep(0.2)
        yield Server(base_url=base_url, process=process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def latency_summary(samples_ms: Sequence[float], *, seconds: float) -> dict[str, float | int]:
    """Count, throughput and p50/p95/p99/max of latencies given in milliseconds."""
    if not samples_ms:
        return {
            "count": 0,
            "per_s": 0.0,
            "p50_ms": 0.0,
            "p95_ms": 0.0,
            "p99_ms": 0.0,
            "max_ms": 0.0,
        }
    values = np.asarray(samples_ms, dtype=float)
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {
        "count": int(values.size),
        "per_s": float(values.size / seconds) if seconds > 0 else 0.0,
        "p50_ms": float(p50),
        "p95_ms": float(p95),
        "p99_ms": float(p99),
        "max_ms": float(values.max()),
    }


class RssSampler:
    """Samples a memory reading (bytes) every `interval` seconds in a background thread:
    peak and series, e.g. `RssSampler(server.rss_bytes)` to show the server's memory stays
    flat while it streams an export, or `RssSampler(lambda: psutil.Process(pid).memory_info().rss)`
    for a child process computing results.

        with RssSampler(server.rss_bytes) as memory:
            ...
        memory.peak_bytes, memory.samples
    """

    def __init__(self, read: Callable[[], int], *, interval: float = 0.1) -> None:
        self.read = read
        self.interval = interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.samples.append(self.read())
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        with contextlib.suppress(psutil.Error):
            self.samples.append(self.read())

    @property
    def peak_bytes(self) -> int:
        return max(self.samples, default=0)
