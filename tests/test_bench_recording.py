"""The benchmark plumbing that does not need a server: tables, the results file, discovery."""

import datetime as dt

from bench import run_all
from bench.recording import RESULTS_HEADER, markdown_table, record


def test_markdown_table_formats_numbers_and_escapes_pipes():
    table = markdown_table(
        [{"operation": "save", "p95_ms": 12.345, "per_s": 3.14159, "note": "a|b"}]
    )
    assert table == (
        "| operation | p95_ms | per_s | note |\n|---|---|---|---|\n| save | 12.3 | 3.14 | a\\|b |\n"
    )


def test_markdown_table_without_rows():
    assert markdown_table([]) == "_(no rows)_\n"


def test_record_appends_dated_sections_to_the_results_file(tmp_path):
    path = tmp_path / "RESULTS.md"
    when = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
    record(title="First", rows=[{"n": 1}], command="cmd one", path=path, now=when)
    record(title="Second", rows=[{"n": 2}], command="cmd two", notes="fine", path=path, now=when)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(RESULTS_HEADER)
    assert text.count("## First — 2026-01-02 03:04 UTC") == 1
    assert text.index("## First") < text.index("## Second")
    assert "Command: `cmd two`" in text
    assert "| 2 |" in text
    assert text.rstrip().endswith("fine")
    machine_lines = [line for line in text.splitlines() if line.startswith("Machine: ")]
    assert len(machine_lines) == 2
    assert "Cores " in machine_lines[0] and "Load average" in machine_lines[0]


def test_run_all_discovers_bench_scripts_and_filters_by_name():
    names = [path.name for path in run_all.discover([])]
    assert "bench_rating.py" in names
    assert all(name.startswith("bench_") for name in names)
    assert [path.name for path in run_all.discover(["rating"])] == ["bench_rating.py"]
    assert run_all.discover(["no-such-bench"]) == []


def test_run_all_reports_a_failing_script_and_still_runs_the_others(tmp_path, capsys):
    bench_dir = tmp_path / "bench"
    bench_dir.mkdir()
    (bench_dir / "bench_a_fails.py").write_text("import sys\nsys.exit(3)\n")
    (bench_dir / "bench_b_works.py").write_text(
        "from pathlib import Path\nPath('ran.txt').write_text('yes')\n"
    )
    assert run_all.main([], bench_dir=bench_dir) == 1
    assert (tmp_path / "ran.txt").read_text() == "yes"
    summary = capsys.readouterr().out.split("Summary:", 1)[1]
    assert "bench_a_fails.py" in summary and "failed (exit 3)" in summary
    assert "bench_b_works.py" in summary and " ok " in summary
