"""Fixtures for tests on committed data (`transactional_db`): live servers, workers."""

import importlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection


@pytest.fixture
def roles(transactional_db) -> None:
    """The two role groups. A transactional test flushes the tables after it runs, which
    removes the groups the data migration created; put them back the same way."""
    codenames = importlib.import_module("review.migrations.0003_roles").COORDINATOR_CODENAMES
    coordinators, _ = Group.objects.get_or_create(name="coordinator")
    reviewers, _ = Group.objects.get_or_create(name="reviewer")
    coordinators.permissions.set(
        Permission.objects.filter(content_type__app_label="review", codename__in=codenames)
    )
    reviewers.permissions.set(
        Permission.objects.filter(content_type__app_label="review", codename="rate")
    )


@pytest.fixture
def plain_http_cookies(settings) -> None:
    # A live server on 127.0.0.1 speaks plain HTTP; production marks cookies Secure.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@contextmanager
def connection_killed_on_first_insert(*, table: str, name: str) -> Iterator[None]:
    """The server really closes the session: a trigger makes the backend that first inserts
    into `table` terminate itself (a sequence, not a table, counts: it survives the
    rollback). `name` keeps two such traps in one database apart."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE SEQUENCE {name}_once;
            CREATE FUNCTION {name}() RETURNS trigger AS $$
            BEGIN
                IF nextval('{name}_once') = 1 THEN
                    PERFORM pg_terminate_backend(pg_backend_pid());
                    PERFORM pg_sleep(5);
                END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER {name} BEFORE INSERT ON {table}
                FOR EACH ROW EXECUTE FUNCTION {name}();
            """
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                DROP TRIGGER IF EXISTS {name} ON {table};
                DROP FUNCTION IF EXISTS {name}();
                DROP SEQUENCE IF EXISTS {name}_once;
                """
            )
