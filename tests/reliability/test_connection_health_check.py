"""The database connection's health check (synthreports/db/postgresql/base.py): a request
on a connection the server closed gets a fresh connection; a quiet connection is reused
without the `SELECT 1` round trip Django's check sends."""

import io
import select
import sys
import time

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connection
from psycopg import pq

from synthreports.db.postgresql.base import DatabaseWrapper, connection_quiet

pytestmark = pytest.mark.usefixtures("transactional_db")


def _other_connection() -> psycopg.Connection:
    """A second session on the test database, as an administrator would open one."""
    return psycopg.connect(**connection.get_connection_params(), autocommit=True)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _wait_readable(raw: psycopg.Connection) -> None:
    """Until the server's word (FATAL, then the end of the stream) reaches the socket."""
    poller = select.poll()
    poller.register(raw.fileno(), select.POLLIN)
    assert poller.poll(5000), "the terminated backend said nothing within 5 s"


def _request_with_unknown_token() -> int:
    """One API request through Django's WSGI handler, as gunicorn hands it over: its token
    lookup is the request's first query (401 for a token nobody holds)."""
    answer: dict = {}

    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        answer["status"] = int(status.split()[0])

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/api/v1/me/queue/",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "HTTP_AUTHORIZATION": "Token " + "0" * 40,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }
    b"".join(WSGIHandler()(environ, start_response))
    return answer["status"]


def test_the_backend_is_this_projects_with_health_checks_on():
    from django.db import connections

    assert isinstance(connections["default"], DatabaseWrapper)
    assert connection.settings_dict["ENGINE"] == "synthreports.db.postgresql"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_a_request_on_a_terminated_connection_gets_a_new_one():
    assert _request_with_unknown_token() == 401
    old_pid = _backend_pid()
    raw = connection.connection
    with _other_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [old_pid])
    _wait_readable(raw)
    assert not connection_quiet(raw)

    # Without a health check this request's first query fails on the dead connection: 500.
    assert _request_with_unknown_token() == 401
    assert _backend_pid() != old_pid


def test_a_quiet_connection_is_reused_without_a_query():
    close_old_connections()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'health-check-marker'")
    pid = _backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'last-before-the-check'")
    assert connection_quiet(connection.connection)

    close_old_connections()  # what every request starts with: the next cursor checks
    connection.cursor().close()
    assert connection.health_check_done is True

    with _other_connection() as admin:
        last = admin.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    # Django's own check would have sent SELECT 1, and pg_stat_activity would name it.
    assert last == ("SELECT 'last-before-the-check'",)
    assert _backend_pid() == pid


def test_an_open_transaction_is_not_quiet():
    with _other_connection() as raw:
        assert connection_quiet(raw)
        raw.execute("BEGIN")
        assert raw.info.transaction_status == pq.TransactionStatus.INTRANS
        assert not connection_quiet(raw)
        raw.execute("ROLLBACK")
        assert connection_quiet(raw)


def test_a_message_waiting_on_the_socket_is_not_quiet():
    with _other_connection() as listener, _other_connection() as sender:
        listener.execute("LISTEN synthreports_health_check")
        assert connection_quiet(listener)
        sender.execute("NOTIFY synthreports_health_check")
        deadline = time.monotonic() + 5
        while connection_quiet(listener) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not connection_quiet(listener)


def test_a_closed_or_broken_connection_is_not_quiet():
    raw = _other_connection()
    raw.close()
    assert not connection_quiet(raw)
