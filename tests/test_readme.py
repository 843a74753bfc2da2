"""The README's two set-up commands exist and do what they say."""

import re
import subprocess
from pathlib import Path

from django.core.management import call_command

from review.models import Assignment, Report, Study

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set-up: two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```\n(.+?)\n```", setup)


def test_readme_names_exactly_two_setup_commands():
    assert _readme_commands() == ["make demo", "make test"]


def test_makefile_has_the_readme_targets():
    result = subprocess.run(
        ["make", "-n", "demo", "test"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "scripts/demo.sh" in result.stdout
    assert "-m pytest" in result.stdout


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "\nmake test\n" in ci


def test_demo_script_migrates_and_seeds():
    script = (ROOT / "scripts" / "demo.sh").read_text(encoding="utf-8")
    assert "manage.py migrate" in script
    assert "manage.py seed_demo" in script


def test_seed_demo_creates_users_reports_and_open_study(db, capsys):
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent
    out = capsys.readouterr().out
    assert "reviewer1 / demo-pass-2026" in out
    study = Study.objects.get()
    assert study.status == "open"
    assert Report.objects.filter(source="real").count() == 6
    assert Report.objects.filter(source="synthetic").count() == 6
    assert Assignment.objects.filter(study=study).count() == 24
    assert Assignment.objects.filter(reviewer__username="reviewer1").count() == 12
    assert {r.provenance["kind"] for r in Report.objects.filter(source="real")} == {"demo-standin"}
    synthetic = Report.objects.filter(source="synthetic")
    assert {(r.provenance["kind"], r.provenance["backend"]) for r in synthetic} == {
        ("generation", "offline")
    }
