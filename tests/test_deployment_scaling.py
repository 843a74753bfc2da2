"""`docker compose up --scale worker=4` needs no other change: checked on the compose file.

A scaled service must not pin a container name or publish a host port (the second replica
could not start), and every replica must reach the same PostgreSQL and Redis services,
which hold all shared state (rows, broker queue, global rate limiter).
"""

import gc
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_worker_service_can_be_scaled(compose):
    worker = compose["services"]["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker
    assert worker["command"][:4] == ["celery", "-A", "synthreports", "worker"]


def test_worker_replicas_share_database_broker_and_limiter(compose):
    worker = compose["services"]["worker"]
    environment = worker["environment"]
    assert environment["DATABASE_URL"].split("@", 1)[1] == "db:5432/synthreports"
    assert environment["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert environment["REDIS_URL"] == "redis://redis:6379/1"
    # Replicas start once the schema is migrated, and the migration once both stores are up.
    assert set(worker["depends_on"]) == {"migrate"}
    assert set(compose["services"]["migrate"]["depends_on"]) == {"db", "redis"}
    # Nothing stateful lives in a worker container: only the shared named volume.
    assert worker["volumes"] == ["media:/app/media"]


def test_only_the_web_service_publishes_a_port(compose):
    published = {name for name, service in compose["services"].items() if "ports" in service}
    assert published == {"web"}
    assert not any("container_name" in service for service in compose["services"].values())


def test_web_command_matches_the_image_default(compose):
    """Both entry points run gunicorn with gunicorn.conf.py from the image's /app."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    cmd_line = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    image_command = yaml.safe_load(cmd_line.removeprefix("CMD "))
    assert compose["services"]["web"]["command"] == image_command
    assert image_command == ["gunicorn", "synthreports.wsgi:application"]
    assert "WORKDIR /app" in dockerfile.splitlines()
    assert "COPY . ." in dockerfile.splitlines()  # gunicorn.conf.py lands in /app


def test_gunicorn_configuration_is_the_one_benchmarked(monkeypatch):
    """gunicorn.conf.py: threaded workers, preloaded (warm) application, sized by the
    environment; the benchmark server passes that file and, by default, no override."""
    from bench import harness

    monkeypatch.delenv("GUNICORN_WORKERS", raising=False)
    monkeypatch.delenv("GUNICORN_THREADS", raising=False)
    config: dict = {}
    exec((ROOT / "gunicorn.conf.py").read_text(encoding="utf-8"), config)
    assert (config["worker_class"], config["preload_app"], config["keepalive"]) == (
        "gthread",
        True,
        harness.GUNICORN_KEEP_ALIVE,
    )
    assert (config["workers"], config["threads"], config["bind"]) == (4, 2, "0.0.0.0:8000")
    monkeypatch.setenv("GUNICORN_WORKERS", "9")
    monkeypatch.setenv("GUNICORN_THREADS", "3")
    resized: dict = {}
    exec((ROOT / "gunicorn.conf.py").read_text(encoding="utf-8"), resized)
    assert (resized["workers"], resized["threads"]) == (9, 3)

    # The master freezes the preloaded objects before each fork (no long GC pauses in workers).
    before = gc.get_freeze_count()
    try:
        config["pre_fork"](None, None)
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()

    benched = harness.gunicorn_command(8000, workers=None, threads=None)
    assert benched[benched.index("--config") + 1] == str(ROOT / "gunicorn.conf.py")
    assert "--workers" not in benched and "--threads" not in benched


@pytest.mark.parametrize("value", ["abc", "0", "-2", "1.5"])
def test_gunicorn_sizing_refuses_a_bad_number_with_a_clear_message(monkeypatch, value):
    monkeypatch.setenv("GUNICORN_THREADS", value)
    with pytest.raises(SystemExit) as refused:
        exec((ROOT / "gunicorn.conf.py").read_text(encoding="utf-8"), {})
    assert str(refused.value) == (
        f"GUNICORN_THREADS must be a whole number of at least 1, not {value!r}"
    )


def test_beat_writes_its_schedule_where_the_image_user_may_write():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    command = compose["services"]["beat"]["command"]
    assert command[:4] == ["celery", "-A", "synthreports", "beat"]
    assert "--schedule=/tmp/celerybeat-schedule" in command
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "USER synthreports" in dockerfile  # /app belongs to root
