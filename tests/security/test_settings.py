"""Production settings: deploy checks, secrets only from the environment, login throttling."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, **env):
    clean = {
        k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL"}
    }
    clean.update({"DATABASE_URL": "sqlite:////tmp/synthreports-check.sqlite3", **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_deploy_clean_with_production_settings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="k" * 20 + "-production-like-secret-value-0123456789",
        ALLOWED_HOSTS="synthreports.example.org",
        SECURE_SSL_REDIRECT="true",
        STATIC_MANIFEST="true",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_startup_refuses_users_kept_in_one_process_s_memory():
    # Each gunicorn worker would keep its own copy, which another's change cannot forget.
    result = _manage("check", DEBUG="true", CACHE_BACKEND="locmem", USER_CACHE_SECONDS="60")
    assert result.returncode == 1
    assert "USER_CACHE_SECONDS needs CACHE_BACKEND=redis or database." in result.stderr
    result = _manage("check", DEBUG="true", CACHE_BACKEND="locmem", USER_CACHE_SECONDS="0")
    assert result.returncode == 0, result.stderr


def test_startup_refuses_missing_secret_key_outside_debug():
    result = _manage("check", DEBUG="false")
    assert result.returncode == 1
    assert "SECRET_KEY is not set" in result.stderr


def test_secret_key_read_from_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG\n")
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        SECRET_KEY_FILE=str(secret),
    )
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip().splitlines()[-1]
        == "from-a-file-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG"
    )


def test_malformed_boolean_setting_stops_startup():
    result = _manage("check", DEBUG="perhaps")
    assert result.returncode == 1
    assert "DEBUG='perhaps' is not a boolean" in result.stderr


def test_production_cookies_secure_and_hsts(settings):
    from django.conf import settings as live

    assert live.SESSION_COOKIE_SECURE is True
    assert live.CSRF_COOKIE_SECURE is True
    assert live.SECURE_HSTS_SECONDS == 31536000
    assert live.SESSION_COOKIE_HTTPONLY is True


@pytest.mark.django_db
def test_login_locked_after_repeated_failures(client, reviewer):
    with override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3):
        statuses = [
            client.post(
                reverse("login"), {"username": reviewer.username, "password": "wrong"}
            ).status_code
            for _ in range(3)
        ]
        # The third failure reaches the limit and is answered with the lockout page.
        assert statuses == [200, 200, 429]
        locked = client.post(
            reverse("login"), {"username": reviewer.username, "password": PASSWORD}
        )
        assert locked.status_code == 429
        assert not client.session.get("_auth_user_id")


def test_session_expires(settings):
    from django.conf import settings as live

    assert live.SESSION_COOKIE_AGE == 8 * 3600


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [
        (None, "{'server_side_binding': True, 'prepare_threshold': 5}"),
        ("2", "{'server_side_binding': True, 'prepare_threshold': 2}"),
        ("0", "{}"),
    ],
)
def test_postgresql_prepared_statements_follow_the_environment(threshold, expected):
    env = {"DEBUG": "true", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused"}
    if threshold is not None:
        env["DATABASE_PREPARE_THRESHOLD"] = threshold
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])",
        **env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected


def test_negative_prepare_threshold_is_refused():
    result = _manage(
        "check",
        DEBUG="true",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/unused",
        DATABASE_PREPARE_THRESHOLD="-1",
    )
    assert result.returncode == 1
    assert "DATABASE_PREPARE_THRESHOLD" in result.stderr
