"""Append benchmark figures to bench/RESULTS.md with the machine they were measured on.

Every bench script ends with one call to `record(...)`: a dated Markdown section holding the
command that reproduces the figures, the machine description and a table. Figures are only
comparable on the same machine, so the description travels with them.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_PATH = REPO_ROOT / "bench" / "RESULTS.md"
RESULTS_HEADER = (
    "# Benchmark results\n\n"
    "Appended by the scripts in `bench/` (`make bench`, or one script: "
    "`.venv/bin/python bench/bench_<name>.py`). Newest sections last.\n"
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _git_commit() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            # The results file itself is not a change to the code measured.
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":!bench/RESULTS.md",
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}{' (uncommitted changes)' if dirty else ''}"


def _postgres_version(database_url: str | None) -> str:
    if not database_url:
        return "n/a"
    try:
        import psycopg

        with psycopg.connect(database_url, connect_timeout=3) as connection:
            row = connection.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "unknown"
    except Exception as exc:  # the description must never make a benchmark fail
        return f"unavailable ({type(exc).__name__})"


def machine_description(*, database_url: str | None = None) -> dict[str, str]:
    """CPU, cores, RAM and software versions, as shown at the top of each recorded section."""
    import django

    return {
        "CPU": _cpu_model(),
        "Cores": str(os.cpu_count() or "unknown"),
        "RAM": _ram_gib(),
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "PostgreSQL": _postgres_version(database_url),
        "Commit": _git_commit(),
        # Other work on the machine inflates every latency: say how busy it was.
        "Load average (1/5/15 min)": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _cell(value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A GitHub Markdown table; columns default to the keys of the first row, in order."""
    if not rows:
        return "_(no rows)_\n"
    columns = list(columns or rows[0].keys())
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    lines.extend("| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |" for row in rows)
    return "\n".join(lines) + "\n"


def record(
    *,
    title: str,
    rows: Sequence[Mapping[str, Any]],
    command: str,
    columns: Sequence[str] | None = None,
    notes: str = "",
    database_url: str | None = None,
    path: Path = RESULTS_PATH,
    now: dt.datetime | None = None,
) -> str:
    """Print the figures and append them as one dated section to RESULTS.md; returns the text.

    `command` is what reproduces the figures; `notes` says what was measured and how (load
    model, sizes, targets met or missed). `database_url` (any database on the server under
    test) is only used to read the PostgreSQL version.
    """
    when = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    machine = machine_description(database_url=database_url)
    section = [
        f"\n## {title} — {when}\n",
        f"Command: `{command}`\n",
        "Machine: " + "; ".join(f"{key} {value}" for key, value in machine.items()) + "\n",
        markdown_table(rows, columns),
    ]
    if notes:
        section.append(notes.strip() + "\n")
    text = "\n".join(section)
    if not path.exists():
        path.write_text(RESULTS_HEADER, encoding="utf-8")
    with path.open("a", encoding="utf-8") as results:
        results.write(text)
    print(text)
    return text
