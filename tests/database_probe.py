"""Loaded by pytest (`-p tests.database_probe`) before Django reads its settings.

Tests run on PostgreSQL. When DATABASE_URL is not set, use the local server at
127.0.0.1:5432 if it answers; under CI (CI=true) an unreachable server fails the run
instead of silently falling back; elsewhere fall back to SQLite with a printed notice.
"""

import os
import socket
import sys

import pytest

DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/synthreports"


def _postgres_answers(host: str = "127.0.0.1", port: int = 5432) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _choose_database() -> None:
    if os.environ.get("DATABASE_URL"):
        return
    if _postgres_answers():
        os.environ["DATABASE_URL"] = DEFAULT_TEST_DATABASE_URL
        return
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        raise pytest.UsageError(
            "CI=true and PostgreSQL at 127.0.0.1:5432 is unreachable: the suite must run on "
            "PostgreSQL. Start it (see .ci/run) or set DATABASE_URL."
        )
    print(
        "NOTICE: PostgreSQL at 127.0.0.1:5432 is unreachable; running the tests on SQLite.",
        file=sys.stderr,
    )
    os.environ["DATABASE_URL"] = "sqlite:///:memory:"


_choose_database()
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("AXES_ENABLED", "false")
# Production hardening stays on (DEBUG off) except what needs TLS or collectstatic.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("STATIC_MANIFEST", "false")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
