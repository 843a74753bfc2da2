"""`docker compose up --scale worker=4` needs no other change: checked on the compose file.

A scaled service must not pin a container name or publish a host port (the second replica
could not start), and every replica must reach the same PostgreSQL and Redis services,
which hold all shared state (rows, broker queue, global rate limiter).
"""

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
    """The gunicorn settings measured in bench/ are the ones both entry points use."""
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    cmd_line = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    image_command = yaml.safe_load(cmd_line.removeprefix("CMD "))
    assert compose["services"]["web"]["command"] == image_command
    assert image_command[:2] == ["gunicorn", "synthreports.wsgi:application"]
    assert "--threads" in image_command


def test_benchmark_server_runs_the_shipped_gunicorn_settings(compose):
    from bench import harness

    def option(command, name):
        return command[command.index(name) + 1]

    shipped = compose["services"]["web"]["command"]
    benched = harness.gunicorn_command(8000, workers=3, threads=4)
    for name in ("--workers", "--threads", "--keep-alive", "--worker-tmp-dir"):
        assert option(benched, name) == option(shipped, name), name
    assert (
        int(option(shipped, "--workers")),
        int(option(shipped, "--threads")),
    ) == (harness.GUNICORN_WORKERS, harness.GUNICORN_THREADS)
