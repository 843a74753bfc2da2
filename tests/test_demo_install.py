"""`make demo` installs what running the app needs and nothing of the development extras;
`make test` still gets them. Read from the Makefile (through make's dry run, so included
prerequisites count) and pyproject.toml."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    """The distribution name of a requirement, normalised as PEP 503 does."""
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _dry_run(target: str) -> list[str]:
    # -B: as on a machine without .venv, so every install step of the target is listed.
    result = subprocess.run(
        ["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout.splitlines()


def test_demo_installs_the_runtime_dependencies_only():
    installs = [line for line in _dry_run("demo") if "pip install" in line]
    assert installs == [
        ".venv/bin/python scripts/requirements.py runtime"
        " | .venv/bin/python -m pip install --quiet --no-compile -r /dev/stdin"
    ]
    listed = subprocess.run(
        [sys.executable, "scripts/requirements.py", "runtime"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert listed == _project()["dependencies"]


def test_demo_dry_run_names_no_development_extra():
    dev = {_name(requirement) for requirement in _project()["optional-dependencies"]["dev"]}
    assert {"pytest", "mypy", "ruff", "playwright", "schemathesis", "statsmodels"} <= dev
    text = "\n".join(_dry_run("demo")).lower()
    assert "[dev]" not in text
    assert [name for name in sorted(dev) if re.search(rf"\b{re.escape(name)}\b", text)] == []


def test_no_development_extra_is_a_runtime_dependency():
    project = _project()
    runtime = {_name(requirement) for requirement in project["dependencies"]}
    dev = {_name(requirement) for requirement in project["optional-dependencies"]["dev"]}
    assert runtime & dev == set()
    assert {"django", "celery", "gunicorn", "whitenoise"} <= runtime


def test_make_test_installs_the_development_extras():
    assert '.venv/bin/python -m pip install --quiet -e ".[dev]"' in _dry_run("test")


def test_demo_script_runs_without_debug_and_collects_static():
    script = (ROOT / "scripts" / "demo.sh").read_text(encoding="utf-8")
    assert "export DEBUG=false" in script
    assert "DEBUG=true" not in script
    assert "manage.py collectstatic --noinput" in script
    # The logins come last and are kept in a file.
    assert script.rstrip().splitlines()[-3:] == [
        "cat var/demo-logins.txt",
        'echo "(also in var/demo-logins.txt; logs in var/demo-web.log, var/demo-worker.log)'
        ' Press Ctrl-C to stop."',
        "wait $WEB",
    ]


def test_readme_documents_the_demo_port_logins_file_and_email_settings():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`PORT=8080 make demo`" in readme
    assert "`var/demo-logins.txt`" in readme
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in ("EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD"):
        assert f"\n{name}=" in example
        assert f"`{name}`" in readme


def test_seed_demo_prints_every_login_and_makes_an_admin_superuser(db, capsys):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("seed_demo")
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if re.match(r"^  [a-z]+:", line)] == [
        "  admin:       admin / demo-pass-2026 (superuser, for /admin/)",
        "  coordinator: coordinator / demo-pass-2026 (studies, People page)",
        "  reviewers:   reviewer1 / demo-pass-2026, reviewer2 / demo-pass-2026",
    ]
    admin = get_user_model().objects.get(username="admin")
    assert (admin.is_superuser, admin.is_staff, admin.check_password("demo-pass-2026")) == (
        True,
        True,
        True,
    )
    assert list(admin.groups.all()) == []
    assert get_user_model().objects.get(username="reviewer1").email == "reviewer1@demo.example"
