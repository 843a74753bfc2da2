"""Run every bench/bench_*.py script in turn (`make bench`).

Each script is a standalone program with a main() that prints its figures and appends them
to bench/RESULTS.md. A script that fails, times out or cannot run is reported and the others
still run; the exit status is non-zero if any failed.

    python bench/run_all.py               # all of them
    python bench/run_all.py rating export # only bench_rating.py and bench_export.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
# A bound on each script, so `make bench` always ends.
SCRIPT_TIMEOUT_SECONDS = int(os.environ.get("BENCH_SCRIPT_TIMEOUT", "1800"))


def discover(selected: list[str], bench_dir: Path = BENCH_DIR) -> list[Path]:
    scripts = sorted(bench_dir.glob("bench_*.py"))
    if selected:
        wanted = {name.removeprefix("bench_").removesuffix(".py") for name in selected}
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in wanted]
    return scripts


def run(script: Path) -> tuple[str, float]:
    started = time.monotonic()
    try:
        completed = subprocess.run(
            [sys.executable, str(script)],
            cwd=script.parent.parent,
            timeout=SCRIPT_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"timed out after {SCRIPT_TIMEOUT_SECONDS}s", time.monotonic() - started
    except OSError as exc:
        return f"could not start: {exc}", time.monotonic() - started
    status = "ok" if completed.returncode == 0 else f"failed (exit {completed.returncode})"
    return status, time.monotonic() - started


def main(argv: list[str] | None = None, bench_dir: Path = BENCH_DIR) -> int:
    selected = sys.argv[1:] if argv is None else argv
    scripts = discover(selected, bench_dir)
    if not scripts:
        print(f"No benchmark matches {selected!r} in {bench_dir}.", file=sys.stderr)
        return 2
    outcomes = []
    for script in scripts:
        print(f"=== {script.name}", flush=True)
        status, seconds = run(script)
        outcomes.append((script.name, status, seconds))
        print(f"=== {script.name}: {status} in {seconds:.0f}s", flush=True)
    print("\nSummary:")
    for name, status, seconds in outcomes:
        print(f"  {name:<28} {status:<28} {seconds:7.0f}s")
    return 0 if all(status == "ok" for _name, status, _s in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
