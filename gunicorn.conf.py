"""gunicorn settings of the web process. gunicorn reads this file from its working
directory, so the Dockerfile, docker-compose.yml and the benchmarks (bench/harness.py) all
run the same configuration; command-line options override it.

Sized for the reference machine (2 cores): see the rating-flow figures in bench/RESULTS.md
and "Scaling" in the README before changing the defaults.
"""

import gc
import os


def _count(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip() or str(default)
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = "gthread"
# A request spends about half its time waiting for PostgreSQL: a second thread per process
# uses that wait, more threads mostly queue on the GIL.
workers = _count("GUNICORN_WORKERS", 4)
threads = _count("GUNICORN_THREADS", 2)
# Load the application (and synthreports.warmup) once, before forking: workers start warm
# and share the imported code's memory. New code then needs a restart, not a HUP.
preload_app = True
# Longer than gunicorn's 2 s default: under overload a worker's loop can be late, and with
# 2 s it closed kept-alive connections that already carried the next request. Clients
# (proxies, the benchmarks) must expire idle connections sooner than this.
keepalive = 10
# The heartbeat files live in memory: a slow container disk must not make gunicorn think
# a worker is stuck.
worker_tmp_dir = "/dev/shm"  # noqa: S108 (gunicorn heartbeat files, not data)
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None


def pre_fork(server, worker) -> None:
    """Move everything the preloaded application created (~260,000 objects: Django, pandas,
    SciPy…) out of the garbage collector's reach before forking. A worker's full collection
    then scans only its own objects: it took ~120 ms with them, a pause the physician whose
    click landed on it waited through. It also keeps the shared pages shared (the collector
    no longer writes to them)."""
    gc.freeze()
