"""Summarise one side-by-side run (run_side_by_side.sh's output folder) as Markdown.

CPU per rated item = CPU of the app's gunicorn tree + CPU of the PostgreSQL backends of its own
database during the rate phase, divided by the items submitted in it (less sensitive to other
work on the machine than latencies, which are also shown with the load average).
"""

import json
import sys
from pathlib import Path


def row(adapter: str, cycle: str, data: dict) -> list[str]:
    lines = []
    for run in data.get("runs", []):
        if run.get("phase") != "rate":
            continue
        ops = {op["op"]: op for op in run["ops"]}
        nxt, sub = ops.get("next_item", {}), ops.get("submit_6_ratings", {})
        cpu = run.get("cpu", {})
        server = cpu.get("server_cpu_s") or 0.0
        db = cpu.get("pg_own_backends_cpu_s") or 0.0
        items = sub.get("n_ok") or 0
        per_item = f"{1000 * (server + db) / items:.1f}" if items else "–"
        lines.append(
            f"| {adapter} | {cycle} | {run['concurrency']} | {items} | "
            f"{nxt.get('p50_ms')} / {nxt.get('p95_ms')} | {sub.get('p50_ms')} / {sub.get('p95_ms')} | "
            f"{nxt.get('errors', 0) + sub.get('errors', 0)} | {per_item} | "
            f"{1000 * server / items if items else 0:.1f} + {1000 * db / items if items else 0:.1f} | "
            f"{cpu.get('loadavg_start')} |"
        )
    return lines


def main() -> int:
    out = Path(sys.argv[1])
    print(
        "| app (adapter) | cycle | raters | items | next p50 / p95 ms | submit p50 / p95 ms "
        "| errors | server+DB CPU ms per item | server + DB | load avg at start |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    extras = []
    for path in sorted(out.glob("*.json")):
        if "raters" in path.name:
            continue
        adapter, _, cycle = path.stem.rpartition("-")
        data = json.loads(path.read_text())
        for line in row(adapter, cycle, data):
            print(line)
        setup, export = data.get("setup"), data.get("export")
        if setup:
            extras.append(
                f"- {adapter} {cycle}: import of {setup['items']} reports to ready-to-rate "
                f"{setup['import_s']} s ({setup['items_per_s']}/s); steps "
                f"{json.dumps((setup.get('server_reply') or {}).get('steps', {}))}"
            )
        if export:
            extras.append(
                f"- {adapter} {cycle}: CSV export of {export['csv_rows']} rows in {export['export_s']} s"
            )
    print()
    print("\n".join(extras))
    return 0


if __name__ == "__main__":
    sys.exit(main())
