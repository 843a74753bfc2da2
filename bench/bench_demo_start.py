"""Cold start of `make demo`: seconds from the command to the login page answering 200.

Copies the checkout's tracked files into a fresh temporary folder (no .venv, no database,
no collected static files: what a new user has after cloning), runs `make demo` there on a
free port and polls /accounts/login/. Two runs by default:

- "no pip cache" (PIP_NO_CACHE_DIR=1): every wheel downloaded from PyPI, the first install
  on a new machine;
- "pip cache warm": the same wheels from pip's cache (a second clone, or after `make clean`).

The install step is timed apart (until `.venv/.runtime` appears). Target: under 90 s to the
login page on 2 cores. Never a timed test: network speed and machine load vary.

    .venv/bin/python bench/bench_demo_start.py [--runs no-cache,warm]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.recording import REPO_ROOT, record

TARGET_SECONDS = 90.0
LIMIT_SECONDS = 600.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _copy_checkout(destination: Path) -> None:
    """The tracked files as they are in the working tree (a clone, without .git)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        relative = raw.decode()
        source = REPO_ROOT / relative
        if not source.is_file():
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def _login_page_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def run_once(*, label: str, pip_cache: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="synth-demo-bench-") as folder:
        checkout = Path(folder) / "synthreports"
        _copy_checkout(checkout)
        port = _free_port()
        env = {**os.environ, "PORT": str(port)}
        for name in ("DATABASE_URL", "DEBUG", "SECRET_KEY", "CELERY_BROKER_URL", "VIRTUAL_ENV"):
            env.pop(name, None)
        if not pip_cache:
            env["PIP_NO_CACHE_DIR"] = "1"
        log_path = Path(folder) / "make-demo.log"
        started = time.monotonic()
        installed_at = None
        with log_path.open("w") as log:
            # Its own session, so the whole demo (make, gunicorn, worker) is stopped at the end.
            demo = subprocess.Popen(
                ["make", "demo"],
                cwd=checkout,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                url = f"http://127.0.0.1:{port}/accounts/login/"
                while True:
                    elapsed = time.monotonic() - started
                    if installed_at is None and (checkout / ".venv" / ".runtime").exists():
                        installed_at = elapsed
                    if _login_page_answers(url):
                        break
                    if demo.poll() is not None or elapsed > LIMIT_SECONDS:
                        raise SystemExit(
                            f"{label}: make demo stopped or took over {LIMIT_SECONDS:.0f} s:\n"
                            + log_path.read_text()[-3000:]
                        )
                    time.sleep(0.25)
                total = time.monotonic() - started
                # The last lines printed are the URL and the logins, a moment after the page.
                time.sleep(1.5)
            finally:
                if demo.poll() is None:
                    os.killpg(demo.pid, signal.SIGTERM)
                    demo.wait(timeout=30)
        last_line_ok = "reviewer1" in (checkout / "var" / "demo-logins.txt").read_text()
        site_packages = sorted(
            p.name.split("-")[0].lower()
            for p in (checkout / ".venv" / "lib").glob("python3*/site-packages/*.dist-info")
        )
    return {
        "run": label,
        "install_s": round(installed_at or 0.0, 1),
        "to_login_page_s": round(total, 1),
        "target": f"< {TARGET_SECONDS:.0f} s",
        "met": "yes" if total < TARGET_SECONDS else "no",
        "packages": len(site_packages),
        "pytest_installed": "yes" if "pytest" in site_packages else "no",
        "logins_file": "yes" if last_line_ok else "no",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="no-cache,warm")
    args = parser.parse_args()
    runs = [name.strip() for name in args.runs.split(",") if name.strip()]
    rows = []
    for name in runs:
        if name not in ("no-cache", "warm"):
            parser.error(f"unknown run {name!r} (no-cache, warm)")
        label = "no pip cache" if name == "no-cache" else "pip cache warm"
        rows.append(run_once(label=label, pip_cache=name == "warm"))
        print(rows[-1], flush=True)
    record(
        title="Demo start-up (bench_demo_start)",
        rows=rows,
        command=f".venv/bin/python bench/bench_demo_start.py --runs {','.join(runs)}",
        notes=(
            "From `make demo` in a fresh copy of the tracked files (no .venv, no database) to "
            "/accounts/login/ answering 200. install_s: until `.venv/.runtime` (pip install of "
            "the runtime dependencies only); the rest is migrate, collectstatic, seed_demo "
            "(offline generation of 4 reports) and gunicorn + worker start. 'packages' counts "
            "the installed distributions; pytest_installed must be 'no'. Download speed from "
            "PyPI dominates the no-cache run."
        ),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
